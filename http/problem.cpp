// Typed errors to HTTP statuses and problem documents: one table row per error code.
#include "http/problem.hpp"

#include "domain/json.hpp"

#include <iterator>
#include <utility>

namespace eventhub::http {
namespace {

using domain::error_code;

/// Every error code's answer, one row each, in error_code's order (checked below). The contract
/// is docs/api.md; tests/unit/problem_test.cpp holds it row by row. The type of a problem is
/// problem_base + slug; `bearer` adds WWW-Authenticate: Bearer; `retry_after` is the Retry-After
/// (seconds) when the error names no delay itself, 0 for none.
struct problem_row {
  error_code code;
  int status;
  const char* slug;
  const char* title;
  bool bearer;
  int retry_after;
};

using ec = error_code;
// clang-format off
constexpr problem_row rows[] = {
//   code                      http slug                       title                     bearer retry
    {ec::invalid,              400, "validation-failed",       "Bad Request",            false, 0},
    {ec::unauthenticated,      401, "unauthorized",            "Unauthorized",           true,  0},
    {ec::forbidden,            403, "forbidden",               "Forbidden",              false, 0},
    {ec::not_found,            404, "not-found",               "Not Found",              false, 0},
    {ec::conflict,             409, "conflict",                "Conflict",               false, 0},
    {ec::sold_out,             409, "sold-out",                "Sold out",               false, 0},
    {ec::sales_closed,         409, "sales-closed",            "Sales closed",           false, 0},
    {ec::sales_not_open,       409, "sales-not-open",          "Sales not open",         false, 0},
    {ec::buyer_limit,          409, "buyer-limit",             "Buyer limit reached",    false, 0},
    {ec::hold_expired,         409, "hold-expired",            "Hold expired",           false, 0},
    {ec::hold_released,        409, "hold-released",           "Hold released",          false, 0},
    {ec::hold_confirmed,       409, "hold-confirmed",          "Hold confirmed",         false, 0},
    {ec::already_cancelled,    409, "already-cancelled",       "Already cancelled",      false, 0},
    {ec::cancellation_closed,  409, "cancellation-closed",     "Cancellation closed",    false, 0},
    {ec::tickets_available,    409, "tickets-available",       "Tickets available",      false, 0},
    {ec::already_waiting,      409, "already-waiting",         "Already waiting",        false, 0},
    {ec::checked_in,           409, "checked-in",              "Tickets checked in",     false, 0},
    {ec::unknown_ticket,       404, "unknown-ticket",          "Unknown ticket",         false, 0},
    {ec::already_checked_in,   409, "already-checked-in",      "Already checked in",     false, 0},
    {ec::ticket_cancelled,     409, "ticket-cancelled",        "Ticket cancelled",       false, 0},
    {ec::unprocessable,        422, "unprocessable",           "Unprocessable Content",  false, 0},
    {ec::idempotency_mismatch, 422, "idempotency-key-reused",  "Idempotency key reused", false, 0},
    {ec::throttled,            429, "too-many-login-failures", "Too Many Requests",      false, 0},
    {ec::unavailable,          503, "service-unavailable",     "Service Unavailable",    false, 1},
    {ec::internal,             500, "internal-error",          "Internal Server Error",  false, 0},
};
// clang-format on

constexpr bool rows_follow_the_enum() {
  for (std::size_t i = 0; i < std::size(rows); ++i)
    if (rows[i].code != static_cast<error_code>(i))
      return false;
  return std::size(rows) == domain::error_code_count;
}
static_assert(rows_follow_the_enum(), "one row per error_code, in declaration order");

const problem_row& row_of(error_code code) {
  const auto i = static_cast<std::size_t>(code);
  return rows[i < std::size(rows) ? i : static_cast<std::size_t>(error_code::internal)];
}

/// Titles of the HTTP layer's own problems (404 route, 405, 413 …): the status's reason phrase.
constexpr std::pair<int, const char*> reasons[] = {
    {400, "Bad Request"},
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
};

const char* reason(int status) {
  for (const auto& [s, phrase] : reasons)
    if (s == status)
      return phrase;
  return "Error";
}

std::string render(int status, const std::string& slug, const char* title,
                   const std::string& detail, const std::string& instance, const domain::error* e) {
  rapidjson::StringBuffer buffer;
  domain::json_writer w(buffer);
  w.StartObject();
  w.Key("type");
  w.String(std::string(problem_base) + slug);
  w.Key("title");
  w.String(title);
  w.Key("status");
  w.Int(status);
  w.Key("detail");
  w.String(detail);
  w.Key("instance");
  w.String(instance);
  if (e && !e->field_errors.empty()) {
    w.Key("errors");
    w.StartArray();
    for (const auto& f : e->field_errors) {
      w.StartObject();
      w.Key("field");
      w.String(f.field);
      w.Key("message");
      w.String(f.message);
      w.EndObject();
    }
    w.EndArray();
  }
  if (e && e->tickets_available) {
    w.Key("ticketsAvailable");
    w.Int64(*e->tickets_available);
  }
  if (e && e->tickets_allowed) {
    w.Key("ticketsAllowed");
    w.Int64(*e->tickets_allowed);
  }
  if (e && e->checked_in_at) {
    w.Key("checkedInAt");
    w.String(*e->checked_in_at);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

response make(int status, std::string body) {
  response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = std::move(body);
  return r;
}

} // namespace

int status_of(error_code code) {
  return row_of(code).status;
}

response problem(const domain::error& e, const std::string& instance) {
  const auto& row = row_of(e.code);
  // An internal error never shows its detail: it may hold exception text.
  const std::string detail =
      e.code == error_code::internal ? "An unexpected error occurred." : e.detail;
  auto r = make(row.status, render(row.status, row.slug, row.title, detail, instance, &e));
  if (row.bearer)
    r.with_header("WWW-Authenticate", "Bearer");
  if (e.retry_after_seconds)
    r.with_header("Retry-After", std::to_string(*e.retry_after_seconds));
  else if (row.retry_after > 0)
    r.with_header("Retry-After", std::to_string(row.retry_after));
  return r;
}

response problem(int status, const std::string& slug, const std::string& detail,
                 const std::string& instance) {
  return make(status, render(status, slug, reason(status), detail, instance, nullptr));
}

} // namespace eventhub::http
