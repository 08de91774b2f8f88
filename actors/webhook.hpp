// An HTTP POST client for confirmation webhooks (libcurl), used by one detached actor.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace eventhub::actors {

class webhook_client {
 public:
  webhook_client(std::string url, std::chrono::milliseconds timeout);
  ~webhook_client();

  /// POSTs `json`; true for a 2xx answer. `error` says why not, for the outbox row.
  bool post(const std::string& json, const std::string& idempotency_key, std::string& error);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace eventhub::actors
