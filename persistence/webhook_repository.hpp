// Webhooks in PostgreSQL: endpoints, the fan-out of delivered outbox rows into per-endpoint
// messages, the deliverers' claims and outcomes, and the delivery log. SQL in
// queries/webhook_queries.hpp.
#pragma once

#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/webhooks.hpp"
#include "persistence/session.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::persistence::webhooks {

// ---- fan-out (the notifier) ------------------------------------------------------------------

/// Deletes these confirmations from their outbox and writes a message for every enabled endpoint
/// that wants purchase.confirmed; answers the endpoints that got messages.
std::vector<std::int64_t> fan_out_confirmations(tx& t, const std::vector<std::int64_t>& ids);
/// The same for lifecycle notifications (pending_notifications ids).
std::vector<std::int64_t> fan_out_notifications(tx& t, const std::vector<std::int64_t>& ids);

// ---- a deliverer's work ----------------------------------------------------------------------

struct message {
  std::int64_t id = 0;
  std::string type;
  std::string body;
  int attempts = 0; // made before this claim
};

/// Up to `limit` due messages of an enabled endpoint, claimed for `lease`.
std::vector<message> claim_due(tx& t, std::int64_t endpoint_id, int limit,
                               std::chrono::milliseconds lease);

/// What one attempt came to, and what becomes of its message.
struct attempt_record {
  std::int64_t message_id = 0;
  std::string type;
  int attempt = 1;
  std::string outcome;     // DELIVERED, FAILED, TIMED_OUT, GONE
  int response_status = 0; // 0: no answer
  std::int64_t duration_ms = 0;
  domain::timestamp attempted_at{};
  std::string error;
  std::string next_status;              // PENDING (retry), DELIVERED or FAILED
  std::chrono::milliseconds retry_in{}; // for PENDING
};

/// Logs the attempts; deletes the messages settled (DELIVERED, FAILED) and puts the others off.
/// A message settled already (by another node after a lease ended) stays settled.
void record(tx& t, std::int64_t endpoint_id, const std::vector<attempt_record>& attempts);

/// Disables the endpoint (a 410 answer); its URL if this call disabled it, nullopt if it was
/// disabled or deleted already. Records its webhook.disabled audit entry (no actor: the service).
std::optional<std::string> disable(tx& t, std::int64_t endpoint_id, const std::string& reason);

struct stored_endpoint {
  std::int64_t id = 0;
  std::string url;
  std::string sealed_secret;
};

std::vector<stored_endpoint> enabled_endpoints(tx& t);

// ---- endpoints over the API --------------------------------------------------------------------

/// `seal(id)` seals the new endpoint's secret for its id (associated data).
domain::webhook_endpoint create(tx& t, const domain::webhook_draft& draft,
                                const std::function<std::string(std::int64_t)>& seal);
domain::page<domain::webhook_endpoint> list(tx& t, domain::page_request paging);
std::optional<domain::webhook_endpoint> find(tx& t, std::int64_t id);
/// False when there is no such endpoint.
bool remove(tx& t, std::int64_t id);

/// Makes the configured endpoint (notify.webhook-url) say `url`, enabled for every type, or
/// deletes it when `url` is empty.
void configure(tx& t, const std::string& url, const std::function<std::string(std::int64_t)>& seal);

domain::page<domain::delivery_attempt> attempts(tx& t, std::int64_t endpoint_id,
                                                domain::page_request paging);

} // namespace eventhub::persistence::webhooks
