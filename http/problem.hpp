// RFC 9457 problem+json: every error body of the API is built here, and only here.
#pragma once

#include "domain/error.hpp"
#include "http/message.hpp"

#include <string>

namespace eventhub::http {

/// Base of the `type` URIs, e.g. ".../sold-out".
inline constexpr const char* problem_base = "https://eventhub.dev/problems/";

/// The answer for a typed error: status, type, title, detail, errors[], Retry-After,
/// WWW-Authenticate, ticketsAvailable. `instance` is the request path.
response problem(const domain::error& e, const std::string& instance);

/// For errors of the HTTP layer itself (404 route, 405, 413, 415, 431 …).
response problem(int status, const std::string& slug, const std::string& detail,
                 const std::string& instance);

int status_of(domain::error_code code);

} // namespace eventhub::http
