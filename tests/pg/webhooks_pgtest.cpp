// Webhooks in PostgreSQL (persistence/webhook_repository): the fan-out of delivered outbox rows
// into one message per subscribed endpoint, once even when two transactions race for the rows;
// the deliverers' claims (leased, never for a disabled endpoint); outcomes that settle a message
// once; the delivery log newest first; the configured endpoint rewritten; deletes cascading.
#include "persistence/event_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"
#include "persistence/webhook_repository.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <thread>

using namespace eventhub;
using namespace eventhub::persistence;
using std::chrono::milliseconds;
namespace hooks = persistence::webhooks;

namespace {

struct fixture {
  testing::pg_database db;
  session s{db.options()};
  std::int64_t event_id = 0;
  std::int64_t user = 0;
  std::int64_t all = 0;       // an endpoint of every type
  std::int64_t check_ins = 0; // an endpoint of ticket.checked_in only

  fixture() {
    s.transact([&](tx& t) {
      domain::event_draft d{
          "Show", std::nullopt, "Hall", domain::now() + std::chrono::hours(24), std::nullopt, 50};
      event_id = events::insert(t, d).id;
      domain::new_participant p{"u@x.io", "", "U", domain::role::user};
      user = participants::insert(t, p, "$argon2id$fake").value().id;
      auto seal = [](std::int64_t id) { return "sealed-" + std::to_string(id); };
      all = hooks::create(t, {"https://a.example/h", {"purchase.confirmed", "ticket.checked_in"}},
                          seal)
                .id;
      check_ins = hooks::create(t, {"https://b.example/h", {"ticket.checked_in"}}, seal).id;
    });
  }

  std::vector<std::int64_t> buy(int purchases) {
    std::vector<domain::purchase_request> batch;
    for (int i = 0; i < purchases; ++i)
      batch.push_back({event_id, user, 1, std::nullopt, "req-" + std::to_string(i)});
    auto out = purchases::commit_batch(s, event_id, batch, milliseconds{10000});
    std::vector<std::int64_t> ids;
    for (const auto& c : out.confirmations)
      ids.push_back(c.purchase_id);
    return ids;
  }

  std::vector<hooks::message> claim(std::int64_t endpoint, int limit = 10) {
    return s.transact(
        [&](tx& t) { return hooks::claim_due(t, endpoint, limit, milliseconds{60000}); });
  }

  void record(std::int64_t endpoint, std::vector<hooks::attempt_record> outcomes) {
    s.transact([&](tx& t) { hooks::record(t, endpoint, outcomes); });
  }
};

hooks::attempt_record outcome(const hooks::message& m, const char* outcome, const char* next,
                              int status = 0) {
  hooks::attempt_record r;
  r.message_id = m.id;
  r.type = m.type;
  r.attempt = m.attempts + 1;
  r.outcome = outcome;
  r.next_status = next;
  r.response_status = status;
  r.duration_ms = 3;
  r.attempted_at = domain::now();
  return r;
}

} // namespace

SCENARIO("a fan-out writes one message per subscribed endpoint and deletes the outbox rows") {
  fixture f;
  auto ids = f.buy(3);
  REQUIRE(ids.size() == 3);
  auto endpoints = f.s.transact([&](tx& t) { return hooks::fan_out_confirmations(t, ids); });
  CHECK(endpoints == std::vector<std::int64_t>{f.all}); // the other wants check-ins only
  CHECK(f.db.scalar("SELECT count(*) FROM pending_confirmations") == 0);
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages WHERE endpoint_id = " +
                    std::to_string(f.all)) == 3);
  CHECK(f.db.text("SELECT body::json -> 'data' ->> 'requestId' FROM webhook_messages ORDER BY id "
                  "LIMIT 1") == "req-0");
  // Fanned out again (a sweep of another node that claimed the rows before they were deleted):
  // they are gone, so nothing more is written.
  CHECK(f.s.transact([&](tx& t) { return hooks::fan_out_confirmations(t, ids); }).empty());
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages") == 3);
}

SCENARIO("two fan-outs of the same outbox rows racing write their messages once") {
  fixture f;
  session other{f.db.options()};
  long long written = 0;
  for (int round = 1; round <= 3; ++round) {
    auto ids = f.buy(15);
    REQUIRE(ids.size() == 15);
    written += 15;
    std::vector<std::int64_t> second;
    // The first deletes the rows and keeps its transaction open until the second waits on their
    // locks; the second then finds them deleted (READ COMMITTED re-checks a row whose deleter
    // committed) and writes nothing.
    std::thread racer;
    const bool overlapped = f.s.transact([&](tx& t) {
      hooks::fan_out_confirmations(t, ids);
      racer = std::thread([&] {
        second = other.transact([&](tx& t2) { return hooks::fan_out_confirmations(t2, ids); });
      });
      auto waiting = [&] {
        return f.db.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                           "'Lock'") > 0;
      };
      for (int i = 0; i < 500 && !waiting(); ++i)
        std::this_thread::sleep_for(milliseconds{10}); // polls a condition, bounded
      return waiting();
    });
    racer.join();
    CHECK(overlapped);
    CHECK(second.empty());
    CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages") == written);
  }
}

SCENARIO("a disabled endpoint gets no messages and its deliverer can claim none") {
  fixture f;
  auto first = f.buy(1);
  f.s.transact([&](tx& t) { hooks::fan_out_confirmations(t, first); });
  auto url = f.s.transact([&](tx& t) { return hooks::disable(t, f.all, "410"); });
  CHECK(url == std::optional<std::string>("https://a.example/h"));
  CHECK(f.s.transact([&](tx& t) { return hooks::disable(t, f.all, "410"); }) == std::nullopt);
  CHECK(f.claim(f.all).empty());
  auto later = f.buy(1);
  CHECK(f.s.transact([&](tx& t) { return hooks::fan_out_confirmations(t, later); }).empty());
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages") == 1);
}

SCENARIO("claims are leased; outcomes settle a message once and retries come back when due") {
  fixture f;
  auto ids = f.buy(3);
  f.s.transact([&](tx& t) { hooks::fan_out_confirmations(t, ids); });
  auto claimed = f.claim(f.all);
  REQUIRE(claimed.size() == 3);
  CHECK(claimed[0].attempts == 0);
  CHECK(f.claim(f.all).empty()); // leased to the first deliverer

  auto retry = outcome(claimed[1], "FAILED", "PENDING", 500);
  retry.retry_in = milliseconds{0};
  auto later = outcome(claimed[2], "TIMED_OUT", "PENDING");
  later.retry_in = milliseconds{3600000};
  f.record(f.all, {outcome(claimed[0], "DELIVERED", "DELIVERED", 204), retry, later});
  auto due = f.claim(f.all);
  REQUIRE(due.size() == 1); // the hour-long retry is not due; the delivered one is done
  CHECK(due[0].id == claimed[1].id);
  CHECK(due[0].attempts == 1);
  CHECK(due[0].body == claimed[1].body); // the same bytes on every attempt

  CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages WHERE id = " +
                    std::to_string(claimed[0].id)) == 0); // delivered: settled, deleted

  // A late outcome for a settled message changes nothing.
  auto late = outcome(claimed[0], "FAILED", "PENDING", 500);
  f.record(f.all, {late});
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages WHERE id = " +
                    std::to_string(claimed[0].id)) == 0);

  f.record(f.all, {outcome(due[0], "FAILED", "FAILED", 500)});      // the schedule's last
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages") == 1); // the hour-long retry

  auto log = f.s.transact([&](tx& t) { return hooks::attempts(t, f.all, {0, 3}); });
  CHECK(log.total_items == 6);
  REQUIRE(log.items.size() == 3);
  CHECK(log.items[0].message_id == domain::webhook_message_id(due[0].id)); // newest first
  CHECK(log.items[0].attempt == 2);
  CHECK(log.items[0].response_status == 500);
  CHECK(log.items[0].type == "purchase.confirmed");
  auto all = f.s.transact([&](tx& t) { return hooks::attempts(t, f.all, {0, 10}); });
  REQUIRE(all.items.size() == 6);
  for (std::size_t i = 1; i < all.items.size(); ++i)
    CHECK(all.items[i - 1].attempted_at >= all.items[i].attempted_at);
  auto timed_out = std::find_if(all.items.begin(), all.items.end(),
                                [](const auto& a) { return a.outcome == "TIMED_OUT"; });
  REQUIRE(timed_out != all.items.end());
  CHECK(timed_out->response_status == std::nullopt); // the time-out had no answer
}

SCENARIO("the configured endpoint is rewritten at each start and removed when unset") {
  fixture f;
  auto seal = [](std::int64_t id) { return "configured-" + std::to_string(id); };
  f.s.transact([&](tx& t) { hooks::configure(t, "https://c.example/1", seal); });
  const auto id = f.db.scalar("SELECT id FROM webhook_endpoints WHERE configured");
  f.s.transact([&](tx& t) { hooks::disable(t, id, "410"); });
  f.s.transact([&](tx& t) { hooks::configure(t, "https://c.example/2", seal); });
  CHECK(f.db.text("SELECT url || ' ' || enabled || ' ' || cardinality(event_types) FROM "
                  "webhook_endpoints WHERE configured") == "https://c.example/2 true 5");
  CHECK(f.db.scalar("SELECT id FROM webhook_endpoints WHERE configured") == id);
  f.s.transact([&](tx& t) { hooks::configure(t, "", seal); });
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_endpoints WHERE configured") == 0);
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_endpoints") == 2);
}

SCENARIO("deleting an endpoint deletes its messages and attempts, no one else's") {
  fixture f;
  auto ids = f.buy(2);
  f.s.transact([&](tx& t) { hooks::fan_out_confirmations(t, ids); });
  f.record(f.all, {outcome(f.claim(f.all)[0], "DELIVERED", "DELIVERED", 200)});
  CHECK(f.s.transact([&](tx& t) { return hooks::remove(t, f.all); }));
  CHECK_FALSE(f.s.transact([&](tx& t) { return hooks::remove(t, f.all); }));
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_messages") == 0);
  CHECK(f.db.scalar("SELECT count(*) FROM webhook_attempts") == 0);
  CHECK(f.s.transact([&](tx& t) { return hooks::find(t, f.check_ins); }).has_value());
}
