// The wire forms of forwarded purchases survive CAF's serialization with every field a ticket
// type brings: the named type, the price, the buyer limit and a 400's field errors.
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
