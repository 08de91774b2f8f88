// Throwaway databases for *_pgtest.cpp.
#include "tests/support/pg_fixture.hpp"

#include "persistence/migrator.hpp"
#include "security/password.hpp"
#include "security/random.hpp"

#include <pqxx/pqxx>

#include <cstdlib>
#include <stdexcept>

namespace eventhub::testing {
namespace {

std::string replace_dbname(std::string conninfo, const std::string& db) {
  auto pos = conninfo.find("dbname=");
  if (pos != std::string::npos) {
    auto end = conninfo.find(' ', pos);
    conninfo.erase(pos, end == std::string::npos ? std::string::npos : end - pos);
  }
  return conninfo + " dbname=" + db;
}

} // namespace

bool have_test_server() {
  return std::getenv("EVENTHUB_TEST_PG") != nullptr;
}

pg_database::pg_database() {
  const char* base = std::getenv("EVENTHUB_TEST_PG");
  if (!base)
    throw std::runtime_error("EVENTHUB_TEST_PG is not set: run the tests with scripts/test");
  admin_ = base;
  security::init_crypto();
  name_ = "eh_pg_" + security::random_hex(8);
  {
    pqxx::connection c(admin_);
    pqxx::nontransaction n(c);
    n.exec("CREATE DATABASE " + name_ + " TEMPLATE template0");
  }
  conninfo_ = replace_dbname(admin_, name_);
  pqxx::connection c(conninfo_);
  persistence::migrate(c, persistence::load_migrations(persistence::embedded_migrations()));
}

pg_database::~pg_database() {
  try {
    pqxx::connection c(admin_);
    pqxx::nontransaction n(c);
    n.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
           n.quote(name_));
    n.exec("DROP DATABASE IF EXISTS " + name_);
  } catch (const std::exception&) {
  }
}

persistence::connection_options pg_database::options() const {
  return {conninfo_, std::chrono::milliseconds{3000}, std::chrono::milliseconds{5000},
          std::chrono::milliseconds{2000}};
}

void pg_database::exec(const std::string& sql) const {
  pqxx::connection c(conninfo_);
  pqxx::nontransaction n(c);
  n.exec(sql);
}

long long pg_database::scalar(const std::string& sql) const {
  pqxx::connection c(conninfo_);
  pqxx::nontransaction n(c);
  return n.exec(sql)[0][0].as<long long>();
}

std::string pg_database::text(const std::string& sql) const {
  pqxx::connection c(conninfo_);
  pqxx::nontransaction n(c);
  return n.exec(sql)[0][0].as<std::string>();
}

domain::purchase_request order_command(domain::order_kind kind, std::int64_t event,
                                       std::int64_t participant, int quantity,
                                       std::string request_id) {
  domain::purchase_request r;
  r.kind = kind;
  r.event_id = event;
  r.participant_id = participant;
  r.quantity = quantity;
  r.hold_ttl = std::chrono::milliseconds{60000};
  r.request_id = std::move(request_id);
  return r;
}

} // namespace eventhub::testing
