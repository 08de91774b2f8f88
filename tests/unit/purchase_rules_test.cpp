// The batch decision rules: order, capacity, sales closing, idempotency.
#include "domain/purchase_rules.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::domain;

namespace {

purchase_request buy(std::int64_t participant, std::int32_t qty,
                     std::optional<std::string> key = {}, std::int64_t event = 1) {
  return {event, participant, qty, std::move(key), "req"};
}

event_stock stock(std::int64_t capacity, std::int64_t sold, bool closed = false) {
  const auto now = eventhub::domain::now();
  return {capacity, sold, closed ? now - std::chrono::seconds(1) : now + std::chrono::hours(1),
          now};
}

} // namespace

SCENARIO("requests are decided in arrival order against what is left") {
  auto s = stock(5, 1);
  auto d = decide_batch(s, {buy(1, 2), buy(2, 3), buy(3, 1), buy(4, 2)}, {});
  REQUIRE(d.size() == 4);
  CHECK(d[0].verdict == verdict::confirm);
  CHECK(d[1].verdict == verdict::sold_out); // 2 left, wants 3
  CHECK(d[1].available == 2);
  CHECK(d[2].verdict == verdict::confirm);
  CHECK(d[3].verdict == verdict::sold_out);
  CHECK(d[3].available == 1);
  CHECK(s.sold == 4);
}

SCENARIO("sales close at startsAt") {
  auto s = stock(10, 0, true);
  auto d = decide_batch(s, {buy(1, 1)}, {});
  CHECK(d[0].verdict == verdict::sales_closed);
  CHECK(s.sold == 0);
}

SCENARIO("idempotency keys replay, even when sold out, and refuse another body") {
  purchase original{42, 1, 7, 2, eventhub::domain::now()};
  auto s = stock(2, 2); // sold out
  auto d = decide_batch(s, {buy(7, 2, "k"), buy(7, 1, "k"), buy(7, 2, "k", 9), buy(8, 2, "k")},
                        {{"k", original}});
  CHECK(d[0].verdict == verdict::replay);
  CHECK(d[0].prior_index == std::optional<std::size_t>(0));
  CHECK(d[1].verdict == verdict::key_mismatch); // other quantity
  CHECK(d[2].verdict == verdict::key_mismatch); // other event
  CHECK(d[3].verdict == verdict::sold_out);     // same key, other participant: a new purchase
}

SCENARIO("duplicates inside one batch become one purchase") {
  auto s = stock(10, 0);
  auto d = decide_batch(s, {buy(7, 3, "k"), buy(7, 3, "k"), buy(7, 3, "k")}, {});
  CHECK(d[0].verdict == verdict::confirm);
  CHECK(d[1].verdict == verdict::replay);
  CHECK(d[1].batch_index == std::optional<std::size_t>(0));
  CHECK(d[2].verdict == verdict::replay);
  CHECK(s.sold == 3);
}

SCENARIO("a refused keyed request does not claim its key") {
  auto s = stock(1, 0);
  auto d = decide_batch(s, {buy(7, 2, "k"), buy(7, 1, "k")}, {});
  CHECK(d[0].verdict == verdict::sold_out);
  CHECK(d[1].verdict == verdict::confirm); // only a 201 is remembered
}

SCENARIO("requests nobody waits for any more are not sold") {
  auto s = stock(5, 0);
  auto d = decide_batch(s, {buy(1, 2), buy(2, 2, "k"), buy(3, 2)}, {}, {false, true, false});
  CHECK(d[0].verdict == verdict::confirm);
  CHECK(d[1].verdict == verdict::abandoned);
  CHECK(d[2].verdict == verdict::confirm);
  CHECK(s.sold == 4);
}
