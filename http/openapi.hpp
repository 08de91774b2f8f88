// The OpenAPI 3 document of GET /v3/api-docs: http/openapi.json completed from the route table,
// so a route can neither exist undocumented nor be documented without existing.
#pragma once

#include "http/router.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace eventhub::http {

/// The documentation and the route table disagree, or the documentation is not valid JSON.
struct openapi_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct openapi_options {
  int max_per_order = 10; // purchase.max-per-order: the documented maximum of `quantity`
};

/// Completes `base` (http/openapi.json: operations without summary, security, 401 and 403) from
/// `routes`: each operation gets the route's summary, the bearer security requirement and the
/// 401/403 responses its access implies, a sentence naming who may call it, the X-Request-Id
/// parameter, and the X-Request-Id header on every response. Throws openapi_error naming every
/// route without an operation and every operation without a route.
std::string openapi_document(const std::vector<route>& routes, std::string_view base,
                             const openapi_options& options);

} // namespace eventhub::http
