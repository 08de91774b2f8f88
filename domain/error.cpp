// Names of error codes, for logs and metrics labels.
#include "domain/error.hpp"

namespace eventhub::domain {

const char* to_string(error_code code) {
  switch (code) {
  case error_code::invalid:
    return "invalid";
  case error_code::unauthenticated:
    return "unauthenticated";
  case error_code::forbidden:
    return "forbidden";
  case error_code::not_found:
    return "not_found";
  case error_code::conflict:
    return "conflict";
  case error_code::sold_out:
    return "sold_out";
  case error_code::sales_closed:
    return "sales_closed";
  case error_code::idempotency_mismatch:
    return "idempotency_mismatch";
  case error_code::throttled:
    return "throttled";
  case error_code::unavailable:
    return "unavailable";
  case error_code::internal:
    return "internal";
  }
  return "internal";
}

} // namespace eventhub::domain
