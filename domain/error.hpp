// Typed errors shared by every layer; HTTP statuses are chosen only at the edge (http/problem.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::domain {

enum class error_code {
  invalid,              // request fails validation (400)
  unauthenticated,      // no or bad credentials (401)
  forbidden,            // authenticated, wrong role (403)
  not_found,            // resource does not exist (404)
  conflict,             // state forbids the change: taken email, sold tickets (409)
  sold_out,             // not enough tickets left (409 .../sold-out)
  sales_closed,         // event already started (409 .../sales-closed)
  sales_not_open,       // before the event's salesStartAt (409 .../sales-not-open)
  buyer_limit,          // the buyer would pass maxPerBuyer (409 .../buyer-limit)
  hold_expired,         // confirm from the hold's expiresAt on (409 .../hold-expired)
  hold_released,        // confirm of a released hold (409 .../hold-released)
  hold_confirmed,       // release of a confirmed hold (409 .../hold-confirmed)
  already_cancelled,    // cancel of a purchase with nothing left (409 .../already-cancelled)
  cancellation_closed,  // cancel past the cutoff, or after the start (409 .../cancellation-closed)
  tickets_available,    // a waitlist join for what could be bought now (409 .../tickets-available)
  already_waiting,      // a second WAITING or OFFERED entry of one type (409 .../already-waiting)
  checked_in,           // a cancel of more tickets than are VALID (409 .../checked-in)
  unknown_ticket,       // a ticket code not genuine, or of another event (404 .../unknown-ticket)
  already_checked_in,   // a scan of a ticket checked in before (409 .../already-checked-in)
  ticket_cancelled,     // a scan of a cancelled ticket (409 .../ticket-cancelled)
  unprocessable,        // a well-formed field the state refuses: a cancel above what is left (422)
  idempotency_mismatch, // key reused with another body or event (422)
  throttled,            // too many failed logins (429)
  unavailable,          // database down, queue full, timeout (503)
  internal              // a bug; never detailed to clients (500); stays last
};

/// How many codes there are: the tables indexed by error_code (names here, HTTP facets in
/// http/problem.cpp) have exactly this many rows.
inline constexpr std::size_t error_code_count = static_cast<std::size_t>(error_code::internal) + 1;

struct field_error {
  std::string field;
  std::string message;
};

struct error {
  error_code code = error_code::internal;
  std::string detail;                            // safe for clients: never SQL or exception text
  std::vector<field_error> field_errors;         // for error_code::invalid
  std::optional<std::int64_t> tickets_available; // for sold_out and tickets_available
  std::optional<std::int64_t> tickets_allowed;   // for error_code::buyer_limit
  std::optional<int> retry_after_seconds;        // for throttled / unavailable
  std::optional<std::string> checked_in_at;      // for already_checked_in (RFC 3339)
};

inline error make_error(error_code code, std::string detail) {
  error e;
  e.code = code;
  e.detail = std::move(detail);
  return e;
}

inline error unavailable(std::string detail, int retry_after = 1) {
  auto e = make_error(error_code::unavailable, std::move(detail));
  e.retry_after_seconds = retry_after;
  return e;
}

const char* to_string(error_code code);

} // namespace eventhub::domain
