// Documentation files compiled into the binary by http/embed_docs.cmake.
#pragma once

#include <string_view>

namespace eventhub::http {

/// http/openapi.json: the OpenAPI document before http/openapi.cpp completes it from the routes.
std::string_view embedded_openapi_json();

/// http/swagger-ui/swagger-initializer.js: points Swagger UI at /v3/api-docs.
std::string_view embedded_swagger_initializer();

} // namespace eventhub::http
