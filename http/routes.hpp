// The route table: every path, method and required role of the API, in one place.
#pragma once

#include "http/handlers/handlers.hpp"
#include "http/router.hpp"

#include <vector>

namespace eventhub::http {

/// `ctx` must outlive the routes.
std::vector<route> make_routes(const handler_context& ctx);

} // namespace eventhub::http
