// One webhook attempt over HTTP (libcurl): a POST to checked addresses only, no redirects, a
// time limit, and what the answer was. Used by the deliverers' poster actors, one client each.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::actors {

struct webhook_request {
  std::string url;
  std::string host; // the URL's host and port, pinned to `addresses`
  int port = 0;
  std::vector<std::string> addresses; // checked by the SSRF guard: curl connects only to these
  std::vector<std::string> headers;   // "name: value"
  std::string body;
};

struct webhook_answer {
  int status = 0; // 0: no answer
  bool timed_out = false;
  std::string error; // why not 2xx, for the delivery log
  std::optional<std::chrono::seconds> retry_after;
  std::chrono::milliseconds duration{};
};

class webhook_client {
 public:
  explicit webhook_client(std::chrono::milliseconds timeout);
  ~webhook_client();
  webhook_client(const webhook_client&) = delete;
  webhook_client& operator=(const webhook_client&) = delete;

  webhook_answer post(const webhook_request& request);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A Retry-After header's value: delay-seconds or an HTTP date (curl_getdate), from `now`.
std::optional<std::chrono::seconds> parse_retry_after(const std::string& value, std::time_t now);

} // namespace eventhub::actors
