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

namespace {

/// The contract (docs/api.md): what each error code answers. A new code fails here until it is
/// listed, so no code can reach a client without a decided status, type and title.
struct expected_problem {
  domain::error_code code;
  int status;
  const char* type;
  const char* title;
};

const expected_problem contract[] = {
    {domain::error_code::invalid, 400, "validation-failed", "Bad Request"},
    {domain::error_code::unauthenticated, 401, "unauthorized", "Unauthorized"},
    {domain::error_code::forbidden, 403, "forbidden", "Forbidden"},
    {domain::error_code::not_found, 404, "not-found", "Not Found"},
    {domain::error_code::conflict, 409, "conflict", "Conflict"},
    {domain::error_code::sold_out, 409, "sold-out", "Sold out"},
    {domain::error_code::sales_closed, 409, "sales-closed", "Sales closed"},
    {domain::error_code::sales_not_open, 409, "sales-not-open", "Sales not open"},
    {domain::error_code::buyer_limit, 409, "buyer-limit", "Buyer limit reached"},
    {domain::error_code::hold_expired, 409, "hold-expired", "Hold expired"},
    {domain::error_code::hold_released, 409, "hold-released", "Hold released"},
    {domain::error_code::hold_confirmed, 409, "hold-confirmed", "Hold confirmed"},
    {domain::error_code::already_cancelled, 409, "already-cancelled", "Already cancelled"},
    {domain::error_code::cancellation_closed, 409, "cancellation-closed", "Cancellation closed"},
    {domain::error_code::tickets_available, 409, "tickets-available", "Tickets available"},
    {domain::error_code::already_waiting, 409, "already-waiting", "Already waiting"},
    {domain::error_code::checked_in, 409, "checked-in", "Tickets checked in"},
    {domain::error_code::unknown_ticket, 404, "unknown-ticket", "Unknown ticket"},
    {domain::error_code::already_checked_in, 409, "already-checked-in", "Already checked in"},
    {domain::error_code::ticket_cancelled, 409, "ticket-cancelled", "Ticket cancelled"},
    {domain::error_code::unprocessable, 422, "unprocessable", "Unprocessable Content"},
    {domain::error_code::idempotency_mismatch, 422, "idempotency-key-reused",
     "Idempotency key reused"},
    {domain::error_code::throttled, 429, "too-many-login-failures", "Too Many Requests"},
    {domain::error_code::unavailable, 503, "service-unavailable", "Service Unavailable"},
    {domain::error_code::internal, 500, "internal-error", "Internal Server Error"},
};

const char* const names[] = {"invalid",
                             "unauthenticated",
                             "forbidden",
                             "not_found",
                             "conflict",
                             "sold_out",
                             "sales_closed",
                             "sales_not_open",
                             "buyer_limit",
                             "hold_expired",
                             "hold_released",
                             "hold_confirmed",
                             "already_cancelled",
                             "cancellation_closed",
                             "tickets_available",
                             "already_waiting",
                             "checked_in",
                             "unknown_ticket",
                             "already_checked_in",
                             "ticket_cancelled",
                             "unprocessable",
                             "idempotency_mismatch",
                             "throttled",
                             "unavailable",
                             "internal"};

} // namespace

TEST_CASE("every error code answers its status, type and title, exactly as the contract says") {
  REQUIRE(std::size(contract) == domain::error_code_count);
  for (std::size_t i = 0; i < domain::error_code_count; ++i) {
    const auto code = static_cast<domain::error_code>(i);
    const auto& want = contract[i];
    REQUIRE(want.code == code);
    CAPTURE(names[i]);
    CHECK(std::string(domain::to_string(code)) == names[i]);
    CHECK(http::status_of(code) == want.status);
    auto r = http::problem(domain::make_error(code, "why"), "/api/x");
    CHECK(r.status == want.status);
    CHECK(r.content_type == "application/problem+json");
    const std::string detail =
        code == domain::error_code::internal ? "An unexpected error occurred." : "why";
    CHECK(r.body == std::string("{\"type\":\"https://eventhub.dev/problems/") + want.type +
                        "\",\"title\":\"" + want.title +
                        "\",\"status\":" + std::to_string(want.status) + ",\"detail\":\"" + detail +
                        "\",\"instance\":\"/api/x\"}");
    const bool challenged = code == domain::error_code::unauthenticated;
    const bool retry = code == domain::error_code::unavailable;
    CHECK(has_header(r, "WWW-Authenticate", "Bearer") == challenged);
    CHECK(has_header(r, "Retry-After", "1") == retry);
    CHECK(r.headers.size() == (challenged || retry ? 1u : 0u));
  }
}

TEST_CASE("Retry-After follows the error's own delay, for any code that sets one") {
  auto throttled = domain::make_error(domain::error_code::throttled, "slow down");
  throttled.retry_after_seconds = 60;
  auto r = http::problem(throttled, "/api/auth/login");
  CHECK(r.status == 429);
  CHECK(has_header(r, "Retry-After", "60"));
  CHECK(r.headers.size() == 1);
}

TEST_CASE("errors of the HTTP layer itself carry the status's reason as title") {
  const std::pair<int, const char*> reasons[] = {{400, "Bad Request"},
                                                 {401, "Unauthorized"},
                                                 {403, "Forbidden"},
                                                 {404, "Not Found"},
                                                 {405, "Method Not Allowed"},
                                                 {408, "Request Timeout"},
                                                 {409, "Conflict"},
                                                 {413, "Content Too Large"},
                                                 {415, "Unsupported Media Type"},
                                                 {422, "Unprocessable Content"},
                                                 {429, "Too Many Requests"},
                                                 {431, "Request Header Fields Too Large"},
                                                 {500, "Internal Server Error"},
                                                 {503, "Service Unavailable"},
                                                 {418, "Error"}};
  for (const auto& [status, title] : reasons) {
    auto r = http::problem(status, "some-slug", "d", "/p");
    CHECK(r.status == status);
    CHECK(r.body ==
          std::string("{\"type\":\"https://eventhub.dev/problems/some-slug\",\"title\":\"") +
              title + "\",\"status\":" + std::to_string(status) +
              ",\"detail\":\"d\",\"instance\":\"/p\"}");
    CHECK(r.headers.empty());
  }
}
