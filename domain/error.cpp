// Names of error codes, for logs and metrics labels. Their HTTP facets (status, problem type,
// title) are the table in http/problem.cpp: statuses are chosen only at the edge.
#include "domain/error.hpp"

#include <iterator>

namespace eventhub::domain {
namespace {

/// Indexed by error_code, in its declaration order.
constexpr const char* names[] = {
    "invalid",              // error_code::invalid
    "unauthenticated",      // error_code::unauthenticated
    "forbidden",            // error_code::forbidden
    "not_found",            // error_code::not_found
    "conflict",             // error_code::conflict
    "sold_out",             // error_code::sold_out
    "sales_closed",         // error_code::sales_closed
    "sales_not_open",       // error_code::sales_not_open
    "buyer_limit",          // error_code::buyer_limit
    "hold_expired",         // error_code::hold_expired
    "hold_released",        // error_code::hold_released
    "hold_confirmed",       // error_code::hold_confirmed
    "already_cancelled",    // error_code::already_cancelled
    "cancellation_closed",  // error_code::cancellation_closed
    "tickets_available",    // error_code::tickets_available
    "already_waiting",      // error_code::already_waiting
    "checked_in",           // error_code::checked_in
    "unknown_ticket",       // error_code::unknown_ticket
    "already_checked_in",   // error_code::already_checked_in
    "ticket_cancelled",     // error_code::ticket_cancelled
    "unprocessable",        // error_code::unprocessable
    "idempotency_mismatch", // error_code::idempotency_mismatch
    "throttled",            // error_code::throttled
    "unavailable",          // error_code::unavailable
    "internal",             // error_code::internal
};
static_assert(std::size(names) == error_code_count, "one name per error_code");

} // namespace

const char* to_string(error_code code) {
  const auto i = static_cast<std::size_t>(code);
  return i < error_code_count ? names[i] : "internal";
}

} // namespace eventhub::domain
