// Holds: the expiry step and hold reads of the event batch (purchase_repository.cpp runs them
// under the event's row lock, and writes holds with the batch's other writes), the expiry
// sweep, and the hold reads. SQL in queries/hold_queries.hpp.
#pragma once

#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/purchase_rules.hpp"
#include "persistence/session.hpp"
#include "persistence/waitlist_repository.hpp"

#include <optional>
#include <vector>

namespace eventhub::persistence::holds {

/// With the event's row locked: its HELD holds due at `at` (nullopt: the database's clock now)
/// become EXPIRED, freeing their tickets, with a hold.expired notification each. Every writer
/// of the event's figures calls this first, so the counters it checks are exact.
std::vector<domain::notification> expire_due(tx& t, std::int64_t event_id,
                                             std::optional<domain::timestamp> at);

/// The holds the batch's confirms and releases name, with the purchases of confirmed ones.
std::vector<domain::target_hold> targets(tx& t, std::int64_t event_id,
                                         const std::vector<domain::purchase_request>& batch);

/// The holds made earlier with the keys of the batch's hold requests.
std::vector<domain::keyed_hold> keyed(tx& t, const std::vector<domain::purchase_request>& batch);

/// When the event's next HELD hold expires.
std::optional<domain::timestamp> next_expiry(tx& t, std::int64_t event_id);

/// The sweep, for events no running actor expires (passivated, owner node gone): up to
/// `max_events` events with due holds, each expired in a transaction of its own under its row
/// lock (skipped while a batch holds that lock: the batch expires them), and the freed tickets
/// offered to the event's waitlist in the same transaction. Returns the notifications written.
std::vector<domain::notification> sweep(session& s, int max_events,
                                        const waitlist::offer_settings& offers);

std::optional<domain::hold> find(tx& t, std::int64_t id);

domain::page<domain::hold> list_of(tx& t, std::int64_t participant_id,
                                   const domain::page_request& paging);

} // namespace eventhub::persistence::holds
