// The listener: accepts connections (closing those beyond the cap at once) and owns the
// io_context and its threads.
#include "http/server.hpp"

#include "http/session.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <stdexcept>
#include <thread>
#include <vector>

namespace eventhub::http {
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct server::impl {
  impl(server_options options, request_handler handler)
      : state(std::make_shared<server_state>()), acceptor(net::make_strand(ioc)) {
    state->options = std::move(options);
    state->handler = std::move(handler);
  }

  void accept() {
    // A strand per connection only when several threads run the io_context: with one, the
    // thread itself serialises a session's handlers and a strand would only cost time.
    auto executor = state->options.threads > 1 ? net::any_io_executor(net::make_strand(ioc))
                                               : net::any_io_executor(ioc.get_executor());
    acceptor.async_accept(executor, [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open())
        return;
      if (!ec) {
        if (state->connections.load() >= state->options.max_connections || state->stopping) {
          boost::system::error_code ignored;
          socket.close(ignored);
          refused.inc();
        } else {
          std::make_shared<session>(std::move(socket), state)->start();
        }
      }
      accept();
    });
  }

  net::io_context ioc;
  std::shared_ptr<server_state> state;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  bool started = false, stopped = false;
  std::atomic<bool> stop_waiting{false};
  metrics::counter& refused = metrics::registry::global().get_counter(
      "eventhub_http_connections_refused_total",
      "Connections closed at once: over http.max-connections");
};

server::server(server_options options, request_handler handler)
    : impl_(std::make_unique<impl>(std::move(options), std::move(handler))) {}

server::~server() {
  stop(std::chrono::milliseconds{0});
}

bool takes_batch_body(std::string_view target) {
  constexpr std::string_view prefix = "/api/events/", suffix = "/checkins/batch";
  const auto path = target.substr(0, target.find('?'));
  if (path.size() <= prefix.size() + suffix.size() || path.substr(0, prefix.size()) != prefix ||
      path.substr(path.size() - suffix.size()) != suffix)
    return false;
  const auto id = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  return id.find('/') == std::string_view::npos;
}

std::uint16_t server::start() {
  auto& i = *impl_;
  const auto& o = i.state->options;
  boost::system::error_code ec;
  auto address = net::ip::make_address(o.host, ec);
  if (ec)
    throw std::runtime_error("http.host '" + o.host + "' is not an IP address");
  tcp::endpoint endpoint{address, o.port};
  i.acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    i.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    i.acceptor.bind(endpoint, ec);
  if (!ec)
    i.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                             ec.message());
  const auto port = i.acceptor.local_endpoint().port();
  metrics::registry::global().gauge_callback(
      "eventhub_http_connections", "Open HTTP connections", {},
      [state = i.state] { return double(state->connections.load()); });
  i.accept();
  for (int t = 0; t < o.threads; ++t)
    i.threads.emplace_back([&i] { i.ioc.run(); });
  i.started = true;
  return port;
}

void server::stop(std::chrono::milliseconds grace) {
  auto& i = *impl_;
  if (!i.started || i.stopped)
    return;
  i.stopped = true;
  i.state->stopping = true;
  net::post(i.acceptor.get_executor(), [&i] {
    boost::system::error_code ignored;
    i.acceptor.close(ignored);
  });
  const auto until = std::chrono::steady_clock::now() + grace;
  while (i.state->in_flight.load() > 0 && std::chrono::steady_clock::now() < until &&
         !i.stop_waiting)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  if (i.state->in_flight.load() > 0)
    log::warn("http.stop_with_requests_in_flight", {{"count", i.state->in_flight.load()}});
  // Let the answers just written reach the wire, then drop idle keep-alive connections.
  std::this_thread::sleep_for(std::chrono::milliseconds{50});
  i.ioc.stop();
  for (auto& t : i.threads)
    t.join();
  i.threads.clear();
  metrics::registry::global().remove_callbacks("eventhub_http_connections");
}

void server::stop_waiting() {
  impl_->stop_waiting = true;
}

} // namespace eventhub::http
