// The waitlist's rules: joins (their order of refusals), leaves, WAITING quantities kept from
// public availability, and the offer step's first fit in arrival order.
#include "domain/purchase_rules.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::domain;

namespace {

/// An event of `capacity` with one type of quota `capacity`, `sold` of it sold.
event_stock sold_stock(std::int64_t capacity, std::int64_t sold) {
  const auto now = eventhub::domain::now();
  event_stock s;
  s.capacity = capacity;
  s.sold = sold;
  s.starts_at = now + std::chrono::hours(1);
  s.now = now;
  s.types.push_back({1, capacity, sold, 2500, "EUR"});
  return s;
}

purchase_request buy(std::int64_t participant, std::int32_t qty) {
  purchase_request r;
  r.event_id = 1;
  r.participant_id = participant;
  r.quantity = qty;
  r.request_id = "req";
  return r;
}

purchase_request join(std::int64_t participant, std::int32_t qty) {
  auto r = buy(participant, qty);
  r.kind = order_kind::join;
  return r;
}

purchase_request leave(std::int64_t participant, std::int64_t entry) {
  auto r = buy(participant, 0);
  r.kind = order_kind::leave;
  r.entry_id = entry;
  return r;
}

waitlist_entry entry(std::int64_t id, std::int64_t participant, std::int32_t qty,
                     waitlist_status status, std::optional<std::int64_t> hold = std::nullopt) {
  waitlist_entry e;
  e.id = id;
  e.event_id = 1;
  e.ticket_type_id = 1;
  e.participant_id = participant;
  e.quantity = qty;
  e.status = status;
  e.hold_id = hold;
  return e;
}

std::vector<std::size_t> offered(const std::vector<offer>& offers) {
  std::vector<std::size_t> out;
  for (const auto& o : offers)
    out.push_back(o.entry_index);
  return out;
}

} // namespace

SCENARIO("one can join only for what cannot be bought now") {
  auto s = sold_stock(10, 8);
  batch_context context;
  auto d = decide_batch(s, {join(1, 2), join(2, 3), join(3, 1)}, context);
  CHECK(d[0].verdict == verdict::tickets_available); // 2 are left
  CHECK(d[0].available == 2);
  CHECK(d[1].verdict == verdict::join);
  // The 3 waited for are kept from the public: nothing is available to the next joiner's buy.
  CHECK(d[2].verdict == verdict::join);
  CHECK(s.types[0].waiting == 4);
  CHECK(s.available(s.types[0]) < 0);
  CHECK(refusal_error({verdict::tickets_available, 2}).code == error_code::tickets_available);
  CHECK(*refusal_error({verdict::tickets_available, 2}).tickets_available == 2);
}

SCENARIO("waiting quantities are kept from purchases and holds") {
  auto s = sold_stock(10, 9);
  s.types[0].waiting = 2; // someone waits for 2 while 1 is free
  auto d = decide_batch(s, {buy(5, 1)}, {});
  CHECK(d[0].verdict == verdict::sold_out);
  CHECK(d[0].available == 0);
  CHECK(s.free(s.types[0]) == 1); // what an offer could still take
}

SCENARIO("a second active entry of one type is refused, before the buyer limit and availability") {
  auto s = sold_stock(4, 4);
  s.max_per_buyer = 2;
  s.bought = std::map<std::int64_t, std::int64_t>{{1, 2}};
  batch_context context;
  context.active_entries.push_back({1, 1});
  auto d = decide_batch(s, {join(1, 1), join(2, 3), join(2, 2), join(2, 1)}, context);
  CHECK(d[0].verdict == verdict::already_waiting);
  CHECK(d[1].verdict == verdict::buyer_limit); // at most 2 per buyer
  CHECK(d[1].allowed == 2);
  CHECK(d[2].verdict == verdict::join);
  CHECK(d[3].verdict == verdict::already_waiting); // the entry made just before
  CHECK(refusal_error({verdict::already_waiting}).code == error_code::already_waiting);
}

SCENARIO("joins respect the sales window and the type") {
  auto s = sold_stock(4, 4);
  s.sales_start_at = s.now + std::chrono::minutes(5);
  batch_context context;
  CHECK(decide_batch(s, {join(1, 1)}, context)[0].verdict == verdict::sales_not_open);
  auto closed = sold_stock(4, 4);
  closed.starts_at = closed.now - std::chrono::seconds(1);
  CHECK(decide_batch(closed, {join(1, 1)}, context)[0].verdict == verdict::sales_closed);
  auto unknown = join(1, 1);
  unknown.ticket_type_id = 99;
  CHECK(decide_batch(s, {unknown}, context)[0].verdict == verdict::unknown_type);
  CHECK(s.types[0].waiting == 0);
}

SCENARIO("leaving stops waiting, releases an offer, and is the owner's only") {
  auto s = sold_stock(10, 7);
  s.held = 2;
  s.types[0].held = 2;
  s.types[0].waiting = 1;
  batch_context context;
  context.leave_targets = {
      entry(1, 1, 1, waitlist_status::waiting), entry(2, 2, 2, waitlist_status::offered, 40),
      entry(3, 3, 1, waitlist_status::confirmed, 41), entry(4, 4, 1, waitlist_status::left)};
  auto d =
      decide_batch(s, {leave(1, 1), leave(2, 2), leave(3, 3), leave(4, 4), leave(9, 1)}, context);
  CHECK(d[0].verdict == verdict::leave);
  CHECK(d[1].verdict == verdict::leave);
  CHECK(d[2].verdict == verdict::hold_confirmed);
  CHECK(d[3].verdict == verdict::already_free);
  CHECK(d[4].verdict == verdict::entry_not_found); // someone else's
  CHECK(s.types[0].waiting == 0);
  CHECK(s.held == 0); // the offer's hold is released
  CHECK(context.leave_targets[1].status == waitlist_status::left);
  CHECK(refusal_error({verdict::entry_not_found}).code == error_code::not_found);
}

SCENARIO("freed tickets are offered first fit in arrival order, never more than are free") {
  auto s = sold_stock(10, 7); // 3 free
  s.types[0].waiting = 3 + 2 + 1 + 1;
  const std::vector<queued_entry> queue = {{1, 1, 1, 3}, {2, 2, 1, 2}, {3, 3, 1, 1}, {4, 4, 1, 1}};
  CHECK(offerable(s) == 3);
  auto offers = decide_offers(s, queue);
  CHECK(offered(offers) == std::vector<std::size_t>{0}); // the first takes all 3
  CHECK(s.free() == 0);
  CHECK(offerable(s) == 0);

  auto t = sold_stock(10, 8); // 2 free
  t.types[0].waiting = 7;
  offers = decide_offers(t, queue);
  // 3 does not fit and is passed over; 2 fits; nothing is left for the ones after it.
  CHECK(offered(offers) == std::vector<std::size_t>{1});
  CHECK(t.held == 2);
  CHECK(t.types[0].waiting == 5);
}

SCENARIO("offers fit both the type's quota and the event's capacity") {
  auto s = sold_stock(10, 0);
  s.types = {{1, 4, 4, 100, "EUR", 0, 2}, {2, 10, 5, 100, "EUR", 0, 1}};
  s.sold = 9; // one ticket of capacity left, type 1 has none of its quota
  const std::vector<queued_entry> queue = {{1, 1, 1, 1}, {2, 2, 1, 1}, {3, 3, 2, 1}};
  auto offers = decide_offers(s, queue);
  CHECK(offered(offers) == std::vector<std::size_t>{2});
  CHECK(offers[0].type_index == 1);
}

SCENARIO("an offer skips a buyer it would take past the limit, and none is made after the start") {
  auto s = sold_stock(10, 8);
  s.max_per_buyer = 2;
  s.bought = std::map<std::int64_t, std::int64_t>{{1, 2}};
  s.types[0].waiting = 2;
  auto offers = decide_offers(s, {{1, 1, 1, 1}, {2, 2, 1, 1}});
  CHECK(offered(offers) == std::vector<std::size_t>{1});

  auto started = sold_stock(10, 8);
  started.types[0].waiting = 1;
  started.starts_at = started.now;
  CHECK(offerable(started) == 0);
}
