// Check-in bodies (http/decoders.hpp): single scans and offline batches, 1..1000 scans.
#include "http/decoders.hpp"
#include "http/server.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace eventhub;

namespace {

http::validator parsed(const std::string& text) {
  return std::get<http::validator>(http::validator::parse(text));
}

std::string batch_of(std::size_t n) {
  std::string body = R"({"scans":[)";
  for (std::size_t i = 0; i < n; ++i)
    body += (i ? "," : "") + std::string(R"({"code":"c","scanId":"s)") + std::to_string(i) +
            R"(","scannedAt":"2027-03-01T19:02:11Z"})";
  return body + "]}";
}

std::string first_field(const http::validator& v) {
  auto e = v.error();
  return e.field_errors.empty() ? "" : e.field_errors.front().field;
}

} // namespace

SCENARIO("a single scan needs a code; its scanId is optional but well-formed") {
  auto ok = parsed(R"({"code":"EH1.x","scanId":"gate-1"})");
  auto s = http::read_scan(ok);
  REQUIRE(s);
  CHECK(s->code == "EH1.x");
  CHECK(s->scan_id == "gate-1");
  CHECK_FALSE(s->scanned_at);
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({})", "code"},
           {R"({"code":7})", "code"},
           {R"({"code":""})", "code"},
           {R"({"code":"c","scanId":""})", "scanId"},
           {R"({"code":"c","scanId":"a b"})", "scanId"},
           {R"({"code":"c","scanId":")" + std::string(65, 'x') + "\"}", "scanId"}}) {
    CAPTURE(body);
    auto v = parsed(body);
    CHECK_FALSE(http::read_scan(v));
    CHECK(first_field(v) == field);
  }
}

SCENARIO("a batch carries 1 to 1000 scans, each with code, scanId and scannedAt") {
  auto full = parsed(batch_of(1000));
  auto scans = http::read_scan_batch(full);
  REQUIRE(scans);
  CHECK(scans->size() == 1000);
  CHECK(scans->back().scan_id == "s999");
  CHECK(scans->back().scanned_at == domain::parse_iso8601("2027-03-01T19:02:11Z"));
  for (const auto& body : {batch_of(1001), batch_of(0), std::string(R"({"scans":{}})")}) {
    auto v = parsed(body);
    CHECK_FALSE(http::read_scan_batch(v));
    CHECK(first_field(v) == "scans");
  }
  auto missing = parsed(R"({"scans":[{"code":"c","scanId":"a"}]})");
  CHECK_FALSE(http::read_scan_batch(missing));
  CHECK(first_field(missing) == "scans[0].scannedAt");
}

SCENARIO("only the batch route takes bodies up to 1 MiB") {
  CHECK(http::takes_batch_body("/api/events/12/checkins/batch"));
  CHECK(http::takes_batch_body("/api/events/12/checkins/batch?x=1"));
  CHECK_FALSE(http::takes_batch_body("/api/events/12/checkins"));
  CHECK_FALSE(http::takes_batch_body("/api/events/1/2/checkins/batch"));
  CHECK_FALSE(http::takes_batch_body("/api/events//checkins/batchx"));
}
