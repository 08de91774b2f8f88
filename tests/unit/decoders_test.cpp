// Decoding event and ticket type bodies: arrays of objects named per entry, a PUT's "omitted
// keeps, null clears", and the contract's limits on every new field.
#include "http/decoders.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace eventhub;
using namespace eventhub::http;

namespace {

validator parse(const std::string& json) {
  auto r = validator::parse(json);
  REQUIRE(std::holds_alternative<validator>(r));
  return std::move(std::get<validator>(r));
}

const std::string base = R"("name":"Show","venue":"Hall","startsAt":"2099-03-01T19:30:00Z",)"
                         R"("capacity":100)";

std::vector<std::string> fields(const validator& v) {
  std::vector<std::string> out;
  for (const auto& f : v.error().field_errors)
    out.push_back(f.field);
  return out;
}

} // namespace

TEST_CASE("an event without new fields keeps every default") {
  auto v = parse("{" + base + "}");
  auto d = read_event_draft(v, write_kind::create, "CHF");
  REQUIRE(d);
  CHECK_FALSE(d->ticket_types);
  CHECK(d->default_currency == "CHF");
  CHECK_FALSE(d->max_per_buyer.value_or(std::nullopt)); // no limit
  CHECK_FALSE(d->admission_queue);
}

TEST_CASE("ticket types are read per entry, the currency defaulted") {
  auto v = parse("{" + base +
                 R"(,"ticketTypes":[{"name":"Early","priceCents":1500,"quota":40},)"
                 R"({"name":"VIP","priceCents":9000,"currency":"USD","quota":10}]})");
  auto d = read_event_draft(v, write_kind::create, "EUR");
  REQUIRE(d);
  REQUIRE(d->ticket_types->size() == 2);
  CHECK((*d->ticket_types)[0].currency == "EUR");
  CHECK((*d->ticket_types)[1].currency == "USD");
  CHECK((*d->ticket_types)[1].price_cents == 9000);
  CHECK_FALSE((*d->ticket_types)[0].id); // ids only on PUT
}

TEST_CASE("each bad entry field is named with its index, once") {
  auto v = parse("{" + base +
                 R"(,"ticketTypes":[{"name":" ","priceCents":-1,"quota":1},)"
                 R"({"name":"B","priceCents":0,"currency":"eur","quota":0}, 7],)"
                 R"("maxPerBuyer":1001,"admissionQueue":"yes"})");
  CHECK_FALSE(read_event_draft(v, write_kind::create, "EUR"));
  auto f = fields(v);
  std::sort(f.begin(), f.end());
  CHECK(f == std::vector<std::string>{"admissionQueue", "maxPerBuyer", "ticketTypes[0].name",
                                      "ticketTypes[0].priceCents", "ticketTypes[1].currency",
                                      "ticketTypes[1].quota", "ticketTypes[2]"});
}

TEST_CASE("ticketTypes holds 1 to 20 entries") {
  auto empty = parse("{" + base + R"(,"ticketTypes":[]})");
  CHECK_FALSE(read_event_draft(empty, write_kind::create, "EUR"));
  CHECK(fields(empty) == std::vector<std::string>{"ticketTypes"});
  std::string many;
  for (int i = 0; i < 21; ++i)
    many += std::string(i ? "," : "") + R"({"name":"T","priceCents":0,"quota":1})";
  auto too_many = parse("{" + base + R"(,"ticketTypes":[)" + many + "]}");
  CHECK_FALSE(read_event_draft(too_many, write_kind::create, "EUR"));
  CHECK(fields(too_many) == std::vector<std::string>{"ticketTypes"});
  auto not_array = parse("{" + base + R"(,"ticketTypes":{}})");
  CHECK_FALSE(read_event_draft(not_array, write_kind::create, "EUR"));
}

TEST_CASE("salesStartAt must be before startsAt") {
  auto v = parse("{" + base + R"(,"salesStartAt":"2099-03-01T19:30:00Z"})");
  CHECK_FALSE(read_event_draft(v, write_kind::create, "EUR"));
  CHECK(fields(v) == std::vector<std::string>{"salesStartAt"});
  auto ok = parse("{" + base + R"(,"salesStartAt":"2099-02-01T10:00:00Z","maxPerBuyer":4})");
  auto d = read_event_draft(ok, write_kind::create, "EUR");
  REQUIRE(d);
  REQUIRE(d->sales_start_at);
  CHECK(d->sales_start_at->has_value());
  CHECK(**d->max_per_buyer == 4);
}

TEST_CASE("on PUT omitted fields keep their value and null clears it") {
  auto omitted = parse("{" + base + "}");
  auto kept = read_event_draft(omitted, write_kind::replace, "EUR");
  REQUIRE(kept);
  CHECK_FALSE(kept->sales_start_at.has_value()); // keep
  CHECK_FALSE(kept->max_per_buyer.has_value());
  CHECK_FALSE(kept->admission_queue.has_value());
  CHECK_FALSE(kept->ticket_types.has_value());

  auto nulls = parse("{" + base + R"(,"salesStartAt":null,"maxPerBuyer":null})");
  auto cleared = read_event_draft(nulls, write_kind::replace, "EUR");
  REQUIRE(cleared);
  REQUIRE(cleared->sales_start_at.has_value());
  CHECK_FALSE(cleared->sales_start_at->has_value()); // clear
  REQUIRE(cleared->max_per_buyer.has_value());
  CHECK_FALSE(cleared->max_per_buyer->has_value());

  auto with_ids = parse("{" + base +
                        R"(,"ticketTypes":[{"id":7,"name":"A","priceCents":0,"quota":5},)"
                        R"({"name":"B","priceCents":0,"quota":5},{"id":0,"name":"C",)"
                        R"("priceCents":0,"quota":5}]})");
  CHECK_FALSE(read_event_draft(with_ids, write_kind::replace, "EUR"));
  CHECK(fields(with_ids) == std::vector<std::string>{"ticketTypes[2].id"});
}

TEST_CASE("a ticket type body on its own") {
  auto v = parse(R"({"name":"Student","priceCents":100000001,"quota":1000001,"currency":"EURO"})");
  CHECK_FALSE(read_ticket_type_draft(v, "EUR", false));
  auto f = fields(v);
  std::sort(f.begin(), f.end());
  CHECK(f == std::vector<std::string>{"currency", "priceCents", "quota"});
  auto ok = parse(R"({"name":"Student","priceCents":0,"quota":1,"id":5})");
  auto d = read_ticket_type_draft(ok, "GBP", false);
  REQUIRE(d);
  CHECK(d->currency == "GBP");
  CHECK_FALSE(d->id); // an id in the body of the type's own routes is ignored
}

TEST_CASE("STAFF is a role an ADMIN may give") {
  auto v = parse(R"({"email":"d@x.io","password":"password-1","fullName":"D","role":"STAFF"})");
  auto p = read_new_participant(v, true);
  REQUIRE(p);
  CHECK(p->role == domain::role::staff);
  auto self = parse(R"({"email":"d@x.io","password":"password-1","fullName":"D","role":"STAFF"})");
  CHECK(read_new_participant(self, false)->role == domain::role::user);
}
