// The purchase batch transaction against a real database: capacity, idempotency, outbox,
// and the row lock as the backstop against a concurrent writer.
#include "persistence/confirmation_repository.hpp"
#include "persistence/event_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"
#include "persistence/webhook_repository.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <thread>

using namespace eventhub;
using namespace eventhub::persistence;
using std::chrono::milliseconds;

namespace {

struct fixture {
  testing::pg_database db;
  session s{db.options()};
  std::int64_t event_id = 0;
  std::vector<std::int64_t> users;

  explicit fixture(std::int64_t capacity = 5, int user_count = 4) {
    s.transact([&](tx& t) {
      domain::event_draft d{"Show",       std::nullopt,
                            "Hall",       domain::now() + std::chrono::hours(24),
                            std::nullopt, capacity};
      event_id = events::insert(t, d).id;
      for (int i = 0; i < user_count; ++i) {
        domain::new_participant p{"u" + std::to_string(i) + "@x.io", "", "U", domain::role::user};
        users.push_back(participants::insert(t, p, "$argon2id$fake").value().id);
      }
    });
  }

  domain::purchase_request buy(int user, int qty, std::optional<std::string> key = {}) const {
    return {event_id, users[static_cast<std::size_t>(user)], qty, std::move(key),
            "req-" + std::to_string(user)};
  }

  purchases::batch_outcome commit(const std::vector<domain::purchase_request>& batch,
                                  milliseconds redelivery_delay = milliseconds{10000}) {
    return purchases::commit_batch(s, event_id, batch, redelivery_delay);
  }
};

} // namespace

SCENARIO("a batch sells what is left, in order, and writes one outbox row per purchase") {
  fixture f(5);
  auto out = f.commit({f.buy(0, 2), f.buy(1, 4), f.buy(2, 3), f.buy(3, 1)});
  REQUIRE(out.results.size() == 4);
  CHECK(out.results[0].ok());
  CHECK(out.results[1].err().code == domain::error_code::sold_out);
  CHECK(out.results[1].err().tickets_available == 3);
  CHECK(out.results[2].ok());
  CHECK(out.results[3].err().code == domain::error_code::sold_out);
  CHECK(out.stock->sold == 5);
  CHECK(out.confirmations.size() == 2);
  CHECK(f.db.scalar("SELECT tickets_sold FROM events") == 5);
  CHECK(f.db.scalar("SELECT sum(quantity) FROM purchases") == 5);
  CHECK(f.db.scalar("SELECT count(*) FROM pending_confirmations") == 2);
  CHECK(f.db.scalar(
            "SELECT count(*) FROM pending_confirmations c JOIN purchases p ON p.id = c.purchase_id "
            "WHERE c.request_id = 'req-0' AND p.quantity = 2") == 1);
}

SCENARIO("the outbox: due rows are claimed once, delivered ones deleted") {
  fixture f(5);
  auto out = f.commit({f.buy(0, 1), f.buy(1, 1), f.buy(2, 1)}, milliseconds{0});
  REQUIRE(out.confirmations.size() == 3);
  auto claim = [&] {
    return f.s.transact(
        [](tx& t) { return confirmations::claim_due(t, 10, std::chrono::seconds(60)); });
  };
  auto claimed = claim();
  REQUIRE(claimed.size() == 3);
  CHECK(claimed[0].attempts == 1);
  CHECK(claimed[0].request_id == "req-0");
  CHECK(claim().empty()); // leased to the first sweeper

  std::vector<std::int64_t> delivered{claimed[0].purchase_id, claimed[1].purchase_id};
  f.s.transact([&](tx& t) { persistence::webhooks::fan_out_confirmations(t, delivered); });
  CHECK(f.db.scalar("SELECT count(*) FROM pending_confirmations") == 1);
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages") == 0); // no endpoint wants them
  CHECK(f.db.scalar("SELECT count(*) FROM purchases") == 3);        // the purchases stay
}

SCENARIO("idempotency keys replay the original purchase across batches") {
  fixture f(3);
  auto first = f.commit({f.buy(0, 2, "key-1")});
  REQUIRE(first.results[0].ok());
  const auto original = first.results[0]->purchase.id;
  auto again = f.commit({f.buy(0, 2, "key-1"), f.buy(0, 1, "key-1"), f.buy(1, 1)});
  REQUIRE(again.results[0].ok());
  CHECK(again.results[0]->replayed);
  CHECK(again.results[0]->purchase.id == original);
  CHECK(again.results[1].err().code == domain::error_code::idempotency_mismatch);
  CHECK(again.results[2].ok());
  CHECK(f.commit({f.buy(2, 1)}).results[0].err().code == domain::error_code::sold_out);
  auto after_sold_out = f.commit({f.buy(0, 2, "key-1")});
  REQUIRE(after_sold_out.results[0].ok()); // still replayed: nothing charged twice
  CHECK(after_sold_out.results[0]->replayed);
  CHECK(f.db.scalar("SELECT count(*) FROM purchases") == 2);
  CHECK(f.db.scalar("SELECT tickets_sold FROM events") == 3);
}

SCENARIO("a key used on another event is refused with 422") {
  fixture f(5);
  f.commit({f.buy(0, 1, "shared")});
  std::int64_t other = 0;
  f.s.transact([&](tx& t) {
    other = events::insert(t, {"Other", std::nullopt, "Hall", domain::now() + std::chrono::hours(1),
                               std::nullopt, 5})
                .id;
  });
  domain::purchase_request req{other, f.users[0], 1, std::string("shared"), "r"};
  auto out = purchases::commit_batch(f.s, other, {req}, milliseconds{10000});
  CHECK(out.results[0].err().code == domain::error_code::idempotency_mismatch);
}

SCENARIO("a key another transaction takes between our read and our insert is seen on retry") {
  fixture f(5);
  std::int64_t other = 0;
  f.s.transact([&](tx& t) {
    other = events::insert(t, {"Other", std::nullopt, "Hall", domain::now() + std::chrono::hours(1),
                               std::nullopt, 5})
                .id;
  });
  GIVEN("another transaction has inserted the key for another event and not yet committed") {
    pqxx::connection rival(f.db.conninfo());
    pqxx::work w(rival);
    const auto uid = std::to_string(f.users[0]), eid = std::to_string(other);
    const auto purchase_id = std::to_string(
        w.exec1("INSERT INTO purchases (event_id, participant_id, quantity, ticket_type_id, "
                "unit_price_cents, currency, total_cents) VALUES (" +
                eid + ", " + uid + ", 1, (SELECT id FROM ticket_types WHERE event_id = " + eid +
                "), 0, 'EUR', 0) RETURNING id")[0]
            .as<std::int64_t>());
    w.exec("INSERT INTO idempotency_keys (participant_id, idempotency_key, event_id, quantity, "
           "purchase_id) VALUES (" +
           uid + ", 'raced', " + eid + ", 1, " + purchase_id + ")");
    WHEN("our batch with that key commits while the rival commits") {
      std::thread committer([&] {
        std::this_thread::sleep_for(milliseconds{300}); // our insert is waiting on the key by then
        w.exec("UPDATE events SET tickets_sold = 1 WHERE id = " + eid);
        w.commit();
      });
      auto out = f.commit({f.buy(0, 1, "raced"), f.buy(1, 1)});
      committer.join();
      THEN("the batch is retried, sees the rival's purchase and sells nothing for the key") {
        CHECK(out.results[0].err().code == domain::error_code::idempotency_mismatch);
        CHECK(out.results[1].ok());
        CHECK(f.db.scalar("SELECT count(*) FROM purchases WHERE event_id = " +
                          std::to_string(f.event_id)) == 1);
        CHECK(f.db.scalar("SELECT tickets_sold FROM events WHERE id = " +
                          std::to_string(f.event_id)) == 1);
        CHECK(f.db.scalar("SELECT count(*) FROM pending_confirmations") == 1);
      }
    }
  }
}

SCENARIO("sales close at startsAt and unknown events are not found") {
  fixture f(5);
  f.db.exec("UPDATE events SET starts_at = now() - interval '1 second'");
  CHECK(f.commit({f.buy(0, 1)}).results[0].err().code == domain::error_code::sales_closed);
  auto missing = purchases::commit_batch(f.s, 999999, {f.buy(0, 1)}, milliseconds{1000});
  CHECK_FALSE(missing.stock);
  CHECK(missing.results[0].err().code == domain::error_code::not_found);
}

SCENARIO("the row lock protects against a writer that is not this actor") {
  fixture f(10);
  GIVEN("another session sells tickets of the same event behind our back") {
    f.db.exec("UPDATE events SET tickets_sold = 9");
    THEN("the batch sees the truth under the lock and sells only what is left") {
      auto out = f.commit({f.buy(0, 1), f.buy(1, 1)});
      CHECK(out.results[0].ok());
      CHECK(out.results[1].err().code == domain::error_code::sold_out);
      CHECK(f.db.scalar("SELECT tickets_sold FROM events") == 10);
    }
  }
  GIVEN("many sessions commit batches for one event at once") {
    testing::pg_database& db = f.db;
    std::vector<std::thread> writers;
    std::atomic<int> sold{0};
    for (int w = 0; w < 6; ++w)
      writers.emplace_back([&, w] {
        session mine(db.options());
        for (int i = 0; i < 5; ++i) {
          auto out =
              purchases::commit_batch(mine, f.event_id, {f.buy(w % 4, 1)}, milliseconds{1000});
          if (out.results[0].ok())
            ++sold;
        }
      });
    for (auto& t : writers)
      t.join();
    THEN("exactly capacity is sold and the counters agree") {
      CHECK(sold == 10);
      CHECK(db.scalar("SELECT tickets_sold FROM events") == 10);
      CHECK(db.scalar("SELECT sum(quantity) FROM purchases") == 10);
    }
  }
}

namespace {

domain::purchase_request cancel(std::int64_t caller, std::int64_t purchase_id, int qty,
                                std::int64_t event_id, std::optional<std::string> key = {}) {
  domain::purchase_request r{event_id, caller, qty, std::move(key), "cancel-req"};
  r.kind = domain::order_kind::cancel;
  r.purchase_id = purchase_id;
  return r;
}

} // namespace

SCENARIO("cancellations in batches free each ticket once and write one outbox row each") {
  fixture f(5);
  auto sold = f.commit({f.buy(0, 3)});
  const auto id = sold.results[0]->purchase.id;
  const auto owner = f.users[0];
  auto out = f.commit({cancel(owner, id, 2, f.event_id, "k"), cancel(owner, id, 2, f.event_id, "k"),
                       cancel(owner, id, 2, f.event_id), cancel(owner, id, 0, f.event_id)});
  REQUIRE(out.results.size() == 4);
  CHECK(out.results[0]->purchase.cancelled_quantity == 2);
  CHECK(out.results[1]->replayed);
  CHECK(out.results[2].err().code == domain::error_code::unprocessable); // 1 left
  CHECK(out.results[3]->purchase.cancelled_quantity == 3);
  CHECK(out.notifications.size() == 2);
  auto again = f.commit({cancel(owner, id, 0, f.event_id), cancel(owner, id, 2, f.event_id, "k")});
  CHECK(again.results[0].err().code == domain::error_code::already_cancelled);
  CHECK(again.results[1]->replayed);
  CHECK(f.db.scalar("SELECT tickets_sold FROM events") == 0);
  CHECK(f.db.scalar("SELECT tickets_sold FROM ticket_types") == 0);
  CHECK(f.db.scalar("SELECT cancelled_quantity FROM purchases") == 3);
  CHECK(f.db.scalar("SELECT count(*) FROM purchase_cancellations") == 2);
  CHECK(f.db.scalar("SELECT count(*) FROM pending_notifications WHERE type = "
                    "'purchase.cancelled'") == 2);
  auto rebuy = f.commit({f.buy(1, 5)});
  CHECK(rebuy.results[0].ok());
}

SCENARIO("the database refuses a cancellation that would make tickets_sold negative") {
  fixture f(5);
  auto sold = f.commit({f.buy(0, 3)});
  const auto id = sold.results[0]->purchase.id;
  // A writer that skipped the batch's rules: the counters may not go below zero, and a purchase
  // may not cancel more than it has.
  f.db.exec("UPDATE events SET tickets_sold = 1");
  f.db.exec("UPDATE ticket_types SET tickets_sold = 1");
  CHECK_THROWS(f.commit({cancel(f.users[0], id, 3, f.event_id)}));
  CHECK(f.db.scalar("SELECT cancelled_quantity FROM purchases") == 0);
  CHECK(f.db.scalar("SELECT count(*) FROM purchase_cancellations") == 0);
  CHECK_THROWS_AS(f.db.exec("UPDATE events SET tickets_sold = tickets_sold - 3"),
                  pqxx::check_violation);
  CHECK_THROWS_AS(f.db.exec("UPDATE purchases SET cancelled_quantity = 4, refunded_cents = 0"),
                  pqxx::check_violation);
  CHECK(f.db.scalar("SELECT tickets_sold FROM events") == 1);
}
