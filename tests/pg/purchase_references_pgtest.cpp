// The per-statement reference checks of purchases (migrations/V3__…, V4__…): the rules of the
// foreign keys they replace, including against a concurrent delete of the referenced row, and a
// purchase's ticket type belonging to its event.
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <future>
#include <thread>

using namespace eventhub;

namespace {

struct fixture {
  testing::pg_database db;

  fixture() {
    db.exec("INSERT INTO participants (email, full_name, role, password_hash) VALUES "
            "('a@x.io', 'A', 'USER', '$argon2id$x'), ('b@x.io', 'B', 'USER', '$argon2id$x');"
            "INSERT INTO events (name, venue, starts_at, capacity) VALUES "
            "('One', 'Hall', now() + interval '1 day', 10), "
            "('Two', 'Hall', now() + interval '1 day', 10);"
            "INSERT INTO ticket_types (event_id, name, price_cents, currency, quota) VALUES "
            "(1, 'One GA', 0, 'EUR', 10), (2, 'Two GA', 0, 'EUR', 10)");
  }

  /// The SQLSTATE `sql` fails with on a fresh connection, or "" when it succeeds.
  std::string sqlstate_of(const std::string& sql) const {
    pqxx::connection c(db.conninfo());
    pqxx::work w(c);
    try {
      w.exec(sql);
      w.commit();
      return "";
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate();
    }
  }
};

const std::string fk_violation = "23503";

// A purchase of one ticket at price 0 of its event's type: append "(event, participant, 1, type,
// 0, 'EUR', 0)" tuples (in this fixture, event n has type n).
#define PURCHASES                                                                                  \
  "INSERT INTO purchases (event_id, participant_id, quantity, ticket_type_id, unit_price_cents, "  \
  "currency, total_cents) VALUES "

/// Runs `sql` in a transaction on its own connection and thread; the future is its SQLSTATE.
std::future<std::string> in_background(const std::string& conninfo, const std::string& sql) {
  return std::async(std::launch::async, [conninfo, sql] {
    pqxx::connection c(conninfo);
    pqxx::work w(c);
    try {
      w.exec(sql);
      w.commit();
      return std::string{};
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate();
    }
  });
}

bool still_waiting(std::future<std::string>& f) {
  return f.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout;
}

} // namespace

SCENARIO("a purchase must reference an existing event and participant") {
  fixture f;
  CHECK(f.sqlstate_of(PURCHASES "(1, 1, 1, 1, 0, 'EUR', 0), (2, 2, 1, 2, 0, 'EUR', 0)").empty());
  CHECK(f.sqlstate_of(PURCHASES "(1, 1, 1, 1, 0, 'EUR', 0), (99, 1, 1, 1, 0, 'EUR', 0)") ==
        fk_violation);
  CHECK(f.sqlstate_of(PURCHASES "(1, 99, 1, 1, 0, 'EUR', 0)") == fk_violation);
  CHECK(f.sqlstate_of("UPDATE purchases SET event_id = 99 WHERE event_id = 2") == fk_violation);
  CHECK(f.db.scalar("SELECT count(*) FROM purchases") == 2); // the failed statements wrote nothing
}

SCENARIO("a purchase's ticket type must be one of its event's") {
  fixture f;
  CHECK(f.sqlstate_of(PURCHASES "(1, 1, 1, 2, 0, 'EUR', 0)") == fk_violation); // type of event 2
  CHECK(f.sqlstate_of(PURCHASES "(1, 1, 1, 99, 0, 'EUR', 0)") == fk_violation);
  CHECK(f.sqlstate_of(PURCHASES "(1, 1, 1, 1, 0, 'EUR', 0)").empty());
  CHECK(f.sqlstate_of("UPDATE purchases SET ticket_type_id = 2") == fk_violation);
  CHECK(f.sqlstate_of("DELETE FROM ticket_types WHERE id = 1") == fk_violation); // it has a sale
  CHECK(f.sqlstate_of("DELETE FROM ticket_types WHERE id = 2").empty());
}

SCENARIO("an event or participant with purchases cannot be deleted or renumbered") {
  fixture f;
  f.db.exec(PURCHASES "(1, 1, 1, 1, 0, 'EUR', 0)");
  CHECK(f.sqlstate_of("DELETE FROM events WHERE id = 1") == fk_violation);
  CHECK(f.sqlstate_of("UPDATE events SET id = 50 WHERE id = 1") == fk_violation);
  CHECK(f.sqlstate_of("DELETE FROM participants WHERE id = 1") == fk_violation);
  CHECK(f.sqlstate_of("UPDATE events SET name = 'Renamed' WHERE id = 1").empty());
  CHECK(f.sqlstate_of("DELETE FROM events WHERE id = 2").empty()); // no purchases
  CHECK(f.sqlstate_of("DELETE FROM participants WHERE id = 2").empty());
}

SCENARIO("a purchase and a delete of its event racing: one of them fails") {
  fixture f;
  GIVEN("the delete goes first and is not yet committed") {
    pqxx::connection c(f.db.conninfo());
    pqxx::work deleting(c);
    deleting.exec("DELETE FROM events WHERE id = 2");
    auto purchase = in_background(f.db.conninfo(), PURCHASES "(2, 1, 1, 2, 0, 'EUR', 0)");
    CHECK(still_waiting(purchase)); // on the event row, as a foreign-key check would
    deleting.commit();
    THEN("the purchase fails") {
      CHECK(purchase.get() == fk_violation);
      CHECK(f.db.scalar("SELECT count(*) FROM purchases") == 0);
    }
  }
  GIVEN("the purchase goes first and is not yet committed") {
    pqxx::connection c(f.db.conninfo());
    pqxx::work buying(c);
    buying.exec(PURCHASES "(2, 1, 1, 2, 0, 'EUR', 0)");
    auto deletion = in_background(f.db.conninfo(), "DELETE FROM events WHERE id = 2");
    CHECK(still_waiting(deletion));
    buying.commit();
    THEN("the delete fails and the purchase stays") {
      CHECK(deletion.get() == fk_violation);
      CHECK(f.db.scalar("SELECT count(*) FROM purchases WHERE event_id = 2") == 1);
    }
  }
}
