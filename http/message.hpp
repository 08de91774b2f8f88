// HTTP request and response as plain values: what handlers see. Beast stays in server/session.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eventhub::http {

struct request {
  std::string method; // "GET", "POST", …
  std::string path;   // the target without the query string, not decoded
  std::string query;  // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers; // names lower-cased
  std::string body;
  std::string remote_address;
  std::string request_id; // the client's X-Request-Id, or a generated one
  std::chrono::steady_clock::time_point received_at = std::chrono::steady_clock::now();

  /// The first header of that (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_name) const;
};

struct response {
  int status = 200;
  std::string content_type; // empty: no body
  std::string body;
  /// A body kept elsewhere and shared (a cached listing page): written without a copy.
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;

  /// The body, wherever it is kept.
  const std::string& body_text() const { return shared_body ? *shared_body : body; }

  response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

/// Sends the response of one request; safe to call from any thread, effective once.
using respond_fn = std::function<void(response)>;

response json_response(int status, std::string body);
response json_response(int status, std::shared_ptr<const std::string> body);

} // namespace eventhub::http
