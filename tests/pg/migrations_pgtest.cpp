// Migrations against a real PostgreSQL: once, idempotent, concurrent, checksum refusal.
#include "persistence/migrator.hpp"
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
