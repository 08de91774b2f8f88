// Holds against a real database: the batch holds, confirms and releases in arrival order, an
// expired hold is freed once whoever expires it (the batch, the sweep, both at once), and a
// confirm from expiresAt on is hold-expired.
#include "persistence/event_repository.hpp"
#include "persistence/hold_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace eventhub;
using namespace eventhub::persistence;
using std::chrono::milliseconds;

namespace {

struct fixture {
  testing::pg_database db;
  session s{db.options()};
  std::vector<std::int64_t> users;
  std::int64_t event_id = 0;

  explicit fixture(std::int64_t capacity) {
    s.transact([&](tx& t) {
      for (int i = 0; i < 3; ++i) {
        domain::new_participant p{"u" + std::to_string(i) + "@x.io", "", "U", domain::role::user};
        users.push_back(participants::insert(t, p, "$argon2id$fake").value().id);
      }
      domain::event_draft d{"Show",       std::nullopt,
                            "Hall",       domain::now() + std::chrono::hours(24),
                            std::nullopt, capacity};
      event_id = events::insert(t, d).id;
    });
  }

  domain::purchase_request command(domain::order_kind kind, int user, int qty = 1,
                                   std::int64_t hold_id = 0,
                                   milliseconds ttl = milliseconds{60000}) {
    domain::purchase_request r;
    r.kind = kind;
    r.event_id = event_id;
    r.participant_id = users[static_cast<std::size_t>(user)];
    r.quantity = qty;
    r.hold_id = hold_id;
    r.hold_ttl = ttl;
    r.request_id = "req";
    return r;
  }

  purchases::batch_outcome batch(const std::vector<domain::purchase_request>& commands) {
    return purchases::commit_batch(s, event_id, commands, milliseconds{10000});
  }

  long long scalar(const std::string& sql) const { return db.scalar(sql); }
};

using domain::order_kind;

} // namespace

SCENARIO("one batch holds, confirms and releases in arrival order against sold plus held") {
  fixture f(3);
  auto first = f.batch({f.command(order_kind::hold, 0, 2), f.command(order_kind::hold, 1, 2),
                        f.command(order_kind::hold, 1, 1)});
  REQUIRE(first.results[0].ok());
  CHECK_FALSE(first.results[1].ok()); // 2 of the 1 left
  CHECK(first.results[1].err().code == domain::error_code::sold_out);
  REQUIRE(first.results[2].ok());
  CHECK(first.stock->held == 3);
  const auto a = first.results[0]->hold->id, b = first.results[2]->hold->id;

  auto second = f.batch({f.command(order_kind::confirm, 0, 0, a),
                         f.command(order_kind::confirm, 0, 0, a), // again: the same purchase
                         f.command(order_kind::release, 1, 0, b),
                         f.command(order_kind::purchase, 2, 1),     // fits in b's freed ticket
                         f.command(order_kind::release, 0, 0, a)}); // confirmed: refused
  REQUIRE(second.results[0].ok());
  REQUIRE(second.results[1].ok());
  CHECK(second.results[1]->replayed);
  CHECK(second.results[1]->purchase.id == second.results[0]->purchase.id);
  CHECK(second.results[0]->purchase.quantity == 2);
  REQUIRE(second.results[2].ok());
  REQUIRE(second.results[3].ok());
  CHECK(second.results[4].err().code == domain::error_code::hold_confirmed);
  CHECK(f.scalar("SELECT tickets_sold FROM events") == 3);
  CHECK(f.scalar("SELECT tickets_held FROM events") == 0);
  CHECK(f.scalar("SELECT count(*) FROM purchases WHERE hold_id IS NOT NULL") == 1);
  CHECK(f.scalar("SELECT count(*) FROM holds WHERE status = 'RELEASED'") == 1);
  CHECK(f.scalar("SELECT count(*) FROM pending_confirmations") == 2);
}

SCENARIO("a due hold is expired once, by whichever writer locks the event first") {
  for (int round = 0; round < 5; ++round) {
    fixture f(2);
    auto made = f.batch({f.command(order_kind::hold, 0, 2, 0, milliseconds{1000})});
    REQUIRE(made.results[0].ok());
    const auto id = made.results[0]->hold->id;
    REQUIRE(made.stock->next_expiry);
    // From expiresAt on, the tickets are free in reads before any writer ran.
    while (domain::now() < made.results[0]->hold->expires_at)
      std::this_thread::sleep_for(milliseconds{20});
    CHECK(f.scalar("SELECT count(*) FROM holds WHERE status = 'HELD'") == 1);
    CHECK(f.s.transact([&](tx& t) { return events::find(t, f.event_id)->tickets_held; }) == 0);

    // The sweep and a batch race for it: one expiry, one notification, counters back to 0.
    session other{f.db.options()};
    std::vector<domain::notification> swept;
    std::thread sweeper([&] { swept = holds::sweep(other, 10, {}); });
    auto late = f.batch({f.command(order_kind::confirm, 0, 0, id)});
    sweeper.join();
    REQUIRE_FALSE(late.results[0].ok());
    CHECK(late.results[0].err().code == domain::error_code::hold_expired);
    CHECK(swept.size() + late.notifications.size() == 1);
    CHECK(f.scalar("SELECT count(*) FROM holds WHERE status = 'EXPIRED'") == 1);
    CHECK(f.scalar("SELECT count(*) FROM pending_notifications WHERE type = 'hold.expired'") == 1);
    CHECK(f.scalar("SELECT tickets_held FROM events") == 0);
    CHECK(f.scalar("SELECT tickets_held FROM ticket_types") == 0);
    CHECK(f.scalar("SELECT count(*) FROM purchases") == 0);
    CHECK_FALSE(late.stock->next_expiry);
  }
}

SCENARIO("a hold counts against maxPerBuyer until it is released") {
  fixture f(10);
  f.db.exec("UPDATE events SET max_per_buyer = 3");
  auto out = f.batch({f.command(order_kind::hold, 0, 2), f.command(order_kind::purchase, 0, 2),
                      f.command(order_kind::purchase, 0, 1)});
  REQUIRE(out.results[0].ok());
  CHECK(out.results[1].err().code == domain::error_code::buyer_limit);
  CHECK(out.results[1].err().tickets_allowed == 1);
  REQUIRE(out.results[2].ok());
  auto next = f.batch({f.command(order_kind::release, 0, 0, out.results[0]->hold->id),
                       f.command(order_kind::purchase, 0, 2)});
  REQUIRE(next.results[0].ok());
  REQUIRE(next.results[1].ok());
  CHECK(f.scalar("SELECT sum(quantity) FROM purchases") == 3);
}

SCENARIO("the database checks a hold's references by itself") {
  fixture f(5);
  const auto fk_violation = [&](const std::string& sql) {
    try {
      f.db.exec(sql);
      return false;
    } catch (const pqxx::foreign_key_violation&) {
      return true;
    }
  };
  const std::string columns = "INSERT INTO holds (event_id, ticket_type_id, participant_id, "
                              "quantity, unit_price_cents, currency, expires_at) VALUES ";
  const auto type = std::to_string(f.scalar("SELECT id FROM ticket_types"));
  const auto event = std::to_string(f.event_id), user = std::to_string(f.users[0]);
  const std::string rest = ", 1, 0, 'EUR', now() + interval '1 minute')";
  CHECK(fk_violation(columns + "(" + event + ", " + type + ", 999999" + rest));
  CHECK(fk_violation(columns + "(999999, " + type + ", " + user + rest));
  CHECK(fk_violation(columns + "(" + event + ", 999999, " + user + rest));
  CHECK(f.scalar("SELECT count(*) FROM holds") == 0);

  // A released hold keeps its type from deletion; the event's deletion takes it along.
  auto made = f.batch({f.command(order_kind::hold, 0, 1)});
  REQUIRE(made.results[0].ok());
  f.batch({f.command(order_kind::release, 0, 0, made.results[0]->hold->id)});
  CHECK(fk_violation("DELETE FROM ticket_types"));
  CHECK(fk_violation("UPDATE holds SET participant_id = 999999"));
  CHECK(fk_violation("INSERT INTO purchases (event_id, participant_id, quantity, ticket_type_id, "
                     "unit_price_cents, currency, total_cents, hold_id) VALUES (" +
                     event + ", " + user + ", 1, " + type + ", 0, 'EUR', 0, 999999)"));
  f.db.exec("DELETE FROM events");
  CHECK(f.scalar("SELECT count(*) FROM holds") == 0);
}
