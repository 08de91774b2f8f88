// Database start-up: embedded server, wait for reachability, migrations.
#include "app/database.hpp"

#include "observability/log.hpp"
#include "persistence/migrator.hpp"
#include "persistence/session.hpp"

#include <pqxx/pqxx>

#include <thread>

namespace eventhub::app {
namespace {

std::unique_ptr<pqxx::connection> connect_with_retry(const config::settings& s,
                                                     const std::string& conninfo) {
  const auto until = std::chrono::steady_clock::now() + s.db_startup_wait;
  auto pause = std::chrono::milliseconds{200};
  while (true) {
    try {
      return std::make_unique<pqxx::connection>(
          persistence::with_client_options(conninfo, s.db_connect_timeout));
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() + pause > until)
        throw std::runtime_error("the database is unreachable (waited " +
                                 std::to_string(s.db_startup_wait.count() / 1000) + " s)");
      log::warn("db.waiting", {{"retry_in_ms", static_cast<std::int64_t>(pause.count())}});
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds{2000});
    }
  }
}

} // namespace

database open_database(const config::settings& s, bool share) {
  database db;
  if (s.embedded_database()) {
    db.embedded = std::make_unique<persistence::embedded_postgres>(s.db_embedded_dir);
    db.conninfo = db.embedded->start(share);
  } else {
    db.conninfo = s.db_url;
  }
  auto connection = connect_with_retry(s, db.conninfo);
  auto report = persistence::migrate(
      *connection, persistence::load_migrations(persistence::embedded_migrations()));
  log::info("db.ready", {{"schema_version", report.schema_version},
                         {"migrations_applied", report.applied},
                         {"embedded", s.embedded_database()}});
  return db;
}

config::settings with_secret(config::settings s, database& db) {
  if (s.jwt_secret.empty() && db.embedded)
    s.jwt_secret = db.embedded->load_or_create_secret();
  return s;
}

} // namespace eventhub::app
