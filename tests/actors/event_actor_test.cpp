// The event actor, step by step: group commit, batch_max, the sold-out memo, deadlines, and the
// registry's passivation handshake. The batch transaction is an in-memory stand-in that applies
// the real rules (domain::decide_batch); the database's own part is tested in tests/pg.
#include "actors/event_registry.hpp"
#include "domain/purchase_rules.hpp"
#include "tests/actors/actor_fixture.hpp"

#include "observability/metrics.hpp"

#include <caf/send.hpp>
#include <catch2/catch.hpp>

using namespace eventhub;
using namespace eventhub::actors;
using eventhub::test::deterministic_system;

namespace {

/// An event's stock in memory, sold by the real decision rules; records each batch's size.
struct fake_inventory {
  domain::event_stock stock;
  std::vector<std::size_t> batches;
  std::int64_t next_id = 1;

  explicit fake_inventory(std::int64_t capacity) {
    stock.capacity = capacity;
    stock.starts_at = domain::now() + std::chrono::hours(24);
    stock.types.push_back({1, capacity, 0, 0, "EUR"}); // one "General admission" type
  }

  persistence::purchases::batch_outcome commit(const std::vector<domain::purchase_request>& batch) {
    batches.push_back(batch.size());
    stock.now = domain::now();
    auto decisions = domain::decide_batch(stock, batch, {});
    persistence::purchases::batch_outcome out;
    out.stock = stock;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (decisions[i].verdict == domain::verdict::confirm)
        out.results.emplace_back(domain::purchase_outcome{
            {next_id++, batch[i].event_id, batch[i].participant_id, batch[i].quantity, stock.now},
            false});
      else
        out.results.emplace_back(
            domain::refusal_error({decisions[i].verdict, decisions[i].available}));
    }
    return out;
  }
};

batch_committer committer(std::shared_ptr<fake_inventory> inv) {
  return [inv](persistence::session&, std::int64_t, const std::vector<domain::purchase_request>& b,
               std::chrono::milliseconds, const std::vector<deadline>&, bool,
               std::chrono::milliseconds) { return inv->commit(b); };
}

purchase_command buy(std::int32_t quantity, std::int64_t participant = 1,
                     std::chrono::milliseconds due_in = std::chrono::seconds(10)) {
  purchase_command cmd;
  cmd.request = {7, participant, quantity, std::nullopt, "req"};
  cmd.due = std::chrono::steady_clock::now() + due_in;
  return cmd;
}

struct event_fixture {
  deterministic_system t;
  test::fake_pool_actor pool = t.spawn_fake_pool();
  std::shared_ptr<fake_inventory> inventory;
  event_actor_options options;
  registry_options routing;
  event_registry_actor registry;

  explicit event_fixture(std::int64_t capacity, int batch_max = 512,
                         std::chrono::milliseconds idle = std::chrono::seconds(60))
      : inventory(std::make_shared<fake_inventory>(capacity)) {
    options.batch_max = batch_max;
    options.idle_timeout = idle;
    auto sink = t.keep(t.sys().spawn(
        [](caf::event_based_actor*, int) -> caf::behavior {
          return {[](notify_atom, const confirmation_list&) {}};
        },
        0)); // an argument: see deterministic_system::ask
    registry = t.keep(spawn_event_registry(
        t.sys(),
        registry_deps{pool, caf::actor_cast<confirmation_sink>(sink), committer(inventory)},
        options, routing));
  }

  auto purchase(purchase_command cmd) {
    return t.ask<purchase_answer>(registry, purchase_atom::value, cmd);
  }
  std::size_t jobs_held() { return t.pool_state(pool).held.size(); }
  std::size_t jobs_received() { return t.pool_state(pool).received; }
};

double live_event_actors() {
  return metrics::registry::global()
      .get_gauge("eventhub_event_actors", "Event actors alive on this node")
      .value();
}

} // namespace

SCENARIO("purchases arriving during a batch go together into the next one") {
  GIVEN("an event actor whose first batch is in the database") {
    event_fixture f(100);
    auto first = f.purchase(buy(1));
    f.t.run();
    REQUIRE(f.jobs_held() == 1);
    WHEN("five more purchases arrive before it commits") {
      std::vector<std::shared_ptr<std::optional<purchase_answer>>> later;
      for (int i = 0; i < 5; ++i)
        later.push_back(f.purchase(buy(2, 10 + i)));
      f.t.run();
      THEN("no second transaction starts while the first runs") {
        CHECK(f.jobs_held() == 1);
        CHECK_FALSE(first->has_value());
      }
      AND_WHEN("the first commits") {
        f.t.release(f.pool);
        THEN("its buyer is answered and the five form one batch") {
          REQUIRE(first->has_value());
          CHECK((*first)->ok());
          CHECK(f.jobs_held() == 1);
          f.t.release(f.pool);
          CHECK(f.inventory->batches == std::vector<std::size_t>{1, 5});
          for (auto& a : later) {
            REQUIRE(a->has_value());
            CHECK((*a)->ok());
          }
          CHECK(f.inventory->stock.sold == 11);
        }
      }
    }
  }
}

SCENARIO("a batch holds at most purchase.batch-max purchases") {
  event_fixture f(100, 2);
  auto first = f.purchase(buy(1));
  f.t.run();
  for (int i = 0; i < 5; ++i)
    f.purchase(buy(1, 20 + i));
  f.t.run();
  while (f.jobs_held() > 0)
    f.t.release(f.pool);
  CHECK(f.inventory->batches == std::vector<std::size_t>{1, 2, 2, 1});
}

SCENARIO("the sold-out memo refuses without the database until the event changes") {
  GIVEN("an event whose last tickets a batch sold") {
    event_fixture f(2);
    auto sold = f.purchase(buy(2));
    f.t.run();
    f.t.release(f.pool);
    REQUIRE((*sold)->ok());
    const auto jobs = f.jobs_received();
    WHEN("another buyer asks for a ticket") {
      auto late = f.purchase(buy(1, 2));
      f.t.run();
      THEN("it is refused as sold out with 0 left, and no transaction ran") {
        REQUIRE(late->has_value());
        REQUIRE_FALSE((*late)->ok());
        CHECK((*late)->err().code == domain::error_code::sold_out);
        CHECK((*late)->err().tickets_available == 0);
        CHECK(f.jobs_received() == jobs);
      }
    }
    WHEN("a buyer repeats an Idempotency-Key (a possible replay)") {
      auto cmd = buy(1, 2);
      cmd.request.idempotency_key = "k-1";
      cmd.memo_ok = false;
      f.purchase(cmd);
      f.t.run();
      THEN("the database decides, not the memo") {
        CHECK(f.jobs_received() == jobs + 1);
      }
    }
    WHEN("an admin changes the event") {
      f.inventory->stock.capacity = 3;
      f.inventory->stock.types[0].quota = 3;
      caf::anon_send(f.registry, event_changed_atom::value, std::int64_t{7});
      f.t.run();
      auto next = f.purchase(buy(1, 3));
      f.t.run();
      THEN("the next purchase goes to the database and gets the raised capacity") {
        CHECK(f.jobs_received() == jobs + 1);
        f.t.release(f.pool);
        REQUIRE(next->has_value());
        CHECK((*next)->ok());
      }
    }
  }
}

SCENARIO("a purchase whose asker stopped waiting is answered 503 and never sold") {
  event_fixture f(10);
  auto first = f.purchase(buy(1));
  f.t.run();
  auto late = f.purchase(buy(1, 2, std::chrono::milliseconds(-1)));
  auto fine = f.purchase(buy(1, 3));
  f.t.run();
  f.t.release(f.pool);
  f.t.release(f.pool);
  REQUIRE(late->has_value());
  REQUIRE_FALSE((*late)->ok());
  CHECK((*late)->err().code == domain::error_code::unavailable);
  CHECK(f.inventory->batches == std::vector<std::size_t>{1, 1});
  CHECK(f.inventory->stock.sold == 2);
  REQUIRE(fine->has_value());
  CHECK((*fine)->ok());
}

SCENARIO("a failed batch answers each of its purchases 503 and forgets the memo") {
  event_fixture f(1);
  f.inventory->stock.sold = 1; // sold out, but the actor does not know yet
  auto first = f.purchase(buy(1));
  f.t.run();
  // The pool answers the job with a failure instead of running it.
  auto& held = f.t.pool_state(f.pool).held;
  REQUIRE(held.size() == 1);
  held.front().first.work = [](persistence::session&) {
    return db_answer{{}, domain::unavailable("The database is unavailable.")};
  };
  f.t.release(f.pool);
  REQUIRE(first->has_value());
  CHECK((*first)->err().code == domain::error_code::unavailable);
  f.purchase(buy(1, 2));
  f.t.run();
  CHECK(f.jobs_held() == 1); // no memo: asked the database again
}

SCENARIO("an idle event actor is passivated only when nothing is on its way to it") {
  GIVEN("an event actor that served a purchase and is idle") {
    event_fixture f(10, 512, std::chrono::milliseconds(0));
    auto first = f.purchase(buy(1));
    f.t.run();
    f.t.release(f.pool);
    REQUIRE((*first)->ok());
    WHEN("its idle timer fires with nothing in flight") {
      f.t.fire_timers();
      THEN("the registry forgets it and it exits; the next purchase spawns a fresh one") {
        CHECK(live_event_actors() == 0);
        auto next = f.purchase(buy(1, 2));
        f.t.run();
        f.t.release(f.pool);
        REQUIRE(next->has_value());
        CHECK((*next)->ok());
      }
    }
    WHEN("a purchase is on its way when it reports idle") {
      // Its idle timer fires first (idle_check queued), then the registry hands it a purchase
      // before it has read the timer: the idle report counts 1 received, the registry sent 2.
      f.t.sched().trigger_timeouts();
      auto next = f.purchase(buy(1, 2));
      f.t.run();
      THEN("it is not passivated and serves the purchase") {
        CHECK(live_event_actors() == 1);
        REQUIRE(f.jobs_held() == 1);
        f.t.release(f.pool);
        REQUIRE(next->has_value());
        CHECK((*next)->ok());
        CHECK(f.inventory->stock.sold == 2);
      }
    }
  }
}
