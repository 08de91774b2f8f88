// SQL of the confirmation outbox, used by the notifier.
#pragma once

#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// Claims due rows for $2 ms so that concurrent sweepers (other nodes) skip them.
inline constexpr statement claim_due_confirmations{
    "claim_due_confirmations",
    "UPDATE purchase_confirmations SET claimed_until = now() + $2::bigint * interval '1 "
    "millisecond', "
    "attempts = attempts + 1 WHERE id IN (SELECT id FROM purchase_confirmations "
    "WHERE delivered_at IS NULL AND next_attempt_at <= now() "
    "AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY id LIMIT $1 "
    "FOR UPDATE SKIP LOCKED) "
    "RETURNING id, purchase_id, event_id, participant_id, quantity, request_id, attempts"};

// The ids are joined (one primary-key probe each) rather than tested with = ANY: with ANY the
// planner ANDs a bitmap of the primary key with one of the whole pending index, which under
// purchase load cost a third of the database's CPU (docs/benchmarks.md).
inline constexpr statement mark_confirmations_delivered{
    "mark_confirmations_delivered",
    "UPDATE purchase_confirmations c SET delivered_at = now(), claimed_until = NULL "
    "FROM unnest($1::bigint[]) AS d(id) WHERE c.id = d.id AND c.delivered_at IS NULL"};

inline constexpr statement postpone_confirmations{
    "postpone_confirmations",
    "UPDATE purchase_confirmations c SET next_attempt_at = now() + $2::bigint * interval '1 "
    "millisecond', claimed_until = NULL, last_error = $3 "
    "FROM unnest($1::bigint[]) AS d(id) WHERE c.id = d.id AND c.delivered_at IS NULL"};

} // namespace eventhub::persistence::sql
