// HTTP request and response as plain values: what handlers see. Beast stays in server/session.
#pragma once

#include "domain/result.hpp"

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

/// Runs a step of one request on its connection's I/O thread: at once when called there, else
/// queued onto the connection's executor. Safe to call from any thread. A step of a request
/// already answered (by the timeout's 503) is dropped.
using post_fn = std::function<void(std::function<void()>)>;

/// A reply to hand to the core that does nothing on the core's thread but move the result onto
/// the connection's I/O thread, where `then(result)` runs: rendering, metrics, logs and every
/// next step of a request happen there (see router.hpp). The core invokes a reply once.
template <class T, class F> domain::reply<T> on_io(post_fn post, F then) {
  return [post = std::move(post), then = std::move(then)](domain::result<T> r) mutable {
    post([then = std::move(then), r = std::move(r)]() mutable { then(std::move(r)); });
  };
}

response json_response(int status, std::string body);
response json_response(int status, std::shared_ptr<const std::string> body);

} // namespace eventhub::http
