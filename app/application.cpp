// Service lifecycle. Signals are blocked before any thread starts (main's first line) and taken
// by sigwait here, so no thread is ever interrupted by them nor killed by their default action.
#include "app/application.hpp"

#include "actors/core.hpp"
#include "app/accounts.hpp"
#include "app/database.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "observability/log.hpp"
#include "observability/process_metrics.hpp"
#include "persistence/migrator.hpp"
#include "persistence/session.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <pthread.h>
#include <thread>

namespace eventhub::app {
namespace {

/// Takes the stop signals after the first one while the service stops: the first of them ends
/// the wait for requests in flight, later ones are logged and ignored. Nothing here ends the
/// process early: the actors still drain and the embedded PostgreSQL is still stopped.
class later_stop_signals {
 public:
  later_stop_signals(const sigset_t& set, http::server& server)
      : set_(set), thread_([this, &server] { take(server); }) {}
  ~later_stop_signals() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM); // blocked, so it only ends the sigwait
    thread_.join();
  }
  later_stop_signals(const later_stop_signals&) = delete;
  later_stop_signals& operator=(const later_stop_signals&) = delete;

 private:
  void take(http::server& server) {
    for (bool hurried = false;;) {
      int signal_number = 0;
      if (sigwait(&set_, &signal_number) != 0 || done_)
        return;
      if (!hurried) {
        log::warn("service.stopping_now",
                  {{"signal", signal_number}, {"effect", "requests in flight are not waited for"}});
        server.stop_waiting();
        hurried = true;
      } else {
        log::warn("service.stop_signal_ignored", {{"signal", signal_number}});
      }
    }
  }

  const sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

http::server_options server_options(const config::settings& s) {
  http::server_options o;
  o.host = s.http_host;
  o.port = static_cast<std::uint16_t>(s.http_port);
  o.threads = s.http_threads;
  o.max_connections = s.http_max_connections;
  o.read_timeout = s.http_read_timeout;
  o.idle_timeout = s.http_idle_timeout;
  o.request_timeout = s.http_request_timeout;
  o.max_header_bytes = static_cast<std::size_t>(s.http_max_header_bytes);
  return o;
}

/// Swagger UI's files; the service runs without them, /swagger-ui/ then answers 404.
std::shared_ptr<const http::swagger_ui_files> load_swagger_ui(const std::string& dir) {
  auto files = http::swagger_ui_files::load(dir);
  if (!files->missing().empty()) {
    std::string names;
    for (const auto& name : files->missing())
      names += (names.empty() ? "" : ",") + name;
    log::warn("docs.swagger_ui_incomplete", {{"dir", dir}, {"missing", names}});
  }
  return files;
}

void write_port_file(const std::string& path, std::uint16_t port) {
  if (path.empty())
    return;
  const std::string tmp = path + ".tmp";
  { std::ofstream(tmp) << port << "\n"; }
  std::rename(tmp.c_str(), path.c_str()); // readers never see a half-written file
}

int serve(const config::settings& configured, const sigset_t& stop_signals) {
  metrics::register_process_metrics();
  database db = open_database(configured);
  const config::settings s = with_secret(configured, db);
  ensure_first_admin(s, db.conninfo);

  auto tokens = std::make_shared<const security::token_service>(
      s.jwt_secret, s.jwt_issuer, std::chrono::duration_cast<std::chrono::seconds>(s.jwt_ttl));
  actors::core core(s, db.conninfo, tokens);

  http::handler_context context{core.services(), s.purchase_max_per_order,
                                load_swagger_ui(s.docs_swagger_ui_dir), s.event_default_currency};
  auto auth = std::make_shared<http::authenticator>(tokens, context.services.participants);
  const http::router router(http::make_routes(context), auth, s.http_trusted_proxies);
  http::server server(server_options(s),
                      [&router](http::request req, http::respond_fn respond, http::post_fn post) {
                        router.dispatch(std::move(req), std::move(respond), std::move(post));
                      });
  const auto port = server.start();
  write_port_file(s.http_port_file, port);
  log::info("http.listening",
            {{"host", s.http_host},
             {"port", static_cast<int>(port)},
             {"purchase_mode",
              s.purchase_mode == config::purchase_mode::actor ? "actor" : "lock-per-request"}});

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log::info("service.stopping", {{"signal", signal_number}});
  {
    later_stop_signals later(stop_signals, server);
    server.stop(s.http_request_timeout); // stop accepting; finish requests in flight
    core.stop();                         // actors exit; queued database work drained
  }
  log::info("service.stopped");
  return 0; // ~database stops the embedded PostgreSQL (signals now stay pending, harmless)
}

} // namespace

sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  struct sigaction hangup {};
  if (sigaction(SIGHUP, nullptr, &hangup) == 0 && hangup.sa_handler != SIG_IGN)
    sigaddset(&set, SIGHUP); // the terminal closed: a clean stop, not a PostgreSQL left behind
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

int run_service(const config::settings& s, const sigset_t& stop_signals) {
  // Every failure unwinds (catch-all included) so that ~database stops the embedded server.
  try {
    return serve(s, stop_signals);
  } catch (const persistence::migration_error& e) {
    log::error("service.refused_to_start", {{"reason", e.what()}});
  } catch (const std::exception& e) {
    log::error("service.failed_to_start", {{"reason", persistence::loggable_error(e)}});
  } catch (...) {
    log::error("service.failed_to_start", {{"reason", "unknown exception"}});
  }
  log::flush();
  return 1;
}

} // namespace eventhub::app
