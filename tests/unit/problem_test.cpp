// problem+json bodies: statuses, types, headers, and no internal detail.
#include "domain/json.hpp"
#include "http/problem.hpp"

#include <catch2/catch.hpp>

using namespace eventhub;

namespace {

rapidjson::Document body(const http::response& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE(d.IsObject());
  return d;
}

bool has_header(const http::response& r, const std::string& name, const std::string& value) {
  for (const auto& [k, v] : r.headers)
    if (k == name && v == value)
      return true;
  return false;
}

} // namespace

TEST_CASE("typed errors map to statuses and problem types") {
  auto sold_out = domain::make_error(domain::error_code::sold_out, "none left");
  sold_out.tickets_available = 3;
  auto r = http::problem(sold_out, "/api/events/1/purchases");
  CHECK(r.status == 409);
  CHECK(r.content_type == "application/problem+json");
  auto d = body(r);
  CHECK(std::string(d["type"].GetString()).find("/sold-out") != std::string::npos);
  CHECK(d["ticketsAvailable"].GetInt() == 3);
  CHECK(std::string(d["instance"].GetString()) == "/api/events/1/purchases");

  CHECK(http::problem(domain::make_error(domain::error_code::sales_closed, ""), "/").status == 409);
  CHECK(
      http::problem(domain::make_error(domain::error_code::idempotency_mismatch, ""), "/").status ==
      422);
  CHECK(http::problem(domain::make_error(domain::error_code::forbidden, ""), "/").status == 403);
  auto unauth = http::problem(domain::make_error(domain::error_code::unauthenticated, ""), "/");
  CHECK(unauth.status == 401);
  CHECK(has_header(unauth, "WWW-Authenticate", "Bearer"));
  auto busy = http::problem(domain::unavailable("db down", 7), "/");
  CHECK(busy.status == 503);
  CHECK(has_header(busy, "Retry-After", "7"));
}

TEST_CASE("internal errors never show their detail") {
  auto r = http::problem(
      domain::make_error(domain::error_code::internal, "ERROR: relation \"x\" SELECT"), "/");
  CHECK(r.status == 500);
  CHECK(r.body.find("SELECT") == std::string::npos);
}

TEST_CASE("field errors are listed") {
  auto e = domain::make_error(domain::error_code::invalid, "bad");
  e.field_errors = {{"email", "must be a well-formed email address"},
                    {"password", "size must be between 8 and 128"}};
  auto d = body(http::problem(e, "/api/auth/register"));
  REQUIRE(d["errors"].IsArray());
  CHECK(d["errors"].Size() == 2);
  CHECK(std::string(d["errors"][0]["field"].GetString()) == "email");
}
