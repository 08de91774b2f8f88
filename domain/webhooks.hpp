// Webhook endpoints and their delivery log, as the API shows them (docs/api.md, "Webhooks").
#pragma once

#include "domain/time.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventhub::domain {

/// The notification types an endpoint may subscribe to, in the contract's order.
inline constexpr std::array<std::string_view, 5> webhook_event_types{
    "purchase.confirmed", "purchase.cancelled", "hold.expired", "waitlist.offered",
    "ticket.checked_in"};

bool is_webhook_event_type(std::string_view type);

/// POST /api/webhooks, validated: an http(s) URL and known types (all when none were given).
struct webhook_draft {
  std::string url;
  std::vector<std::string> event_types;
};

struct webhook_endpoint {
  std::int64_t id = 0;
  std::string url;
  std::vector<std::string> event_types;
  bool enabled = true;
  bool configured = false; // notify.webhook-url: kept in configuration, not deleted over the API
  timestamp created_at{};
  std::optional<std::string> secret; // `whsec_…`, only in the answer that created it
};

/// One delivery attempt of one message to one endpoint.
struct delivery_attempt {
  std::int64_t webhook_id = 0; // the endpoint
  std::string message_id;      // the webhook-id header: `msg_<n>`
  std::string type;
  int attempt = 1;
  std::string outcome; // DELIVERED, FAILED, TIMED_OUT, GONE
  std::optional<int> response_status;
  std::int64_t duration_ms = 0;
  timestamp attempted_at{};
};

/// The webhook-id of a message row.
inline std::string webhook_message_id(std::int64_t row_id) {
  return "msg_" + std::to_string(row_id);
}

} // namespace eventhub::domain
