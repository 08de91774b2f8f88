// ISO-8601 parsing and formatting.
#include "domain/time.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::domain;

TEST_CASE("ISO-8601 timestamps round-trip") {
  auto t = parse_iso8601("2027-03-01T19:30:00Z");
  REQUIRE(t);
  CHECK(format_iso8601(*t) == "2027-03-01T19:30:00Z");
  CHECK(to_micros(*t) == 1803929400LL * 1000000);
  auto frac = parse_iso8601("2027-03-01T19:30:00.123456Z");
  REQUIRE(frac);
  CHECK(format_iso8601(*frac) == "2027-03-01T19:30:00.123456Z");
}

TEST_CASE("offsets are applied") {
  CHECK(parse_iso8601("2027-03-01T21:30:00+02:00") == parse_iso8601("2027-03-01T19:30:00Z"));
  CHECK(parse_iso8601("2027-03-01T14:30:00-05:00") == parse_iso8601("2027-03-01T19:30:00Z"));
  CHECK(parse_iso8601("2024-02-29T00:00:00Z")); // leap day
}

TEST_CASE("malformed timestamps are rejected") {
  for (const char* bad :
       {"", "2027-03-01", "2027-03-01T19:30:00", "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z",
        "2027-03-01T24:00:00Z", "2027-03-01 19:30:00Z", "2027-03-01T19:30:00Zjunk",
        "2027-03-01T19:30:00+0200", "tomorrow", "2027-03-01T19:30:00.Z", "99999-01-01T00:00:00Z"})
    CHECK_FALSE(parse_iso8601(bad));
}
