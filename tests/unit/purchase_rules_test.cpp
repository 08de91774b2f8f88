// The batch decision rules: order, quotas and capacity, the sales window, the per-buyer limit,
// idempotency.
#include "domain/purchase_rules.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::domain;

namespace {

purchase_request buy(std::int64_t participant, std::int32_t qty,
                     std::optional<std::string> key = {}, std::int64_t event = 1) {
  return {event, participant, qty, std::move(key), "req"};
}

/// An event with one type whose quota is the capacity (as "General admission").
event_stock stock(std::int64_t capacity, std::int64_t sold, bool closed = false) {
  const auto now = eventhub::domain::now();
  event_stock s{capacity, sold,
                closed ? now - std::chrono::seconds(1) : now + std::chrono::hours(1), now};
  s.types.push_back({1, capacity, sold, 0, "EUR"});
  return s;
}

/// An event of `capacity` with types 10 (quota a) and 20 (quota b), nothing sold.
event_stock two_types(std::int64_t capacity, std::int64_t a, std::int64_t b) {
  auto s = stock(capacity, 0);
  s.types = {{10, a, 0, 1500, "EUR"}, {20, b, 0, 4000, "EUR"}};
  return s;
}

purchase_request buy_type(std::int64_t participant, std::int32_t qty, std::int64_t type) {
  auto r = buy(participant, qty);
  r.ticket_type_id = type;
  return r;
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

SCENARIO("a purchase must fit both its type's quota and the event's capacity") {
  auto s = two_types(10, 6, 6); // quotas overlap: 12 > 10
  auto d = decide_batch(s,
                        {buy_type(1, 5, 10), buy_type(2, 2, 10), buy_type(3, 5, 20),
                         buy_type(4, 1, 10), buy_type(5, 1, 20)},
                        {});
  CHECK(d[0].verdict == verdict::confirm);
  CHECK(d[1].verdict == verdict::sold_out); // type 10 has 1 left
  CHECK(d[1].available == 1);
  CHECK(d[2].verdict == verdict::confirm);  // event now has 0 left
  CHECK(d[3].verdict == verdict::sold_out); // the type has 1, the event none
  CHECK(d[3].available == 0);
  CHECK(d[4].verdict == verdict::sold_out);
  CHECK(s.sold == 10);
  CHECK(s.types[0].sold == 5);
  CHECK(s.types[1].sold == 5);
  CHECK(d[0].type_index == std::optional<std::size_t>(0));
  CHECK(d[2].type_index == std::optional<std::size_t>(1));
}

SCENARIO("the type is named when there are several, and must be the event's") {
  auto s = two_types(10, 5, 5);
  auto d = decide_batch(s, {buy(1, 1), buy_type(2, 1, 99), buy_type(3, 1, 20)}, {});
  CHECK(d[0].verdict == verdict::type_required);
  CHECK(d[1].verdict == verdict::unknown_type);
  CHECK(d[2].verdict == verdict::confirm);
  CHECK(refusal_error({verdict::type_required}).field_errors.at(0).field == "ticketTypeId");
  CHECK(refusal_error({verdict::unknown_type}).code == error_code::invalid);

  auto single = stock(10, 0);
  CHECK(decide_batch(single, {buy(1, 1)}, {})[0].verdict == verdict::confirm);
  CHECK(decide_batch(single, {buy_type(1, 1, 2)}, {})[0].verdict == verdict::unknown_type);
}

SCENARIO("sales open at salesStartAt and close at startsAt") {
  auto s = stock(10, 0);
  s.sales_start_at = s.now + std::chrono::seconds(1);
  CHECK(decide_batch(s, {buy(1, 1)}, {})[0].verdict == verdict::sales_not_open);
  s.sales_start_at = s.now;
  CHECK(decide_batch(s, {buy(1, 1)}, {})[0].verdict == verdict::confirm);
  CHECK(refusal_error({verdict::sales_not_open}).code == error_code::sales_not_open);
}

SCENARIO("maxPerBuyer counts what each buyer already has and what the batch sells them") {
  auto s = stock(100, 0);
  s.max_per_buyer = 4;
  s.bought.emplace();
  (*s.bought)[1] = 3; // participant 1 already has 3
  auto d = decide_batch(s, {buy(1, 2), buy(1, 1), buy(2, 3), buy(2, 2), buy(2, 1)}, {});
  CHECK(d[0].verdict == verdict::buyer_limit);
  CHECK(d[0].allowed == 1);
  CHECK(d[1].verdict == verdict::confirm);
  CHECK(d[2].verdict == verdict::confirm);
  CHECK(d[3].verdict == verdict::buyer_limit);
  CHECK(d[3].allowed == 1);
  CHECK(d[4].verdict == verdict::confirm);
  CHECK((*s.bought)[1] == 4);
  CHECK((*s.bought)[2] == 4);
  auto e = refusal_error({verdict::buyer_limit, 0, 1});
  CHECK(e.code == error_code::buyer_limit);
  CHECK(e.tickets_allowed == std::optional<std::int64_t>(1));
}

SCENARIO("the order of refusals: type, sales window, buyer limit, then sold out") {
  auto s = stock(1, 1); // sold out
  s.max_per_buyer = 1;
  s.bought = std::map<std::int64_t, std::int64_t>{{1, 1}};
  CHECK(decide_batch(s, {buy(1, 1)}, {})[0].verdict == verdict::buyer_limit);
  s.sales_start_at = s.now + std::chrono::hours(1);
  CHECK(decide_batch(s, {buy(1, 1)}, {})[0].verdict == verdict::sales_not_open);
  CHECK(decide_batch(s, {buy_type(1, 1, 5)}, {})[0].verdict == verdict::unknown_type);
}

SCENARIO("without the buyers' counts (the actor's memo) the limit and sold-out are left open") {
  auto s = stock(1, 1);
  s.max_per_buyer = 2;
  CHECK_FALSE(refusal_for(s, buy(1, 1), s.now).has_value());
  s.max_per_buyer.reset();
  CHECK(refusal_for(s, buy(1, 1), s.now)->verdict == verdict::sold_out);
}

SCENARIO("a replayed key must name the same type") {
  purchase original{42, 1, 7, 2, eventhub::domain::now()};
  original.ticket_type_id = 10;
  auto r = buy_type(7, 2, 10);
  r.idempotency_key = "k";
  auto other = buy_type(7, 2, 20);
  other.idempotency_key = "k";
  auto s = two_types(10, 5, 5);
  auto d = decide_batch(s, {r, other}, {{"k", original}});
  CHECK(d[0].verdict == verdict::replay);
  CHECK(d[1].verdict == verdict::key_mismatch);
}

namespace {

purchase_request on_hold(order_kind kind, std::int64_t participant, std::int64_t hold_id) {
  purchase_request r;
  r.kind = kind;
  r.event_id = 1;
  r.participant_id = participant;
  r.hold_id = hold_id;
  return r;
}

target_hold held(std::int64_t id, std::int64_t participant, std::int32_t qty,
                 hold_status status = hold_status::held) {
  hold h;
  h.id = id;
  h.event_id = 1;
  h.ticket_type_id = 1;
  h.participant_id = participant;
  h.quantity = qty;
  h.unit_price_cents = 700;
  h.status = status;
  return {h, std::nullopt};
}

} // namespace

SCENARIO("holds take tickets like purchases, confirms move them from held to sold") {
  auto s = stock(5, 0);
  batch_context ctx;
  auto h = buy(1, 3);
  h.kind = order_kind::hold;
  auto d = decide_batch(s, {h, buy(2, 3), buy(2, 2)}, ctx);
  CHECK(d[0].verdict == verdict::hold);
  CHECK(d[1].verdict == verdict::sold_out); // 3 held + 3 > 5
  CHECK(d[1].available == 2);
  CHECK(d[2].verdict == verdict::confirm);
  CHECK(s.held == 3);
  CHECK(s.sold == 2);

  batch_context with_target{{}, {}, {held(9, 1, 3)}, {}, {}};
  s.types[0].held = 3;
  auto c = decide_batch(s,
                        {on_hold(order_kind::confirm, 1, 9), on_hold(order_kind::confirm, 1, 9),
                         on_hold(order_kind::release, 1, 9)},
                        with_target);
  CHECK(c[0].verdict == verdict::confirm_hold);
  CHECK(c[1].verdict == verdict::replay); // the same purchase again
  CHECK(c[1].batch_index == 0u);
  CHECK(c[2].verdict == verdict::hold_confirmed);
  CHECK(s.held == 0);
  CHECK(s.sold == 5);
  CHECK(s.types[0].sold == 5);
  CHECK(s.types[0].held == 0);
}

SCENARIO("a hold no longer HELD answers what became of it, and frees nothing twice") {
  auto s = stock(5, 0);
  s.held = 2;
  s.types[0].held = 2;
  batch_context ctx{
      {},
      {},
      {held(1, 1, 2), held(2, 1, 1, hold_status::expired), held(3, 1, 1, hold_status::released)},
      {},
      {}};
  auto d = decide_batch(s,
                        {on_hold(order_kind::release, 1, 1), on_hold(order_kind::release, 1, 1),
                         on_hold(order_kind::confirm, 1, 1), on_hold(order_kind::confirm, 1, 2),
                         on_hold(order_kind::confirm, 1, 3), on_hold(order_kind::release, 1, 2),
                         on_hold(order_kind::confirm, 2, 1), on_hold(order_kind::confirm, 1, 77)},
                        ctx);
  CHECK(d[0].verdict == verdict::release);
  CHECK(d[1].verdict == verdict::already_free);
  CHECK(d[2].verdict == verdict::hold_released);
  CHECK(d[3].verdict == verdict::hold_expired);
  CHECK(d[4].verdict == verdict::hold_released);
  CHECK(d[5].verdict == verdict::already_free);
  CHECK(d[6].verdict == verdict::hold_not_found); // someone else's
  CHECK(d[7].verdict == verdict::hold_not_found);
  CHECK(s.held == 0); // released once
  CHECK(s.available() == 5);
}

SCENARIO("held tickets count against the buyer's limit, and a release gives them back") {
  auto s = stock(10, 0);
  s.max_per_buyer = 3;
  s.bought.emplace();
  (*s.bought)[1] = 2; // two held already
  s.held = 2;
  s.types[0].held = 2;
  batch_context ctx{{}, {}, {held(4, 1, 2)}, {}, {}};
  auto h = buy(1, 2);
  h.kind = order_kind::hold;
  auto d = decide_batch(s, {h, on_hold(order_kind::release, 1, 4), h}, ctx);
  CHECK(d[0].verdict == verdict::buyer_limit);
  CHECK(d[0].allowed == 1);
  CHECK(d[1].verdict == verdict::release);
  CHECK(d[2].verdict == verdict::hold);
}

SCENARIO("hold keys and purchase keys are apart") {
  auto s = stock(10, 0);
  hold earlier;
  earlier.id = 5;
  earlier.event_id = 1;
  earlier.ticket_type_id = 1;
  earlier.participant_id = 1;
  earlier.quantity = 2;
  batch_context ctx{{}, {{"k", earlier}}, {}, {}, {}};
  auto again = buy(1, 2, "k");
  again.kind = order_kind::hold;
  auto other = buy(1, 3, "k");
  other.kind = order_kind::hold;
  auto d = decide_batch(s, {again, other, buy(1, 2, "k")}, ctx);
  CHECK(d[0].verdict == verdict::replay);
  CHECK(d[0].prior_index == 0u);
  CHECK(d[1].verdict == verdict::key_mismatch);
  CHECK(d[2].verdict == verdict::confirm); // the same key on a purchase is a new request
}

namespace {

/// A cancellation by `caller` of purchase 42 (`qty`; 0: all that is left).
purchase_request cancel_of(std::int64_t caller, std::int32_t qty,
                           std::optional<std::string> key = {},
                           std::chrono::milliseconds cutoff = std::chrono::milliseconds{0}) {
  auto r = buy(caller, qty, std::move(key));
  r.kind = order_kind::cancel;
  r.purchase_id = 42;
  r.cancel_cutoff = cutoff;
  return r;
}

/// Purchase 42 of 5 tickets of type 1 at 1500 by participant 7, `cancelled` of them cancelled.
purchase bought_five(std::int32_t cancelled = 0) {
  purchase p{42, 1, 7, 5, eventhub::domain::now()};
  p.ticket_type_id = 1;
  p.unit_price_cents = 1500;
  p.currency = "EUR";
  p.cancelled_quantity = cancelled;
  p.refunded_cents = cancelled * 1500;
  return p;
}

/// A batch cancelling `p`, whose tickets not cancelled are 101, 102, … and VALID but for the
/// first `checked_in` of them.
batch_context cancelling(purchase p, std::vector<keyed_cancellation> keys = {},
                         std::int32_t checked_in = 0) {
  batch_context c;
  c.cancellations = std::move(keys);
  auto& valid = c.valid_tickets[p.id];
  for (std::int32_t n = checked_in; n < p.quantity - p.cancelled_quantity; ++n)
    valid.push_back(101 + n);
  c.cancel_targets = {std::move(p)};
  return c;
}

} // namespace

SCENARIO("a cancellation gives tickets back once, and what is left bounds the next") {
  auto s = stock(10, 5);
  auto context = cancelling(bought_five());
  auto d = decide_batch(s, {cancel_of(7, 2), cancel_of(7, 4), cancel_of(7, 0), cancel_of(7, 0)},
                        context);
  CHECK(d[0].verdict == verdict::cancel);
  CHECK(d[0].cancelled == 2);
  CHECK(d[0].cancelled_total == 2);
  CHECK(d[1].verdict == verdict::cancel_too_many); // 3 left
  CHECK(d[1].available == 3);
  CHECK(d[2].verdict == verdict::cancel); // all that is left
  CHECK(d[2].cancelled == 3);
  CHECK(d[2].cancelled_total == 5);
  CHECK(d[3].verdict == verdict::already_cancelled);
  CHECK(s.sold == 0);
  CHECK(s.types[0].sold == 0);
  CHECK(context.cancel_targets[0].refunded_cents == 5 * 1500);
  CHECK(refusal_error({verdict::cancel_too_many, 3}).code == error_code::unprocessable);
  CHECK(refusal_error({verdict::cancel_too_many, 3}).field_errors.at(0).field == "quantity");
  CHECK(refusal_error({verdict::already_cancelled}).code == error_code::already_cancelled);
}

SCENARIO("checked-in tickets are never cancelled; VALID ones go highest id first") {
  auto s = stock(10, 5);
  auto context = cancelling(bought_five(), {}, 2); // 101 and 102 checked in
  auto d = decide_batch(
      s, {cancel_of(7, 4), cancel_of(7, 6), cancel_of(7, 1), cancel_of(7, 0), cancel_of(7, 1)},
      context);
  CHECK(d[0].verdict == verdict::checked_in); // 5 left, 3 VALID
  CHECK(d[1].verdict == verdict::cancel_too_many);
  CHECK(d[2].verdict == verdict::cancel);
  CHECK(d[2].tickets == std::vector<std::int64_t>{105});
  CHECK(d[3].verdict == verdict::cancel); // every VALID ticket left
  CHECK(d[3].cancelled == 2);
  CHECK(d[3].tickets == std::vector<std::int64_t>{103, 104});
  CHECK(d[4].verdict == verdict::checked_in); // none VALID, some checked in
  CHECK(s.sold == 2);
  CHECK(context.cancel_targets[0].cancelled_quantity == 3);
  CHECK(refusal_error({verdict::checked_in}).code == error_code::checked_in);
}

SCENARIO("nothing left is already-cancelled whatever quantity is asked") {
  auto s = stock(10, 0);
  auto context = cancelling(bought_five(5));
  CHECK(decide_batch(s, {cancel_of(7, 9)}, context)[0].verdict == verdict::already_cancelled);
}

SCENARIO("freed tickets can be bought again in the same batch") {
  auto s = stock(5, 5);
  auto context = cancelling(bought_five());
  auto d = decide_batch(s, {buy(8, 1), cancel_of(7, 1), buy(9, 1), buy(10, 1)}, context);
  CHECK(d[0].verdict == verdict::sold_out);
  CHECK(d[1].verdict == verdict::cancel);
  CHECK(d[2].verdict == verdict::confirm);
  CHECK(d[3].verdict == verdict::sold_out);
  CHECK(s.sold == 5);
}

SCENARIO("cancelling closes at the cutoff before the start") {
  auto s = stock(10, 5); // starts in an hour
  auto context = cancelling(bought_five());
  CHECK(decide_batch(s, {cancel_of(7, 1, {}, std::chrono::hours(2))}, context)[0].verdict ==
        verdict::cancellation_closed);
  CHECK(decide_batch(s, {cancel_of(7, 1, {}, std::chrono::minutes(30))}, context)[0].verdict ==
        verdict::cancel);
  auto started = stock(10, 4, true);
  auto after = cancelling(bought_five(1));
  CHECK(decide_batch(started, {cancel_of(1, 1)}, after)[0].verdict ==
        verdict::cancellation_closed); // not even an ADMIN (cutoff 0) after the start
  CHECK(started.sold == 4);
}

SCENARIO("cancellation keys replay the purchase as it is now and refuse another request") {
  auto s = stock(10, 5);
  auto context = cancelling(bought_five(2), {{"k", 7, 42, 2}});
  auto d = decide_batch(s,
                        {cancel_of(7, 2, "k"), cancel_of(7, 1, "k"), cancel_of(7, 0, "k"),
                         cancel_of(7, 1, "n"), cancel_of(7, 1, "n"), cancel_of(8, 1, "k")},
                        context);
  CHECK(d[0].verdict == verdict::replay);
  CHECK(d[0].cancelled_total == 2);
  CHECK(d[1].verdict == verdict::key_mismatch); // another quantity
  CHECK(d[2].verdict == verdict::key_mismatch); // all vs 2
  CHECK(d[3].verdict == verdict::cancel);
  CHECK(d[4].verdict == verdict::replay); // the same key within the batch
  CHECK(d[4].cancelled_total == 3);
  CHECK(d[5].verdict == verdict::cancel); // another caller's key is new
  CHECK(s.sold == 3);
}

SCENARIO("cancelled tickets leave the buyer's count") {
  auto s = stock(10, 5);
  s.max_per_buyer = 5;
  s.bought.emplace();
  (*s.bought)[7] = 5;
  auto context = cancelling(bought_five());
  auto d = decide_batch(s, {buy(7, 1), cancel_of(7, 2), buy(7, 2), buy(7, 1)}, context);
  CHECK(d[0].verdict == verdict::buyer_limit);
  CHECK(d[1].verdict == verdict::cancel);
  CHECK(d[2].verdict == verdict::confirm);
  CHECK(d[3].verdict == verdict::buyer_limit);
}
