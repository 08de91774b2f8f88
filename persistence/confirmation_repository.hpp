// The outboxes (purchase confirmations, lifecycle notifications) as the notifier sees them: claim
// due rows, forget delivered ones, put failed ones off. Rows are keyed by their purchase id.
#pragma once

#include "domain/model.hpp"
#include "persistence/session.hpp"

#include <chrono>
#include <vector>

namespace eventhub::persistence::confirmations {

/// Up to `limit` undelivered rows whose time has come, claimed for `lease` against other sweepers.
std::vector<domain::confirmation> claim_due(tx& t, int limit, std::chrono::milliseconds lease);

/// Deletes the rows of these delivered confirmations.
void forget_delivered(tx& t, const std::vector<std::int64_t>& purchase_ids);

void postpone(tx& t, const std::vector<std::int64_t>& purchase_ids, std::chrono::milliseconds delay,
              const std::string& reason);

} // namespace eventhub::persistence::confirmations

namespace eventhub::persistence::notifications {

/// The same for lifecycle notifications (pending_notifications), keyed by their outbox id.
std::vector<domain::notification> claim_due(tx& t, int limit, std::chrono::milliseconds lease);
void forget_delivered(tx& t, const std::vector<std::int64_t>& ids);
void postpone(tx& t, const std::vector<std::int64_t>& ids, std::chrono::milliseconds delay,
              const std::string& reason);

} // namespace eventhub::persistence::notifications
