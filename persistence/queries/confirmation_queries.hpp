// SQL of the confirmation outbox, used by the notifier. A row is a confirmation not yet
// delivered; delivering it deletes the row (migrations/V2__pending_confirmations.sql).
#pragma once

#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// Claims due rows for $2 ms so that concurrent sweepers (other nodes) skip them.
inline constexpr statement claim_due_confirmations{
    "claim_due_confirmations",
    "UPDATE pending_confirmations SET claimed_until = now() + $2::bigint * interval '1 "
    "millisecond', attempts = attempts + 1 WHERE purchase_id IN (SELECT purchase_id "
    "FROM pending_confirmations WHERE next_attempt_at <= now() "
    "AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY next_attempt_at LIMIT $1 "
    "FOR UPDATE SKIP LOCKED) "
    "RETURNING purchase_id, event_id, participant_id, quantity, request_id, attempts"};

// The ids are joined (one primary-key probe each) rather than tested with = ANY, which the
// planner may turn into a bitmap scan of a whole index (docs/benchmarks.md).
inline constexpr statement forget_delivered_confirmations{
    "forget_delivered_confirmations",
    "DELETE FROM pending_confirmations c USING unnest($1::bigint[]) AS d(id) "
    "WHERE c.purchase_id = d.id"};

inline constexpr statement postpone_confirmations{
    "postpone_confirmations",
    "UPDATE pending_confirmations c SET next_attempt_at = now() + $2::bigint * interval '1 "
    "millisecond', claimed_until = NULL, last_error = $3 "
    "FROM unnest($1::bigint[]) AS d(id) WHERE c.purchase_id = d.id"};

} // namespace eventhub::persistence::sql
