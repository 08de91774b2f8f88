// A session recovers from a lost backend by reconnecting (libpqxx 6.4 would not by itself).
#include "persistence/session.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>

using namespace eventhub;
using namespace eventhub::persistence;

namespace {
long long backend_pid(session& s) {
  return s.transact(
      [](tx& t) { return t.raw().exec("SELECT pg_backend_pid()")[0][0].as<long long>(); });
}
} // namespace

SCENARIO("a backend lost before the transaction is replaced and the transaction retried once") {
  testing::pg_database db;
  session s(db.options());
  const auto first = backend_pid(s);
  db.exec("SELECT pg_terminate_backend(" + std::to_string(first) + ")");
  const auto second = backend_pid(s); // nothing was committed on the dead one: safe to rerun
  CHECK(second != first);
  CHECK(s.connected());
}

SCENARIO("a backend lost twice in a row is db_unavailable, not a loop") {
  testing::pg_database db;
  session s(db.options());
  int runs = 0;
  CHECK_THROWS_AS(s.transact([&](tx& t) {
    ++runs;
    t.raw().exec("SELECT pg_terminate_backend(pg_backend_pid())");
  }),
                  db_unavailable);
  CHECK(runs == 2);
  CHECK(backend_pid(s) > 0); // and the next transaction works
}

SCENARIO("an unreachable server fails fast with db_unavailable and backs off") {
  connection_options o{"host=127.0.0.1 port=1 dbname=x user=x", std::chrono::milliseconds{1000}};
  session s(o);
  CHECK_FALSE(s.try_connect());
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(s.transact([](tx&) {}), db_unavailable); // within the backoff: no new attempt
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds{50});
}

SCENARIO("a lock wait longer than lock_timeout is db_unavailable, not a hang") {
  testing::pg_database db;
  auto o = db.options();
  o.lock_timeout = std::chrono::milliseconds{200};
  session holder(db.options()), waiter(o);
  holder.transact(
      [](tx& t) { t.raw().exec("CREATE TABLE locked (id int); INSERT INTO locked VALUES (1)"); });
  pqxx::connection c(db.conninfo());
  pqxx::work w(c);
  w.exec("SELECT * FROM locked FOR UPDATE");
  CHECK_THROWS_AS(waiter.transact([](tx& t) { t.raw().exec("SELECT * FROM locked FOR UPDATE"); }),
                  db_unavailable);
  w.abort();
  CHECK(waiter.connected()); // a timeout keeps the connection
}
