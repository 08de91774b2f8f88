// The wire forms of forwarded purchases survive CAF's serialization with every field a ticket
// type brings: the named type, the price, the buyer limit and a 400's field errors; and a
// waitlist leave and the entry of its answer.
#include "actors/wire.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catch2/catch.hpp>

using namespace eventhub;
using namespace eventhub::actors;

namespace {

template <class T> T through_the_wire(T value) {
  std::vector<char> buffer;
  caf::binary_serializer sink{nullptr, buffer};
  REQUIRE_FALSE(sink(value));
  T copy;
  caf::binary_deserializer source{nullptr, buffer};
  REQUIRE_FALSE(source(copy));
  return copy;
}

} // namespace

SCENARIO("a forwarded purchase keeps its ticket type") {
  domain::purchase_request req{7, 3, 2, std::string("key"), "req-1"};
  req.ticket_type_id = 42;
  auto back = from_wire(through_the_wire(to_wire(req, false)));
  CHECK(back.ticket_type_id == std::optional<std::int64_t>(42));
  CHECK(back.idempotency_key == std::optional<std::string>("key"));
  CHECK(back.quantity == 2);
  req.ticket_type_id.reset();
  CHECK_FALSE(from_wire(through_the_wire(to_wire(req, false))).ticket_type_id);
}

SCENARIO("the owner's answer keeps the price and the refusal's details") {
  domain::purchase p{9, 7, 3, 2, domain::from_micros(1700000000000000)};
  p.ticket_type_id = 42;
  p.unit_price_cents = 2500;
  p.currency = "EUR";
  auto sold = from_wire(through_the_wire(to_wire(domain::purchase_outcome{p, true})));
  REQUIRE(sold.ok());
  CHECK(sold->replayed);
  CHECK(sold->purchase.ticket_type_id == 42);
  CHECK(sold->purchase.total_cents() == 5000);
  CHECK(sold->purchase.currency == "EUR");

  auto limit = domain::make_error(domain::error_code::buyer_limit, "limit");
  limit.tickets_allowed = 1;
  auto refused =
      from_wire(through_the_wire(to_wire(domain::result<domain::purchase_outcome>(limit))));
  CHECK(refused.err().code == domain::error_code::buyer_limit);
  CHECK(refused.err().tickets_allowed == std::optional<std::int64_t>(1));

  auto invalid = domain::make_error(domain::error_code::invalid, "bad");
  invalid.field_errors.push_back({"ticketTypeId", "is not a ticket type of this event"});
  auto bad =
      from_wire(through_the_wire(to_wire(domain::result<domain::purchase_outcome>(invalid))));
  REQUIRE(bad.err().field_errors.size() == 1);
  CHECK(bad.err().field_errors[0].field == "ticketTypeId");
}

SCENARIO("a forwarded waitlist leave and the entry answered keep their fields") {
  domain::purchase_request req{7, 3, 0, std::nullopt, "req-2"};
  req.kind = domain::order_kind::leave;
  req.entry_id = 55;
  auto back = from_wire(through_the_wire(to_wire(req, false)));
  CHECK(back.kind == domain::order_kind::leave);
  CHECK(back.entry_id == 55);

  domain::waitlist_entry e;
  e.id = 55;
  e.event_id = 7;
  e.ticket_type_id = 42;
  e.participant_id = 3;
  e.quantity = 2;
  e.status = domain::waitlist_status::offered;
  e.hold_id = 90;
  e.offer_expires_at = domain::from_micros(1700000000000000);
  e.created_at = domain::from_micros(1690000000000000);
  domain::purchase_outcome out;
  out.entry = e;
  auto answered = from_wire(through_the_wire(to_wire(out)));
  REQUIRE(answered.ok());
  REQUIRE(answered->entry);
  CHECK(answered->entry->status == domain::waitlist_status::offered);
  CHECK(answered->entry->hold_id == std::optional<std::int64_t>(90));
  CHECK(answered->entry->offer_expires_at == e.offer_expires_at);
  CHECK_FALSE(answered->entry->position);
  CHECK(answered->entry->created_at == e.created_at);

  e.status = domain::waitlist_status::waiting;
  e.hold_id.reset();
  e.offer_expires_at.reset();
  e.position = 4;
  out.entry = e;
  auto waiting = from_wire(through_the_wire(to_wire(out)));
  CHECK(waiting->entry->position == std::optional<std::int64_t>(4));
  CHECK_FALSE(waiting->entry->hold_id);
  CHECK_FALSE(waiting->entry->offer_expires_at);
}
