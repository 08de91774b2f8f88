// SQL of the lifecycle notification outbox (pending_notifications, V5__holds.sql), used by the
// notifier as it uses confirmation_queries.hpp for purchase confirmations.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// Claims due rows for $2 ms so that concurrent sweepers (other nodes) skip them.
inline constexpr statement claim_due_notifications{
    "claim_due_notifications",
    "UPDATE pending_notifications SET claimed_until = now() + $2::bigint * interval '1 "
    "millisecond', attempts = attempts + 1 WHERE id IN (SELECT id FROM pending_notifications "
    "WHERE next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now()) "
    "ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, type, event_id, participant_id, subject_id, quantity, attempts, "
    "coalesce(refunded_cents, 0), coalesce(currency, ''), coalesce(request_id, ''), "
    "coalesce(hold_id, 0), " EVENTHUB_SQL_MICROS(
        "expires_at") ", coalesce(purchase_id, 0), " EVENTHUB_SQL_MICROS("checked_in_at")};

inline constexpr statement forget_delivered_notifications{
    "forget_delivered_notifications",
    "DELETE FROM pending_notifications n USING unnest($1::bigint[]) AS d(id) WHERE n.id = d.id"};

inline constexpr statement postpone_notifications{
    "postpone_notifications",
    "UPDATE pending_notifications n SET next_attempt_at = now() + $2::bigint * interval '1 "
    "millisecond', claimed_until = NULL, last_error = $3 "
    "FROM unnest($1::bigint[]) AS d(id) WHERE n.id = d.id"};

} // namespace eventhub::persistence::sql
