// Typed errors to HTTP statuses and problem documents.
#include "http/problem.hpp"

#include "domain/json.hpp"

namespace eventhub::http {
namespace {

using domain::error_code;

const char* reason(int status) {
  switch (status) {
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 413:
    return "Content Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Content";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Error";
  }
}

const char* slug_of(error_code code) {
  switch (code) {
  case error_code::invalid:
    return "validation-failed";
  case error_code::unauthenticated:
    return "unauthorized";
  case error_code::forbidden:
    return "forbidden";
  case error_code::not_found:
    return "not-found";
  case error_code::conflict:
    return "conflict";
  case error_code::sold_out:
    return "sold-out";
  case error_code::sales_closed:
    return "sales-closed";
  case error_code::idempotency_mismatch:
    return "idempotency-key-reused";
  case error_code::throttled:
    return "too-many-login-failures";
  case error_code::unavailable:
    return "service-unavailable";
  case error_code::internal:
    return "internal-error";
  }
  return "internal-error";
}

const char* title_of(error_code code, int status) {
  switch (code) {
  case error_code::sold_out:
    return "Sold out";
  case error_code::sales_closed:
    return "Sales closed";
  case error_code::idempotency_mismatch:
    return "Idempotency key reused";
  default:
    return reason(status);
  }
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
  switch (code) {
  case error_code::invalid:
    return 400;
  case error_code::unauthenticated:
    return 401;
  case error_code::forbidden:
    return 403;
  case error_code::not_found:
    return 404;
  case error_code::conflict:
  case error_code::sold_out:
  case error_code::sales_closed:
    return 409;
  case error_code::idempotency_mismatch:
    return 422;
  case error_code::throttled:
    return 429;
  case error_code::unavailable:
    return 503;
  case error_code::internal:
    return 500;
  }
  return 500;
}

response problem(const domain::error& e, const std::string& instance) {
  const int status = status_of(e.code);
  // An internal error never shows its detail: it may hold exception text.
  const std::string detail =
      e.code == error_code::internal ? "An unexpected error occurred." : e.detail;
  auto r =
      make(status, render(status, slug_of(e.code), title_of(e.code, status), detail, instance, &e));
  if (e.code == error_code::unauthenticated)
    r.with_header("WWW-Authenticate", "Bearer");
  if (e.retry_after_seconds)
    r.with_header("Retry-After", std::to_string(*e.retry_after_seconds));
  else if (e.code == error_code::unavailable)
    r.with_header("Retry-After", "1");
  return r;
}

response problem(int status, const std::string& slug, const std::string& detail,
                 const std::string& instance) {
  return make(status, render(status, slug, reason(status), detail, instance, nullptr));
}

} // namespace eventhub::http
