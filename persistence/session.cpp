// Connection lifecycle: connect on demand, reset on loss, exponential backoff between attempts.
#include "persistence/session.hpp"

#include "observability/log.hpp"

#include <pqxx/except>

#include <algorithm>

namespace eventhub::persistence {
namespace {

constexpr std::chrono::milliseconds first_backoff{100};
constexpr std::chrono::milliseconds max_backoff{5000};

} // namespace

std::string loggable_error(const std::exception& e) {
  std::string_view text = e.what();
  text = text.substr(0, std::min(text.find('\n'), std::size_t{300}));
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e))
    return "SQLSTATE " + sql->sqlstate() + ": " + std::string(text);
  return std::string(text);
}

std::string with_client_options(const std::string& conninfo, std::chrono::milliseconds timeout) {
  const long seconds = std::max<long>(1, static_cast<long>((timeout.count() + 999) / 1000));
  const bool url = conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
  if (url) {
    const char sep = conninfo.find('?') == std::string::npos ? '?' : '&';
    return conninfo + sep + "connect_timeout=" + std::to_string(seconds) +
           "&application_name=eventhub";
  }
  return conninfo + " connect_timeout=" + std::to_string(seconds) + " application_name=eventhub";
}

session::session(connection_options options) : options_(std::move(options)) {}

session::~session() = default;

bool session::try_connect() {
  try {
    connection();
    return true;
  } catch (const db_unavailable&) {
    return false;
  }
}

pqxx::connection& session::connection() {
  if (conn_)
    return *conn_;
  const auto now = std::chrono::steady_clock::now();
  const bool others_recovered = options_.recovery && options_.recovery->last_success.load() >
                                                         last_failure_.time_since_epoch().count();
  if (now < next_attempt_ && !others_recovered)
    throw db_unavailable("database unreachable (retrying)");
  try {
    auto c = std::make_unique<pqxx::connection>(
        with_client_options(options_.conninfo, options_.connect_timeout));
    pqxx::nontransaction setup(*c);
    setup.exec("SET statement_timeout = " + std::to_string(options_.statement_timeout.count()));
    setup.exec("SET lock_timeout = " + std::to_string(options_.lock_timeout.count()));
    setup.commit();
    conn_ = std::move(c);
    prepared_.clear();
    if (backoff_.count() > 0)
      log::info("db.reconnected");
    backoff_ = std::chrono::milliseconds{0};
    if (options_.recovery)
      options_.recovery->last_success = std::chrono::steady_clock::now().time_since_epoch().count();
    return *conn_;
  } catch (const std::exception& e) {
    backoff_ = backoff_.count() == 0 ? first_backoff : std::min(backoff_ * 2, max_backoff);
    next_attempt_ = now + backoff_;
    last_failure_ = now;
    log::warn("db.connect_failed", {{"retry_in_ms", static_cast<std::int64_t>(backoff_.count())}});
    throw db_unavailable("database unreachable");
  }
}

void session::prepare(const statement& s) {
  if (prepared_.insert(s.name).second)
    conn_->prepare(s.name, s.sql);
}

void session::drop_connection() {
  conn_.reset();
  prepared_.clear();
  next_attempt_ = std::chrono::steady_clock::now();
  log::warn("db.connection_lost");
}

void session::fail(const char* why, bool reset, bool in_doubt) {
  if (reset)
    drop_connection();
  throw db_unavailable(why, in_doubt);
}

} // namespace eventhub::persistence
