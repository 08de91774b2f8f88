// Migrations against a real PostgreSQL: once, idempotent, concurrent, checksum refusal.
#include "persistence/audit_repository.hpp"
#include "persistence/migrator.hpp"
#include "persistence/retention_repository.hpp"
#include "persistence/webhook_repository.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <thread>

using namespace eventhub;
using namespace eventhub::persistence;

namespace {
// Every embedded migration is one version: V1 .. Vn.
const long long shipped = static_cast<long long>(embedded_migrations().size());
const std::string next_version = std::to_string(shipped + 1);
} // namespace

SCENARIO("migrations apply once and are recorded with checksums") {
  testing::pg_database db; // already migrated by the fixture
  CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") == shipped);
  CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history WHERE success") == shipped);
  for (const auto& m : load_migrations(embedded_migrations()))
    CHECK(db.scalar("SELECT checksum FROM flyway_schema_history WHERE version = '" +
                    std::to_string(m.version) + "'") == m.checksum);

  WHEN("migrate runs again") {
    pqxx::connection c(db.conninfo());
    auto report = migrate(c, load_migrations(embedded_migrations()));
    THEN("nothing is applied twice") {
      CHECK(report.applied == 0);
      CHECK(report.schema_version == shipped);
      CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") == shipped);
    }
  }
  WHEN("a new migration appears") {
    auto files = embedded_migrations();
    files.push_back(
        {"V" + next_version + "__add_note.sql", "ALTER TABLE events ADD COLUMN note text;"});
    pqxx::connection c(db.conninfo());
    auto report = migrate(c, load_migrations(files));
    THEN("only it runs") {
      CHECK(report.applied == 1);
      CHECK(report.schema_version == shipped + 1);
      CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") == shipped + 1);
      CHECK(db.scalar("SELECT installed_rank FROM flyway_schema_history WHERE version = '" +
                      next_version + "'") == shipped + 1);
    }
  }
}

SCENARIO("an applied migration whose file changed is refused, naming the file") {
  testing::pg_database db;
  auto files = embedded_migrations();
  files.front().sql += "\n-- edited after release\n";
  pqxx::connection c(db.conninfo());
  try {
    migrate(c, load_migrations(files));
    FAIL("a changed migration was accepted");
  } catch (const migration_error& e) {
    CHECK(std::string(e.what()).find("V1__schema.sql") != std::string::npos);
  }
}

SCENARIO("a failing migration changes nothing") {
  testing::pg_database db;
  auto files = embedded_migrations();
  files.push_back({"V" + next_version + "__ok.sql", "CREATE TABLE t2 (id int);"});
  files.push_back({"V" + std::to_string(shipped + 2) + "__broken.sql", "CREATE TABLE oops (;"});
  pqxx::connection c(db.conninfo());
  CHECK_THROWS_AS(migrate(c, load_migrations(files)), migration_error);
  CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") == shipped);
  CHECK(db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 't2'") == 0);
}

SCENARIO("nodes starting together apply each migration exactly once") {
  testing::pg_database db;
  db.exec("DROP TABLE flyway_schema_history; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  const auto migrations = load_migrations(embedded_migrations());
  std::atomic<int> applied{0}, failures{0};
  std::vector<std::thread> nodes;
  for (int i = 0; i < 6; ++i)
    nodes.emplace_back([&] {
      try {
        pqxx::connection c(db.conninfo());
        applied += migrate(c, migrations).applied;
      } catch (const std::exception&) {
        ++failures;
      }
    });
  for (auto& t : nodes)
    t.join();
  CHECK(failures == 0);
  CHECK(applied == static_cast<int>(migrations.size()));
  CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") ==
        static_cast<long long>(migrations.size()));
}

SCENARIO("V2 keeps the undelivered confirmations of a V1 database and only those") {
  testing::pg_database db;
  db.exec("DROP TABLE flyway_schema_history; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.front()}));
  }
  db.exec("INSERT INTO participants (email, full_name, role, password_hash) "
          "VALUES ('u@x.io', 'U', 'USER', '$argon2id$x');"
          "INSERT INTO events (name, venue, starts_at, capacity, tickets_sold) "
          "VALUES ('Show', 'Hall', now() + interval '1 day', 10, 2);"
          "INSERT INTO purchases (event_id, participant_id, quantity) VALUES (1, 1, 1), (1, 1, 1);"
          "INSERT INTO purchase_confirmations (purchase_id, event_id, participant_id, quantity, "
          "request_id, attempts, last_error, delivered_at) VALUES "
          "(1, 1, 1, 1, 'req-delivered', 1, NULL, now()), (2, 1, 1, 1, 'req-due', 3, 'HTTP 503', "
          "NULL)");
  pqxx::connection c(db.conninfo());
  migrate(c, load_migrations(files));
  CHECK(db.scalar("SELECT count(*) FROM pending_confirmations") == 1);
  CHECK(db.scalar("SELECT count(*) FROM pending_confirmations WHERE purchase_id = 2 AND "
                  "request_id = 'req-due' AND attempts = 3 AND last_error = 'HTTP 503'") == 1);
  CHECK(db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'purchase_confirmations'") ==
        0);
}

SCENARIO("V4 gives every V3 event its General admission type and attaches its purchases") {
  testing::pg_database db;
  db.exec("DROP TABLE flyway_schema_history; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.begin(), files.begin() + 3})); // V1..V3
  }
  db.exec("INSERT INTO participants (email, full_name, role, password_hash) "
          "VALUES ('u@x.io', 'U', 'USER', '$argon2id$x'), ('a@x.io', 'A', 'ADMIN', '$argon2id$x');"
          "INSERT INTO events (name, venue, starts_at, capacity, tickets_sold) VALUES "
          "('Sold', 'Hall', now() + interval '1 day', 10, 3), "
          "('Empty', 'Hall', now() + interval '2 days', 7, 0);"
          "INSERT INTO purchases (event_id, participant_id, quantity) VALUES (1, 1, 2), (1, 2, 1);"
          "INSERT INTO idempotency_keys (participant_id, idempotency_key, event_id, quantity, "
          "purchase_id) VALUES (1, 'k', 1, 2, 1);"
          "INSERT INTO pending_confirmations (purchase_id, event_id, participant_id, quantity) "
          "VALUES (2, 1, 2, 1)");
  pqxx::connection c(db.conninfo());
  auto report = migrate(c, load_migrations(files));
  CHECK(report.schema_version == shipped);
  CHECK(db.scalar("SELECT count(*) FROM ticket_types") == 2);
  CHECK(db.scalar("SELECT count(*) FROM ticket_types t JOIN events e ON e.id = t.event_id "
                  "WHERE t.name = 'General admission' AND t.price_cents = 0 AND "
                  "t.currency = 'EUR' AND t.quota = e.capacity AND t.quota_follows_capacity AND "
                  "t.tickets_sold = e.tickets_sold") == 2);
  CHECK(db.scalar("SELECT count(*) FROM purchases p JOIN ticket_types t ON "
                  "t.id = p.ticket_type_id AND t.event_id = p.event_id WHERE "
                  "p.unit_price_cents = 0 AND p.currency = 'EUR' AND p.total_cents = 0") == 2);
  CHECK(db.scalar("SELECT count(*) FROM idempotency_keys") == 1);
  CHECK(db.scalar("SELECT count(*) FROM pending_confirmations") == 1);
  CHECK(db.scalar("SELECT count(*) FROM events WHERE sales_start_at IS NULL AND "
                  "max_per_buyer IS NULL AND NOT admission_queue") == 2);
  db.exec("INSERT INTO participants (email, full_name, role, password_hash) "
          "VALUES ('s@x.io', 'S', 'STAFF', '$argon2id$x')");
  CHECK(db.scalar("SELECT count(*) FROM participants WHERE role = 'STAFF'") == 1);
}

SCENARIO("V5 starts V4 events with nothing held and guards sold plus held and the buyer limit") {
  testing::pg_database db;
  db.exec("DROP TABLE flyway_schema_history; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.begin(), files.begin() + 4})); // V1..V4
  }
  db.exec("INSERT INTO participants (email, full_name, role, password_hash) "
          "VALUES ('u@x.io', 'U', 'USER', '$argon2id$x');"
          "INSERT INTO events (name, venue, starts_at, capacity, tickets_sold, max_per_buyer) "
          "VALUES ('Limited', 'Hall', now() + interval '1 day', 10, 3, 4);"
          "INSERT INTO ticket_types (event_id, name, price_cents, currency, quota, tickets_sold) "
          "VALUES (1, 'Standard', 1500, 'EUR', 10, 3);"
          "INSERT INTO purchases (event_id, participant_id, quantity, ticket_type_id, "
          "unit_price_cents, currency, total_cents) VALUES (1, 1, 3, 1, 1500, 'EUR', 4500)");
  pqxx::connection c(db.conninfo());
  auto report = migrate(c, load_migrations(files));
  CHECK(report.schema_version == shipped);
  CHECK(db.scalar("SELECT tickets_held FROM events") == 0);
  CHECK(db.scalar("SELECT tickets_held FROM ticket_types") == 0);
  CHECK(db.scalar("SELECT count(*) FROM purchases WHERE hold_id IS NULL AND total_cents = 4500") ==
        1);

  // The V4 buyer holds 3 of 4: a hold of 1 fits, a second does not (the trigger, not the app).
  const std::string hold =
      "INSERT INTO holds (event_id, ticket_type_id, participant_id, quantity, unit_price_cents, "
      "currency, expires_at) VALUES (1, 1, 1, 1, 1500, 'EUR', now() + interval '1 minute'); "
      "UPDATE events SET tickets_held = tickets_held + 1 WHERE id = 1; "
      "UPDATE ticket_types SET tickets_held = tickets_held + 1 WHERE id = 1";
  db.exec(hold);
  CHECK_THROWS_AS(db.exec(hold), pqxx::check_violation);
  CHECK(db.scalar("SELECT count(*) FROM holds") == 1);
  // Sold plus held may not pass the capacity, nor the quota.
  CHECK_THROWS_AS(db.exec("UPDATE events SET tickets_held = 8 WHERE id = 1"),
                  pqxx::check_violation);
  CHECK_THROWS_AS(db.exec("UPDATE ticket_types SET quota = 3 WHERE id = 1"), pqxx::check_violation);
  // One hold, one purchase at most.
  db.exec("UPDATE holds SET status = 'CONFIRMED', settled_at = now()");
  db.exec("INSERT INTO participants (email, full_name, role, password_hash) "
          "VALUES ('v@x.io', 'V', 'USER', '$argon2id$x')");
  const std::string confirm = "INSERT INTO purchases (event_id, participant_id, quantity, "
                              "ticket_type_id, unit_price_cents, currency, total_cents, hold_id) "
                              "VALUES (1, 2, 1, 1, 1500, 'EUR', 1500, 1)";
  db.exec(confirm);
  CHECK_THROWS_AS(db.exec(confirm), pqxx::unique_violation);
}

SCENARIO("V6 starts V5 purchases with nothing cancelled and guards what a cancellation frees") {
  testing::pg_database db;
  db.exec("DROP TABLE flyway_schema_history; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.begin(), files.begin() + 5})); // V1..V5
  }
  db.exec("INSERT INTO participants (email, full_name, role, password_hash) "
          "VALUES ('u@x.io', 'U', 'USER', '$argon2id$x');"
          "INSERT INTO events (name, venue, starts_at, capacity, tickets_sold, max_per_buyer) "
          "VALUES ('Limited', 'Hall', now() + interval '1 day', 10, 3, 4);"
          "INSERT INTO ticket_types (event_id, name, price_cents, currency, quota, tickets_sold) "
          "VALUES (1, 'Standard', 1500, 'EUR', 10, 3);"
          "INSERT INTO purchases (event_id, participant_id, quantity, ticket_type_id, "
          "unit_price_cents, currency, total_cents) VALUES (1, 1, 3, 1, 1500, 'EUR', 4500);"
          "INSERT INTO pending_notifications (type, event_id, participant_id, subject_id, "
          "quantity) VALUES ('hold.expired', 1, 1, 1, 1)");
  pqxx::connection c(db.conninfo());
  // V6 alone: from V8 on, a cancellation also cancels tickets (checked at commit).
  auto report = migrate(c, load_migrations({files.begin(), files.begin() + 6}));
  CHECK(report.schema_version == 6);
  CHECK(db.scalar("SELECT count(*) FROM purchases WHERE cancelled_quantity = 0 AND "
                  "refunded_cents = 0") == 1);
  CHECK(db.scalar("SELECT count(*) FROM pending_notifications WHERE refunded_cents IS NULL") == 1);
  // Cancelled tickets leave the buyer's limit: 3 of 4 bought, 2 cancelled, a hold of 3 fits.
  db.exec("UPDATE purchases SET cancelled_quantity = 2, refunded_cents = 3000");
  db.exec("INSERT INTO holds (event_id, ticket_type_id, participant_id, quantity, "
          "unit_price_cents, currency, expires_at) VALUES (1, 1, 1, 3, 1500, 'EUR', "
          "now() + interval '1 minute')");
  CHECK(db.scalar("SELECT count(*) FROM holds") == 1);
  CHECK_THROWS_AS(db.exec("UPDATE purchases SET refunded_cents = 0"), pqxx::check_violation);
  CHECK_THROWS_AS(db.exec("UPDATE purchases SET cancelled_quantity = 4, refunded_cents = 6000"),
                  pqxx::check_violation);
}

SCENARIO("V7 starts V6 events with nobody waiting and guards one active entry and one offer") {
  testing::pg_database db;
  db.exec("DROP TABLE flyway_schema_history; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.begin(), files.begin() + 6})); // V1..V6
  }
  db.exec("INSERT INTO participants (email, full_name, role, password_hash) "
          "VALUES ('u@x.io', 'U', 'USER', '$argon2id$x');"
          "INSERT INTO events (name, venue, starts_at, capacity, tickets_sold, tickets_held) "
          "VALUES ('Full', 'Hall', now() + interval '1 day', 3, 2, 1);"
          "INSERT INTO ticket_types (event_id, name, price_cents, currency, quota, tickets_sold, "
          "tickets_held) VALUES (1, 'Standard', 1500, 'EUR', 3, 2, 1);"
          "INSERT INTO purchases (event_id, participant_id, quantity, ticket_type_id, "
          "unit_price_cents, currency, total_cents) VALUES (1, 1, 2, 1, 1500, 'EUR', 3000);"
          "INSERT INTO holds (event_id, ticket_type_id, participant_id, quantity, "
          "unit_price_cents, currency, expires_at) VALUES (1, 1, 1, 1, 1500, 'EUR', "
          "now() + interval '1 minute');"
          "INSERT INTO pending_notifications (type, event_id, participant_id, subject_id, "
          "quantity) VALUES ('purchase.cancelled', 1, 1, 1, 1)");
  pqxx::connection c(db.conninfo());
  auto report = migrate(c, load_migrations(files));
  CHECK(report.schema_version == shipped);
  CHECK(db.scalar("SELECT count(*) FROM waitlist_entries") == 0);
  CHECK(db.scalar("SELECT count(*) FROM pending_notifications WHERE hold_id IS NULL AND "
                  "expires_at IS NULL") == 1);
  CHECK(db.scalar("SELECT tickets_sold + tickets_held FROM events") == 3);

  const std::string wait = "INSERT INTO waitlist_entries (event_id, ticket_type_id, "
                           "participant_id, quantity) VALUES (1, 1, 1, 2)";
  db.exec(wait);
  CHECK_THROWS_AS(db.exec(wait), pqxx::unique_violation); // one active entry per type
  // An offer names its hold, and a hold offers one entry.
  CHECK_THROWS_AS(db.exec("UPDATE waitlist_entries SET status = 'OFFERED'"), pqxx::check_violation);
  db.exec("UPDATE waitlist_entries SET status = 'OFFERED', hold_id = 1, offered_at = now()");
  db.exec("UPDATE waitlist_entries SET status = 'EXPIRED', settled_at = now()");
  db.exec(wait); // the first is done: waiting again is allowed
  CHECK_THROWS_AS(db.exec("UPDATE waitlist_entries SET status = 'OFFERED', hold_id = 1, "
                          "offered_at = now() WHERE status = 'WAITING'"),
                  pqxx::unique_violation);
  CHECK_THROWS_AS(db.exec("UPDATE waitlist_entries SET quantity = 0"), pqxx::check_violation);
  // A type with entries is not deleted; an event takes its entries along.
  CHECK_THROWS_AS(db.exec("DELETE FROM ticket_types"), pqxx::foreign_key_violation);
  db.exec("DELETE FROM purchases; DELETE FROM events");
  CHECK(db.scalar("SELECT count(*) FROM waitlist_entries") == 0);
}

namespace {

/// The message of the check_violation `f` raises; empty when it raises none (any other error
/// propagates and fails the test).
template <class F> std::string check_violation_of(F&& f) {
  try {
    f();
  } catch (const pqxx::check_violation& e) {
    return e.what();
  }
  return "";
}

/// Runs `sql` in one transaction, which must pass its statements (the trigger is deferred) and
/// be refused at commit: the message of that check_violation, empty when the commit succeeds.
std::string refused_at_commit(const testing::pg_database& db, const std::string& sql) {
  pqxx::connection c(db.conninfo());
  pqxx::work w(c);
  w.exec(sql);
  return check_violation_of([&] { w.commit(); });
}

/// The statuses of a purchase's tickets in id order, comma separated.
std::string statuses_of(const testing::pg_database& db, int purchase) {
  return db.text("SELECT coalesce(string_agg(status, ',' ORDER BY id), '') FROM tickets "
                 "WHERE purchase_id = " +
                 std::to_string(purchase));
}

/// A V1..V7 database with two events and five purchases, three of them (partly) cancelled.
void seed_v7(testing::pg_database& db) {
  db.exec("DROP TABLE flyway_schema_history; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.begin(), files.begin() + 7})); // V1..V7
  }
  db.exec(
      "INSERT INTO participants (email, full_name, role, password_hash) VALUES "
      "('u@x.io', 'U', 'USER', '$argon2id$x'), ('v@x.io', 'V', 'USER', '$argon2id$x');"
      "INSERT INTO events (name, venue, starts_at, capacity, tickets_sold) VALUES "
      "('A', 'Hall', now() + interval '1 day', 20, 5), "
      "('B', 'Hall', now() + interval '2 days', 10, 5);"
      "INSERT INTO ticket_types (event_id, name, price_cents, currency, quota, tickets_sold) "
      "VALUES (1, 'Standard', 1500, 'EUR', 20, 5), (2, 'Standard', 1000, 'EUR', 10, 5);"
      // 1: nothing cancelled; 2: 2 of 4 (two cancellations); 3 (event B): 1 of 5 with no
      // cancellation row; 4: all of 2; 5 (event B): nothing cancelled.
      "INSERT INTO purchases (event_id, participant_id, quantity, ticket_type_id, "
      "unit_price_cents, currency, total_cents, cancelled_quantity, refunded_cents) VALUES "
      "(1, 1, 3, 1, 1500, 'EUR', 4500, 0, 0), (1, 2, 4, 1, 1500, 'EUR', 6000, 2, 3000), "
      "(2, 1, 5, 2, 1000, 'EUR', 5000, 1, 1000), (1, 1, 2, 1, 1500, 'EUR', 3000, 2, 3000), "
      "(2, 2, 1, 2, 1000, 'EUR', 1000, 0, 0);"
      "INSERT INTO purchase_cancellations (purchase_id, event_id, participant_id, quantity, "
      "refunded_cents, currency, cancelled_at) VALUES "
      "(2, 1, 2, 1, 1500, 'EUR', '2030-01-01 10:00+00'), "
      "(2, 1, 2, 1, 1500, 'EUR', '2030-01-02 10:00+00'), "
      "(4, 1, 1, 2, 3000, 'EUR', '2030-01-03 10:00+00');"
      "INSERT INTO pending_notifications (type, event_id, participant_id, subject_id, quantity) "
      "VALUES ('purchase.cancelled', 1, 2, 2, 1)");
}

/// seed_v7, then every migration after V7.
void seed_v7_and_migrate(testing::pg_database& db) {
  seed_v7(db);
  pqxx::connection c(db.conninfo());
  migrate(c, load_migrations(embedded_migrations()));
}

} // namespace

SCENARIO("V8 gives every V7 purchase its tickets, the last cancelled_quantity of each CANCELLED") {
  testing::pg_database db;
  seed_v7(db);
  auto files = embedded_migrations();
  pqxx::connection c(db.conninfo());
  auto report = migrate(c, load_migrations({files.begin(), files.begin() + 8})); // V8
  REQUIRE(report.applied == 1);
  CHECK(report.schema_version == 8);

  // Exactly quantity tickets per purchase, in id order: the highest ids are the cancelled ones.
  CHECK(statuses_of(db, 1) == "VALID,VALID,VALID");
  CHECK(statuses_of(db, 2) == "VALID,VALID,CANCELLED,CANCELLED");
  CHECK(statuses_of(db, 3) == "VALID,VALID,VALID,VALID,CANCELLED");
  CHECK(statuses_of(db, 4) == "CANCELLED,CANCELLED");
  CHECK(statuses_of(db, 5) == "VALID");
  CHECK(db.scalar("SELECT count(*) FROM tickets") == 15);
  CHECK(db.scalar("SELECT count(*) FROM purchases p WHERE p.quantity = (SELECT count(*) FROM "
                  "tickets t WHERE t.purchase_id = p.id AND t.event_id = p.event_id) AND "
                  "p.cancelled_quantity = (SELECT count(*) FROM tickets t WHERE t.purchase_id = "
                  "p.id AND t.status = 'CANCELLED')") == 5);
  // Nonces: 16 bytes each, all distinct.
  CHECK(db.scalar("SELECT count(*) FROM tickets WHERE length(nonce) = 16") == 15);
  CHECK(db.scalar("SELECT count(DISTINCT nonce) FROM tickets") == 15);
  // Cancelled when the purchase's last cancellation was (now without one); nothing checked in.
  CHECK(db.scalar("SELECT count(*) FROM tickets WHERE purchase_id = 2 AND status = 'CANCELLED' "
                  "AND cancelled_at = '2030-01-02 10:00+00'") == 2);
  CHECK(db.scalar("SELECT count(*) FROM tickets WHERE purchase_id = 4 AND "
                  "cancelled_at = '2030-01-03 10:00+00'") == 2);
  CHECK(db.scalar("SELECT count(*) FROM tickets WHERE purchase_id = 3 AND status = 'CANCELLED' "
                  "AND cancelled_at > now() - interval '1 hour'") == 1);
  CHECK(db.scalar("SELECT count(*) FROM tickets WHERE status = 'VALID' AND cancelled_at IS NULL "
                  "AND checked_in_at IS NULL AND scan_id IS NULL") == 10);
  CHECK(db.scalar("SELECT count(*) FROM tickets WHERE checked_in_at IS NOT NULL") == 0);
  CHECK(db.scalar("SELECT count(*) FROM event_signing_keys") == 0);
  CHECK(db.scalar("SELECT count(*) FROM pending_notifications WHERE purchase_id IS NULL AND "
                  "checked_in_at IS NULL") == 1);
  // The figures V7 kept stay as they were.
  CHECK(db.scalar("SELECT sum(tickets_sold) FROM events") == 10);
  CHECK(db.scalar("SELECT count(*) FROM tickets WHERE status <> 'CANCELLED'") == 10);
}

SCENARIO("V8's tickets_settle_once keeps a checked-in or cancelled ticket as it is") {
  testing::pg_database db;
  seed_v7_and_migrate(db);
  const auto ticket =
      std::to_string(db.scalar("SELECT min(id) FROM tickets WHERE purchase_id = 1"));
  const auto where = " WHERE id = " + ticket;
  db.exec("UPDATE tickets SET status = 'CHECKED_IN', checked_in_at = '2030-02-01 20:00+00', "
          "scan_id = 'door-1'" +
          where);

  // Each of these passes the table's CHECKs: only the trigger refuses them.
  CHECK_THAT(check_violation_of([&] {
               db.exec("UPDATE tickets SET status = 'VALID', checked_in_at = NULL, scan_id = NULL" +
                       where);
             }),
             Catch::Contains("tickets_settle_once") || Catch::Contains("does not change"));
  CHECK_THAT(check_violation_of([&] {
               db.exec("UPDATE tickets SET checked_in_at = '2030-02-01 21:00+00'" + where);
             }),
             Catch::Contains("does not change"));
  CHECK_THAT(check_violation_of([&] { db.exec("UPDATE tickets SET scan_id = 'door-2'" + where); }),
             Catch::Contains("does not change"));
  CHECK_THAT(check_violation_of([&] {
               db.exec("UPDATE tickets SET status = 'CANCELLED', checked_in_at = NULL, "
                       "scan_id = NULL, cancelled_at = now()" +
                       where);
             }),
             Catch::Contains("does not change"));
  CHECK(db.text("SELECT status || ' ' || scan_id || ' ' || "
                "(checked_in_at = '2030-02-01 20:00+00') FROM tickets" +
                where) == "CHECKED_IN door-1 true");

  // A cancelled ticket is not revived, not even together with its purchase's figures.
  CHECK_THAT(check_violation_of([&] {
               db.exec("UPDATE tickets SET status = 'VALID', cancelled_at = NULL "
                       "WHERE purchase_id = 4");
             }),
             Catch::Contains("does not change"));
  CHECK(statuses_of(db, 4) == "CANCELLED,CANCELLED");
  // A VALID ticket still changes (once).
  db.exec("UPDATE tickets SET status = 'CHECKED_IN', checked_in_at = now() "
          "WHERE id = (SELECT max(id) FROM tickets WHERE purchase_id = 5)");
  CHECK(statuses_of(db, 5) == "CHECKED_IN");
}

SCENARIO("V8's deferred trigger refuses, at commit, cancelled figures without their tickets") {
  testing::pg_database db;
  seed_v7_and_migrate(db);
  const auto last_of_1 =
      std::to_string(db.scalar("SELECT max(id) FROM tickets WHERE purchase_id = 1"));
  const std::string cancel_ticket =
      "UPDATE tickets SET status = 'CANCELLED', cancelled_at = now() WHERE id = " + last_of_1 + ";";
  const std::string cancel_one_of_1 =
      "UPDATE purchases SET cancelled_quantity = 1, refunded_cents = 1500 WHERE id = 1;";

  // A purchase's cancelled_quantity changed without a ticket cancelled.
  CHECK_THAT(refused_at_commit(db, cancel_one_of_1),
             Catch::Contains("purchase 1 has 0 cancelled tickets but cancelled_quantity 1"));
  // A ticket cancelled without its purchase's cancelled_quantity.
  CHECK_THAT(refused_at_commit(db, cancel_ticket),
             Catch::Contains("purchase 1 has 1 cancelled tickets but cancelled_quantity 0"));
  // As many tickets cancelled, but of another purchase.
  CHECK_FALSE(refused_at_commit(db, cancel_ticket + "UPDATE purchases SET cancelled_quantity = 1, "
                                                    "refunded_cents = 1000 WHERE id = 5")
                  .empty());
  // One too many: two tickets for a cancelled_quantity of 1.
  CHECK_FALSE(refused_at_commit(db, cancel_ticket + cancel_one_of_1 +
                                        "UPDATE tickets SET status = 'CANCELLED', "
                                        "cancelled_at = now() WHERE id = " +
                                        last_of_1 + " - 1")
                  .empty());
  // Another purchase's cancelled_quantity growing past its cancelled tickets.
  CHECK_FALSE(refused_at_commit(db, "UPDATE purchases SET cancelled_quantity = 3, "
                                    "refunded_cents = 4500 WHERE id = 2")
                  .empty());
  // Nothing of the refused transactions stayed.
  CHECK(statuses_of(db, 1) == "VALID,VALID,VALID");
  CHECK(db.scalar("SELECT cancelled_quantity FROM purchases WHERE id = 1") == 0);
  CHECK(db.scalar("SELECT cancelled_quantity FROM purchases WHERE id = 2") == 2);
  CHECK(statuses_of(db, 5) == "VALID");

  // Both in one transaction, the ticket first: unequal between the statements, equal at commit.
  CHECK(refused_at_commit(db, cancel_ticket + cancel_one_of_1).empty());
  CHECK(statuses_of(db, 1) == "VALID,VALID,CANCELLED");
  CHECK(db.scalar("SELECT cancelled_quantity FROM purchases WHERE id = 1") == 1);
  // The trigger checks at commit, not per statement: made immediate, the first statement fails.
  {
    pqxx::connection c(db.conninfo());
    pqxx::work w(c);
    w.exec("SET CONSTRAINTS purchases_cancelled_tickets IMMEDIATE");
    CHECK_THROWS_AS(w.exec("UPDATE purchases SET cancelled_quantity = 2, refunded_cents = 3000 "
                           "WHERE id = 1"),
                    pqxx::check_violation);
  }
  CHECK(db.scalar("SELECT cancelled_quantity FROM purchases WHERE id = 1") == 1);
}

SCENARIO("V9 on V8 data: the outboxes' undelivered rows fan out to endpoints made afterwards") {
  testing::pg_database db;
  seed_v7(db);
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.begin(), files.begin() + 8})); // V8
  }
  db.exec("INSERT INTO pending_confirmations (purchase_id, event_id, participant_id, quantity, "
          "request_id) VALUES (1, 1, 1, 3, 'req-1')");
  pqxx::connection c(db.conninfo());
  auto report = migrate(c, load_migrations({files.begin(), files.begin() + 9})); // V9
  REQUIRE(report.applied == 1);
  CHECK(report.schema_version == 9);
  CHECK(db.scalar("SELECT count(*) FROM webhook_endpoints") == 0);
  // An endpoint registered after the upgrade gets what the outboxes still hold.
  db.exec("INSERT INTO webhook_endpoints (url, event_types, sealed_secret) VALUES "
          "('https://hooks.example/a', ARRAY['purchase.confirmed', 'purchase.cancelled'], "
          "'\\x00'::bytea)");
  persistence::session s{db.options()};
  s.transact([](persistence::tx& t) {
    CHECK(persistence::webhooks::fan_out_confirmations(t, {1}) == std::vector<std::int64_t>{1});
    CHECK(persistence::webhooks::fan_out_notifications(t, {1}) == std::vector<std::int64_t>{1});
  });
  CHECK(db.text("SELECT body::json -> 'data' ->> 'totalCents' FROM webhook_messages WHERE "
                "type = 'purchase.confirmed'") == "4500");
  CHECK(db.text("SELECT (body::json -> 'data' -> 'purchaseId')::text || ' ' || (body::json -> "
                "'data' -> 'refundedCents')::text FROM webhook_messages WHERE "
                "type = 'purchase.cancelled'") == "2 null"); // V6's rows kept no refund figures
  CHECK(db.scalar("SELECT count(*) FROM pending_confirmations") +
            db.scalar("SELECT count(*) FROM pending_notifications") ==
        0);
  // The constraint keeps unknown types out.
  CHECK_THROWS(db.exec("INSERT INTO webhook_endpoints (url, event_types, sealed_secret) VALUES "
                       "('https://x.example', ARRAY['purchase.refunded'], '\\x00'::bytea)"));
}

SCENARIO("V10 on V9 data: the audit log starts empty, takes entries, and refuses changes") {
  testing::pg_database db;
  seed_v7(db);
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.begin(), files.begin() + 9})); // V9
  }
  pqxx::connection c(db.conninfo());
  auto report = migrate(c, load_migrations({files.begin(), files.begin() + 10})); // V10
  REQUIRE(report.applied == 1);
  CHECK(report.schema_version == 10);
  CHECK(db.scalar("SELECT count(*) FROM audit_log") == 0);
  // This month and three ahead exist, so today's entries never land in the default partition.
  CHECK(db.scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_log'::regclass") == 5);
  persistence::session s{db.options()};
  s.transact([](persistence::tx& t) {
    persistence::audit::record(t, {{1, "req-1", "127.0.0.1"},
                                   "event.updated",
                                   "event",
                                   1,
                                   R"({"capacity":5})",
                                   R"({"capacity":6})"});
  });
  CHECK(db.text("SELECT after ->> 'capacity' || ' ' || request_id FROM audit_log") == "6 req-1");
  CHECK(db.scalar("SELECT count(*) FROM audit_log_default") == 0);
  for (const char* change :
       {"UPDATE audit_log SET actor_id = 2", "DELETE FROM audit_log", "TRUNCATE audit_log",
        "DELETE FROM audit_log WHERE id = 1", "UPDATE audit_log SET after = NULL WHERE id = 1"})
    CHECK_THROWS_WITH(db.exec(change), Catch::Contains("append-only"));
  CHECK(db.scalar("SELECT count(*) FROM audit_log WHERE after ->> 'capacity' = '6'") == 1);
  // Unknown actions and entity types are refused.
  CHECK_THROWS(
      db.exec("INSERT INTO audit_log (action, entity_type) VALUES ('event.sold', 'event')"));
}

SCENARIO("V11 on V10 data: retention's indexes, nothing deleted until a round runs") {
  testing::pg_database db;
  seed_v7(db);
  auto files = embedded_migrations();
  {
    pqxx::connection c(db.conninfo());
    migrate(c, load_migrations({files.begin(), files.begin() + 10})); // V10
  }
  // V10 rows of every kind retention deletes, all long past any keep.
  db.exec("INSERT INTO login_failures (subject, failures, first_failed_at) VALUES "
          "('email:u@x.io', 2, now() - interval '90 days');"
          "INSERT INTO idempotency_keys (participant_id, idempotency_key, event_id, quantity, "
          "purchase_id, created_at) VALUES (1, 'k-1', 1, 3, 1, now() - interval '90 days');"
          "INSERT INTO holds (event_id, ticket_type_id, participant_id, quantity, "
          "unit_price_cents, currency, status, created_at, expires_at, settled_at) VALUES "
          "(1, 1, 1, 1, 1500, 'EUR', 'RELEASED', now() - interval '90 days', "
          "now() - interval '89 days', now() - interval '90 days');"
          "INSERT INTO webhook_endpoints (url, event_types, sealed_secret) VALUES "
          "('https://hooks.example/a', ARRAY['hold.expired'], '\\x00'::bytea);"
          "INSERT INTO webhook_attempts (endpoint_id, message_id, type, attempt, outcome, "
          "duration_ms, attempted_at) VALUES (1, 7, 'hold.expired', 1, 'DELIVERED', 3, "
          "now() - interval '90 days')");
  pqxx::connection c(db.conninfo());
  auto report = migrate(c, load_migrations({files.begin(), files.begin() + 11})); // V11
  REQUIRE(report.applied == 1);
  CHECK(report.schema_version == 11);
  for (const char* index : {"login_failures_first_failed_idx", "idempotency_keys_created_idx",
                            "holds_finished_idx", "webhook_attempts_attempted_idx"})
    CHECK(db.scalar(std::string("SELECT count(*) FROM pg_indexes WHERE indexname = '") + index +
                    "'") == 1);
  CHECK(db.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'holds_finished_idx'")
            .find("WHERE") != std::string::npos); // partial: CONFIRMED and HELD holds are not in it
  // The migration itself deletes nothing.
  CHECK(db.scalar("SELECT (SELECT count(*) FROM login_failures) + (SELECT count(*) FROM "
                  "idempotency_keys) + (SELECT count(*) FROM holds) + (SELECT count(*) FROM "
                  "webhook_attempts)") == 4);
  // The first round after the upgrade does, and leaves the purchase the key named.
  persistence::session s{db.options()};
  auto round = persistence::retention::run_round(s, persistence::retention::policy{});
  CHECK_FALSE(round.skipped);
  CHECK(db.scalar("SELECT (SELECT count(*) FROM login_failures) + (SELECT count(*) FROM "
                  "idempotency_keys) + (SELECT count(*) FROM holds) + (SELECT count(*) FROM "
                  "webhook_attempts)") == 0);
  CHECK(db.scalar("SELECT count(*) FROM purchases WHERE id = 1") == 1);
}

SCENARIO("audit retention drops whole months before the cutoff, and only those") {
  testing::pg_database db;
  db.exec("INSERT INTO audit_log (at, action, entity_type) VALUES "
          "(now() - interval '1 hour', 'event.created', 'event')");
  db.exec("CREATE TABLE audit_log_2020_01 PARTITION OF audit_log FOR VALUES FROM "
          "('2020-01-01 00:00Z') TO ('2020-02-01 00:00Z')");
  db.exec("CREATE TABLE audit_log_2020_02 PARTITION OF audit_log FOR VALUES FROM "
          "('2020-02-01 00:00Z') TO ('2020-03-01 00:00Z')");
  db.exec("INSERT INTO audit_log (at, action, entity_type) VALUES "
          "('2020-01-10Z', 'event.created', 'event'), ('2020-02-10Z', 'event.created', 'event')");
  // 2020-02 ends after the cutoff: it stays whole.
  CHECK(db.text("SELECT string_agg(d, ',') FROM audit_drop_months_before('2020-02-15Z') d") ==
        "audit_log_2020_01");
  CHECK(db.scalar("SELECT count(*) FROM audit_log") == 2);
  CHECK(db.scalar("SELECT count(*) FROM audit_log WHERE at < '2020-02-01Z'") == 0);
}
