// Retention against a real database: old rows of each kind go, young ones stay, and so does
// everything the contract still needs (HELD holds, confirmed holds and their replays, waitlist
// offers, remembered keys, pending webhook messages' attempts, throttled or counting logins);
// batches repeat until done; a round finding another session at it deletes nothing; and every
// delete has an index to pick its rows.
#include "persistence/event_repository.hpp"
#include "persistence/hold_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"
#include "persistence/queries/retention_queries.hpp"
#include "persistence/retention_repository.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

using namespace eventhub;
using namespace eventhub::persistence;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

namespace {

using domain::order_kind;

struct fixture {
  testing::pg_database db;
  session s{db.options()};
  std::vector<std::int64_t> users;
  std::int64_t event_id = 0;

  fixture() {
    s.transact([&](tx& t) {
      for (int i = 0; i < 3; ++i) {
        domain::new_participant p{"u" + std::to_string(i) + "@x.io", "", "U", domain::role::user};
        users.push_back(participants::insert(t, p, "$argon2id$fake").value().id);
      }
      domain::event_draft d{"Show",       std::nullopt, "Hall", domain::now() + hours(24 * 30),
                            std::nullopt, 100};
      event_id = events::insert(t, d).id;
    });
  }

  domain::purchase_request command(order_kind kind, int user, std::optional<std::string> key = {},
                                   std::int64_t hold_id = 0) {
    auto r = testing::order_command(
        kind, event_id, users[static_cast<std::size_t>(user)],
        kind == order_kind::confirm || kind == order_kind::release ? 0 : 1, "req");
    r.idempotency_key = std::move(key);
    r.hold_id = hold_id;
    return r;
  }

  domain::purchase_outcome one(const domain::purchase_request& r) {
    auto out = purchases::commit_batch(s, event_id, {r}, milliseconds{10000});
    REQUIRE(out.results.size() == 1);
    REQUIRE(out.results[0].ok());
    return *out.results[0];
  }

  std::int64_t hold(int user, std::optional<std::string> key = {}) {
    return one(command(order_kind::hold, user, std::move(key))).hold->id;
  }

  long long scalar(const std::string& sql) const { return db.scalar(sql); }
  bool exists(const std::string& table, const std::string& where) const {
    return scalar("SELECT count(*) FROM " + table + " WHERE " + where) > 0;
  }
  bool hold_exists(std::int64_t id) const { return exists("holds", "id = " + std::to_string(id)); }
  /// Moves a hold's times back by `age` (its rows as if written then).
  void age_hold(std::int64_t id, const std::string& age) const {
    db.exec("UPDATE holds SET created_at = created_at - interval '" + age +
            "', expires_at = expires_at - interval '" + age +
            "', settled_at = settled_at - interval '" + age + "' WHERE id = " + std::to_string(id));
  }
};

retention::policy defaults() {
  return {}; // 24h, 15m window, 7d, 14d, 30d, 1000: the settings' defaults
}

std::int64_t deleted(const retention::round_report& r, retention::kind k) {
  return r.deleted[static_cast<std::size_t>(k)];
}

} // namespace

SCENARIO("a round deletes old rows of each kind and keeps young ones and what is still needed") {
  fixture f;
  // ---- purchase keys: one past retention.idempotency-keys (7d), one young
  const auto old_buy = f.one(f.command(order_kind::purchase, 0, "old-key")).purchase.id;
  const auto new_buy = f.one(f.command(order_kind::purchase, 0, "new-key")).purchase.id;
  f.db.exec("UPDATE idempotency_keys SET created_at = now() - interval '8 days' "
            "WHERE idempotency_key = 'old-key'");

  // ---- holds
  const auto confirmed = f.hold(0);
  const auto bought = f.one(f.command(order_kind::confirm, 0, {}, confirmed)).purchase.id;
  f.age_hold(confirmed, "60 days");
  const auto released_old = f.hold(1);
  f.one(f.command(order_kind::release, 1, {}, released_old));
  f.age_hold(released_old, "15 days");
  const auto released_young = f.hold(1);
  f.one(f.command(order_kind::release, 1, {}, released_young));
  f.age_hold(released_young, "13 days");
  const auto keyed = f.hold(2, "hold-key"); // released 15 days ago, made 6 days before that
  f.one(f.command(order_kind::release, 2, {}, keyed));
  f.age_hold(keyed, "15 days");
  f.db.exec("UPDATE holds SET created_at = created_at - interval '5 days' WHERE id = " +
            std::to_string(keyed));                 // key 20 days old: forgotten too
  const auto keyed_young = f.hold(2, "hold-key-2"); // released 15 days ago, key 6 days old:
  f.one(f.command(order_kind::release, 2, {}, keyed_young)); // a retry must still find it
  f.db.exec("UPDATE holds SET created_at = now() - interval '6 days', expires_at = now() - "
            "interval '6 days' + interval '1 minute', settled_at = now() - interval '15 days' "
            "WHERE id = " +
            std::to_string(keyed_young));
  const auto held = f.hold(1); // aged below, after the last batch (which would expire it)
  const auto expired_old = f.hold(2);
  f.db.exec("UPDATE holds SET status = 'EXPIRED', created_at = now() - interval '30 days', "
            "expires_at = now() - interval '29 days', settled_at = now() - interval '29 days' "
            "WHERE id = " +
            std::to_string(expired_old));
  // A waitlist offer that expired long ago: its entry is the buyer's record and needs it.
  const auto offer = f.hold(1);
  f.db.exec("UPDATE holds SET status = 'EXPIRED', created_at = now() - interval '30 days', "
            "expires_at = now() - interval '29 days', settled_at = now() - interval '29 days' "
            "WHERE id = " +
            std::to_string(offer));
  f.db.exec("INSERT INTO waitlist_entries (event_id, ticket_type_id, participant_id, quantity, "
            "status, hold_id, created_at, offered_at, settled_at) SELECT event_id, "
            "ticket_type_id, participant_id, 1, 'EXPIRED', id, created_at, created_at, "
            "settled_at FROM holds WHERE id = " +
            std::to_string(offer));

  // HELD, its expiresAt long past but never stored as EXPIRED (no batch or sweep ran since).
  f.db.exec("UPDATE holds SET created_at = now() - interval '60 days', expires_at = now() - "
            "interval '59 days' WHERE id = " +
            std::to_string(held));
  REQUIRE(f.db.text("SELECT status FROM holds WHERE id = " + std::to_string(held)) == "HELD");

  // ---- login failures (retention.login-failures 24h)
  f.db.exec("INSERT INTO login_failures (subject, failures, first_failed_at, locked_until) VALUES "
            "('email:old@x.io', 3, now() - interval '2 days', NULL), "
            "('email:lockedout@x.io', 5, now() - interval '2 days', now() - interval '2 days'), "
            "('email:young@x.io', 2, now() - interval '1 hour', NULL), "
            "('addr:10.0.0.1', 50, now() - interval '2 days', now() + interval '1 hour')");

  // ---- the delivery log (retention.webhook-deliveries 30d): message 1 is still pending
  f.db.exec("INSERT INTO webhook_endpoints (url, event_types, sealed_secret) VALUES "
            "('https://hooks.example/a', ARRAY['hold.expired'], '\\x00'::bytea)");
  f.db.exec("INSERT INTO webhook_messages (id, endpoint_id, type, body, created_at, attempts) "
            "VALUES (1, 1, 'hold.expired', '{}', now() - interval '40 days', 6)");
  f.db.exec("INSERT INTO webhook_attempts (endpoint_id, message_id, type, attempt, outcome, "
            "duration_ms, attempted_at) VALUES "
            "(1, 1, 'hold.expired', 1, 'FAILED', 5, now() - interval '40 days'), "    // pending
            "(1, 2, 'hold.expired', 1, 'DELIVERED', 5, now() - interval '31 days'), " // settled
            "(1, 3, 'hold.expired', 1, 'FAILED', 5, now() - interval '35 days'), "
            "(1, 3, 'hold.expired', 2, 'FAILED', 5, now() - interval '31 days'), "
            "(1, 4, 'hold.expired', 1, 'DELIVERED', 5, now() - interval '29 days')");

  const auto before_purchases = f.scalar("SELECT count(*) FROM purchases");
  const auto before_audit = f.scalar("SELECT count(*) FROM audit_log");
  auto report = retention::run_round(f.s, defaults());

  THEN("exactly the rows past their keep, and needed by nothing, are gone") {
    CHECK_FALSE(report.skipped);
    CHECK(deleted(report, retention::kind::idempotency_keys) == 1);
    CHECK(deleted(report, retention::kind::holds) == 3); // released_old, keyed, expired_old
    CHECK(deleted(report, retention::kind::login_failures) == 2);
    CHECK(deleted(report, retention::kind::webhook_attempts) == 3);

    CHECK_FALSE(f.exists("idempotency_keys", "idempotency_key = 'old-key'"));
    CHECK(f.exists("idempotency_keys", "idempotency_key = 'new-key'"));

    CHECK_FALSE(f.hold_exists(released_old));
    CHECK_FALSE(f.hold_exists(keyed));
    CHECK_FALSE(f.hold_exists(expired_old));
    CHECK(f.hold_exists(released_young));
    CHECK(f.hold_exists(keyed_young));
    CHECK(f.hold_exists(held));
    CHECK(f.hold_exists(confirmed));
    CHECK(f.hold_exists(offer));

    CHECK(f.db.text("SELECT string_agg(subject, ',' ORDER BY subject) FROM login_failures") ==
          "addr:10.0.0.1,email:young@x.io");

    CHECK(f.db.text("SELECT string_agg(message_id || '/' || attempt, ',' ORDER BY message_id, "
                    "attempt) FROM webhook_attempts") == "1/1,4/1");
    CHECK(f.scalar("SELECT count(*) FROM webhook_messages") == 1); // pending: never touched
  }
  THEN("purchases, audit entries and every reference stay") {
    CHECK(f.scalar("SELECT count(*) FROM purchases") == before_purchases);
    CHECK(f.scalar("SELECT count(*) FROM audit_log") == before_audit);
    CHECK(f.scalar("SELECT count(*) FROM audit_log WHERE entity_type = 'hold' AND entity_id = " +
                   std::to_string(released_old)) >= 1);
    CHECK(f.scalar("SELECT count(*) FROM purchases p WHERE p.hold_id IS NOT NULL AND NOT EXISTS "
                   "(SELECT 1 FROM holds h WHERE h.id = p.hold_id)") == 0);
    CHECK(f.scalar("SELECT count(*) FROM waitlist_entries w WHERE w.hold_id = " +
                   std::to_string(offer)) == 1);
    CHECK(f.scalar("SELECT count(*) FROM idempotency_keys k WHERE NOT EXISTS "
                   "(SELECT 1 FROM purchases p WHERE p.id = k.purchase_id)") == 0);
  }
  THEN("replays of what is remembered still answer the original; a forgotten key is new") {
    auto again = f.one(f.command(order_kind::purchase, 0, "new-key"));
    CHECK(again.replayed);
    CHECK(again.purchase.id == new_buy);
    auto confirm_again = f.one(f.command(order_kind::confirm, 0, {}, confirmed));
    CHECK(confirm_again.replayed);
    CHECK(confirm_again.purchase.id == bought);
    auto hold_again = f.one(f.command(order_kind::hold, 2, "hold-key-2"));
    CHECK(hold_again.replayed);
    CHECK(hold_again.hold->id == keyed_young);
    auto forgotten = f.one(f.command(order_kind::purchase, 0, "old-key"));
    CHECK_FALSE(forgotten.replayed);
    CHECK(forgotten.purchase.id != old_buy);
    f.s.transact([&](tx& t) { CHECK_FALSE(holds::find(t, released_old).has_value()); });
  }
  THEN("a second round finds nothing more") {
    auto second = retention::run_round(f.s, defaults());
    CHECK_FALSE(second.skipped);
    for (auto k : retention::kinds)
      CHECK(deleted(second, k) == 0);
    CHECK(second.batches == static_cast<int>(retention::kinds.size()));
  }
}

SCENARIO("a run of failed logins inside login.failure-window stays whatever the retention age") {
  fixture f;
  f.db.exec("INSERT INTO login_failures (subject, failures, first_failed_at) VALUES "
            "('email:counting@x.io', 4, now() - interval '10 minutes'), "
            "('email:over@x.io', 4, now() - interval '20 minutes')");
  auto p = defaults();
  p.login_failures = milliseconds{1000}; // shorter than the 15 min window
  auto report = retention::run_round(f.s, p);
  CHECK(deleted(report, retention::kind::login_failures) == 1);
  CHECK(f.db.text("SELECT string_agg(subject, ',') FROM login_failures") == "email:counting@x.io");
}

SCENARIO("a kind's batches repeat while they come back full, then the round goes on") {
  CHECK(retention::next_step(retention::kind::login_failures, 10, 10) ==
        retention::kind::login_failures);
  CHECK(retention::next_step(retention::kind::login_failures, 9, 10) ==
        retention::kind::idempotency_keys);
  CHECK(retention::next_step(retention::kind::holds, 0, 10) == retention::kind::webhook_attempts);
  CHECK_FALSE(retention::next_step(retention::kind::webhook_attempts, 3, 10).has_value());

  fixture f;
  f.db.exec("INSERT INTO login_failures (subject, failures, first_failed_at) SELECT "
            "'addr:10.0.' || i, 1, now() - interval '3 days' - i * interval '1 second' "
            "FROM generate_series(1, 25) i");
  f.db.exec("INSERT INTO webhook_endpoints (url, event_types, sealed_secret) VALUES "
            "('https://hooks.example/a', ARRAY['hold.expired'], '\\x00'::bytea)");
  f.db.exec("INSERT INTO webhook_attempts (endpoint_id, message_id, type, attempt, outcome, "
            "duration_ms, attempted_at) SELECT 1, i, 'hold.expired', 1, 'DELIVERED', 1, "
            "now() - interval '40 days' FROM generate_series(1, 20) i");
  auto p = defaults();
  p.batch_size = 10;
  auto report = retention::run_round(f.s, p);
  CHECK(deleted(report, retention::kind::login_failures) == 25);
  CHECK(deleted(report, retention::kind::webhook_attempts) == 20);
  // logins 10, 10, 5; keys 0; holds 0; attempts 10, 10, 0
  CHECK(report.batches == 3 + 1 + 1 + 3);
  CHECK(f.scalar("SELECT count(*) FROM login_failures") == 0);
  CHECK(f.scalar("SELECT count(*) FROM webhook_attempts") == 0);
}

SCENARIO("a round while another session holds the retention lock deletes nothing and skips") {
  fixture f;
  f.db.exec("INSERT INTO login_failures (subject, failures, first_failed_at) VALUES "
            "('email:old@x.io', 1, now() - interval '3 days')");
  pqxx::connection other(f.db.conninfo());
  {
    pqxx::work w(other); // another node's batch in flight
    w.exec("SELECT pg_advisory_xact_lock(hashtext('eventhub.retention'))");
    auto report = retention::run_round(f.s, defaults());
    CHECK(report.skipped);
    CHECK(report.batches == 1);
    for (auto k : retention::kinds)
      CHECK(deleted(report, k) == 0);
    CHECK(f.scalar("SELECT count(*) FROM login_failures") == 1);
    CHECK_FALSE(retention::delete_batch(f.s, retention::kind::login_failures, defaults()));
    w.commit(); // the lock ends with its transaction
  }
  auto report = retention::run_round(f.s, defaults());
  CHECK_FALSE(report.skipped);
  CHECK(deleted(report, retention::kind::login_failures) == 1);
  // A batch's own lock ends with its commit: another session may take it at once.
  pqxx::work w(other);
  CHECK(
      w.exec("SELECT pg_try_advisory_xact_lock(hashtext('eventhub.retention'))")[0][0].as<bool>());
}

SCENARIO("every retention delete picks its rows by an index") {
  testing::pg_database db;
  pqxx::connection c(db.conninfo());
  pqxx::work w(c);
  w.exec("SET LOCAL enable_seqscan = off"); // the plan an index allows, whatever the table size
  const std::pair<const statement*, const char*> deletes[] = {
      {&sql::retention_login_failures, "login_failures_first_failed_idx"},
      {&sql::retention_idempotency_keys, "idempotency_keys_created_idx"},
      {&sql::retention_holds, "holds_finished_idx"},
      {&sql::retention_webhook_attempts, "webhook_attempts_attempted_idx"}};
  for (const auto& [st, index] : deletes) {
    w.exec(std::string("PREPARE p AS ") + st->sql);
    const bool three = st == &sql::retention_holds;
    std::string plan;
    for (const auto& row :
         w.exec(three ? "EXPLAIN EXECUTE p(1000, 1000, 100)" : "EXPLAIN EXECUTE p(1000, 100)"))
      plan += row[0].as<std::string>() + "\n";
    w.exec("DEALLOCATE p");
    INFO(plan);
    CHECK(plan.find(index) != std::string::npos);
    CHECK(plan.find("Seq Scan") == std::string::npos);
  }
}
