// Request validation: every constraint, type errors, malformed bodies, query decoding.
#include "http/validation.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::http;

namespace {

validator parse(const std::string& json) {
  auto r = validator::parse(json);
  REQUIRE(std::holds_alternative<validator>(r));
  return std::move(std::get<validator>(r));
}

} // namespace

TEST_CASE("malformed bodies are one 400 without field errors") {
  for (const char* bad :
       {"", "{", "[1,2]", "\"text\"", "null", "{\"a\":}", "{\"a\":1,}", "\xff\xfe"}) {
    auto r = validator::parse(bad);
    REQUIRE(std::holds_alternative<eventhub::domain::error>(r));
    CHECK(std::get<eventhub::domain::error>(r).code == eventhub::domain::error_code::invalid);
  }
  CHECK_FALSE(
      std::holds_alternative<validator>(validator::parse("{\"s\":\"\xc3\x28\"}"))); // bad UTF-8
}

TEST_CASE("each bad field gets its own error") {
  auto v =
      parse(R"({"name":"","count":2.5,"when":"yesterday","mail":"nope","extra":{"ignored":true}})");
  v.text("name", presence::required, {not_blank(), size(1, 10)});
  v.integer("count", presence::required, 1, 10);
  v.time("when", presence::required);
  v.text("mail", presence::required, {email_address()});
  v.text("missing", presence::required, {});
  v.text("optional", presence::optional, {});
  REQUIRE_FALSE(v.ok());
  auto e = v.error();
  REQUIRE(e.field_errors.size() == 5);
  CHECK(e.field_errors[0].field == "name");
  CHECK(e.field_errors[1].field == "count");
  CHECK(e.field_errors[1].message == "must be an integer");
  CHECK(e.field_errors[2].field == "when");
  CHECK(e.field_errors[3].field == "mail");
  CHECK(e.field_errors[4].field == "missing");
  CHECK(e.field_errors[4].message == "must not be null");
}

TEST_CASE("types are checked before values are read") {
  auto v = parse(R"({"a":"1","b":null,"c":true,"d":[1],"e":{},"f":1e30,"g":99999999999999999999})");
  for (const char* f : {"a", "c", "d", "e", "f", "g"})
    CHECK_FALSE(v.integer(f, presence::required, 0, 10));
  CHECK_FALSE(v.integer("b", presence::required, 0, 10));
  CHECK(v.error().field_errors.size() == 7);
  auto w = parse(R"({"n":5,"s":5})");
  CHECK_FALSE(w.text("s", presence::required, {}));
  CHECK(w.error().field_errors[0].message == "must be a string");
}

TEST_CASE("constraints") {
  auto v = parse(R"({"short":"ab","long":"abcdef","unicode":"ééé","blank":"   ","n":0,"big":11})");
  CHECK_FALSE(v.text("short", presence::required, {size(3, 5)}));
  CHECK_FALSE(v.text("long", presence::required, {size(3, 5)}));
  CHECK(v.text("unicode", presence::required, {size(3, 3)})); // counted in characters, not bytes
  CHECK_FALSE(v.text("blank", presence::required, {not_blank()}));
  CHECK_FALSE(v.integer("n", presence::required, 1, 10));
  CHECK_FALSE(v.integer("big", presence::required, 1, 10));
  auto e = v.error();
  CHECK(e.field_errors[0].message == "size must be between 3 and 5");
  CHECK(e.field_errors[3].message == "must be greater than or equal to 1");
  CHECK(e.field_errors[4].message == "must be less than or equal to 10");
}

TEST_CASE("email addresses") {
  auto rule = email_address();
  for (const char* ok : {"a@b.co", "first.last+tag@sub.example.org", "x_y@e-x.io"})
    CHECK_FALSE(rule(ok));
  for (const char* bad : {"", "plain", "@b.co", "a@", "a@b", "a@@b.co", "a b@c.de", "a@b..co",
                          ".a@b.co", "a@-b.co", "a@b.co\n"})
    CHECK(rule(bad));
}

TEST_CASE("query strings are percent-decoded") {
  auto q = parse_query("page=2&size=10&q=rock%20%26+roll&bad=%zz&page=9");
  CHECK(*q.get("page") == "2"); // first wins
  CHECK(*q.get("q") == "rock & roll");
  CHECK(q.get("bad") == nullptr);
  REQUIRE(q.malformed.size() == 1);
  CHECK(q.malformed[0] == "bad");
  CHECK_FALSE(percent_decode("%", false));
  CHECK_FALSE(percent_decode("%4", false));
  CHECK_FALSE(percent_decode("%ff", false));   // not UTF-8
  CHECK_FALSE(percent_decode("a%00b", false)); // NUL would truncate the value in libpq
}

TEST_CASE("path ids are positive 64-bit integers") {
  CHECK(parse_id("1") == 1);
  CHECK(parse_id("9223372036854775807") == 9223372036854775807LL);
  for (const char* bad : {"", "0", "-1", "abc", "1.5", "1e3", "9223372036854775808", " 1", "01x"})
    CHECK_FALSE(parse_id(bad));
}
