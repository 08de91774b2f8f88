// SQL of retention: one batch of each kind of row that nothing needs any more. Each delete picks
// at most $batch of its oldest rows by an index of migrations/V11__retention.sql and deletes them
// by primary key; the retention repository loops until a batch deletes fewer than it asked for.
// What each keeps, and why: docs/operations.md, "Retention".
#pragma once

#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// clang-format off

// One node's retention at a time: taken by every batch's transaction, released by its commit
// (repository header: why per transaction). False: another node is deleting now.
inline constexpr statement retention_try_lock{
    "retention_try_lock", "SELECT pg_try_advisory_xact_lock(hashtext('eventhub.retention'))"};

// $1 keep (ms, never less than login.failure-window), $2 batch. Runs of failures that began
// before the cutoff and are not locked now: a row inside the throttle window, or whose lockout
// runs, is never picked. FOR UPDATE SKIP LOCKED: a row a login is counting right now is left to
// the next round, and a row picked is locked, so no login can restart its run (which would make
// it young again) before it is deleted.
inline constexpr statement retention_login_failures{
    "retention_login_failures",
    "DELETE FROM login_failures WHERE subject = ANY (ARRAY("
    "  SELECT subject FROM login_failures "
    "  WHERE first_failed_at < now() - $1::bigint * interval '1 millisecond' "
    "    AND (locked_until IS NULL OR locked_until <= now()) "
    "  ORDER BY first_failed_at LIMIT $2 FOR UPDATE SKIP LOCKED))"};

// $1 keep (ms), $2 batch. Purchase keys older than the keep: the purchase stays (purchases are
// never deleted); only the replay by key ends. Rows are never updated, so no row lock is needed.
inline constexpr statement retention_idempotency_keys{
    "retention_idempotency_keys",
    "DELETE FROM idempotency_keys WHERE purchase_id = ANY (ARRAY("
    "  SELECT purchase_id FROM idempotency_keys "
    "  WHERE created_at < now() - $1::bigint * interval '1 millisecond' "
    "  ORDER BY created_at LIMIT $2))"};

// $1 keep (ms) after the hold left HELD, $2 keep of idempotency keys (ms), $3 batch. RELEASED
// and EXPIRED holds only (a HELD hold, even one past its expiresAt, is never picked; a CONFIRMED
// one is named by its purchase forever), and of those not:
//  - one whose Idempotency-Key is still remembered (a hold request's key lives in its row),
//  - one a purchase names (holds_restrict_purchases would refuse the delete),
//  - a waitlist offer (waitlist_entries.hold_id would cascade: the entry is the buyer's record).
// A settled hold never changes again, so no row lock is needed.
inline constexpr statement retention_holds{
    "retention_holds",
    "DELETE FROM holds WHERE id = ANY (ARRAY("
    "  SELECT h.id FROM holds h "
    "  WHERE h.status IN ('RELEASED', 'EXPIRED') "
    "    AND h.settled_at < now() - $1::bigint * interval '1 millisecond' "
    "    AND (h.idempotency_key IS NULL "
    "         OR h.created_at < now() - $2::bigint * interval '1 millisecond') "
    "    AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.hold_id = h.id) "
    "    AND NOT EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.hold_id = h.id) "
    "  ORDER BY h.settled_at LIMIT $3))"};

// $1 keep (ms), $2 batch. The delivery log (GET /api/webhooks/{id}/deliveries) of settled
// messages: a message is deleted from webhook_messages when it is delivered or fails for good,
// so an attempt whose message is still there belongs to a pending message and stays, with all
// of that message's attempts. Attempts are never updated.
inline constexpr statement retention_webhook_attempts{
    "retention_webhook_attempts",
    "DELETE FROM webhook_attempts WHERE id = ANY (ARRAY("
    "  SELECT a.id FROM webhook_attempts a "
    "  WHERE a.attempted_at < now() - $1::bigint * interval '1 millisecond' "
    "    AND NOT EXISTS (SELECT 1 FROM webhook_messages m WHERE m.id = a.message_id) "
    "  ORDER BY a.attempted_at LIMIT $2))"};

// clang-format on

} // namespace eventhub::persistence::sql
