// SQL of the holds concern: the expiry step of every writer and the hold reads of the event
// batch (each runs with the event row locked FOR UPDATE by the batch; the batch's hold writes
// are its write_batch, purchase_queries.hpp), the expiry sweep, and the hold reads of the API.
// Why each change of a hold happens exactly once: migrations/V5__holds.sql.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// The statements stay as written: clang-format would wrap their literals around the macros
// into an unreadable staircase.
// clang-format off

// 11 columns of holds aliased h (rows.cpp, read_hold); the last is the confirming purchase.
#define EVENTHUB_HOLD_OWN_COLUMNS                                                                  \
  "h.id, h.event_id, h.ticket_type_id, h.participant_id, h.quantity, h.unit_price_cents, "         \
  "h.currency, h.status, "                                                                         \
  EVENTHUB_SQL_MICROS("h.created_at") ", " EVENTHUB_SQL_MICROS("h.expires_at")
#define EVENTHUB_HOLD_COLUMNS                                                                      \
  EVENTHUB_HOLD_OWN_COLUMNS ", (SELECT p.id FROM purchases p WHERE p.hold_id = h.id)"

// The first step of every writer under the event's row lock: the event's HELD holds due at $2
// (micros, the clock once the lock is held; NULL: the clock now) become EXPIRED, their tickets
// leave the held counters, the waitlist entries they offered become EXPIRED, and a hold.expired
// notification and audit entry (no actor: the service) are written for each, all in one
// statement. Returns the notifications.
inline constexpr statement expire_due_holds{
    "expire_due_holds",
    "WITH c AS (SELECT coalesce(" EVENTHUB_SQL_TIMESTAMP("$2") ", clock_timestamp()) AS at), "
    "x AS (UPDATE holds SET status = 'EXPIRED', settled_at = (SELECT at FROM c) "
    "  WHERE event_id = $1 AND status = 'HELD' AND expires_at <= (SELECT at FROM c) "
    "  RETURNING id, ticket_type_id, participant_id, quantity, created_at, expires_at), "
    "au AS (INSERT INTO audit_log (at, action, entity_type, entity_id, before, after) "
    "  SELECT (SELECT at FROM c), 'hold.expired', 'hold', id, "
    "  audit_hold_json(id, $1, ticket_type_id, participant_id, quantity, 'HELD', created_at, "
    "  expires_at), audit_hold_json(id, $1, ticket_type_id, participant_id, quantity, 'EXPIRED', "
    "  created_at, expires_at) FROM x ORDER BY id), "
    "e AS (UPDATE events SET tickets_held = tickets_held - (SELECT sum(quantity) FROM x) "
    "  WHERE id = $1 AND EXISTS (SELECT 1 FROM x)), "
    "t AS (UPDATE ticket_types y SET tickets_held = y.tickets_held - n.quantity "
    "  FROM (SELECT ticket_type_id, sum(quantity) AS quantity FROM x GROUP BY ticket_type_id) n "
    "  WHERE y.id = n.ticket_type_id), "
    "w AS (UPDATE waitlist_entries w SET status = 'EXPIRED', settled_at = (SELECT at FROM c) "
    "  FROM x WHERE w.hold_id = x.id AND w.status = 'OFFERED'), "
    "o AS (INSERT INTO pending_notifications (type, event_id, participant_id, subject_id, "
    "  quantity) SELECT 'hold.expired', $1, participant_id, id, quantity FROM x ORDER BY id "
    "  RETURNING id, event_id, participant_id, subject_id, quantity) "
    "SELECT id, event_id, participant_id, subject_id, quantity FROM o"};

// The holds $2 of event $1 a batch confirms or releases, without their purchases (NULL): only
// a confirmed one needs it (purchase_of_hold), and a lookup per row costs every batch.
inline constexpr statement holds_for_batch{
    "holds_for_batch",
    "SELECT " EVENTHUB_HOLD_OWN_COLUMNS ", NULL::bigint FROM holds h "
    "WHERE h.event_id = $1 AND h.id = ANY($2::bigint[])"};

// The purchase that confirmed hold $1.
inline constexpr statement purchase_of_hold{
    "purchase_of_hold", "SELECT id FROM purchases WHERE hold_id = $1"};

// The holds made earlier with the keys of this batch: $1 participant ids, $2 keys (parallel).
inline constexpr statement find_keyed_holds{
    "find_keyed_holds",
    "SELECT h.idempotency_key, " EVENTHUB_HOLD_COLUMNS
    " FROM holds h WHERE (h.participant_id, h.idempotency_key) IN "
    "(SELECT * FROM unnest($1::bigint[], $2::text[]))"};

// When the event's next HELD hold expires (micros; NULL: none), read at the end of a batch.
inline constexpr statement next_hold_expiry{
    "next_hold_expiry",
    "SELECT " EVENTHUB_SQL_MICROS("min(expires_at)") " FROM holds "
    "WHERE event_id = $1 AND status = 'HELD'"};

// The sweep: events with a HELD hold past its expiry, oldest expiry first, at most $1.
inline constexpr statement events_with_due_holds{
    "events_with_due_holds",
    "SELECT event_id FROM holds WHERE status = 'HELD' AND expires_at <= clock_timestamp() "
    "GROUP BY event_id ORDER BY min(expires_at) LIMIT $1"};

// The sweep's lock of one event: skipped while another transaction (its actor's batch, which
// expires due holds itself) holds it. Returns the clock once locked (micros).
inline constexpr statement try_lock_event_for_sweep{
    "try_lock_event_for_sweep",
    "SELECT " EVENTHUB_SQL_MICROS("clock_timestamp()") " FROM events WHERE id = $1 "
                                                       "FOR UPDATE SKIP LOCKED"};

inline constexpr statement find_hold{"find_hold", "SELECT " EVENTHUB_HOLD_COLUMNS
                                                  " FROM holds h WHERE h.id = $1"};

inline constexpr statement list_holds_of{
    "list_holds_of", "SELECT " EVENTHUB_HOLD_COLUMNS " FROM holds h "
                     "WHERE h.participant_id = $1 ORDER BY h.id DESC LIMIT $2 OFFSET $3"};

inline constexpr statement count_holds_of{
    "count_holds_of", "SELECT count(*) FROM holds WHERE participant_id = $1"};

// clang-format on

#undef EVENTHUB_HOLD_COLUMNS
#undef EVENTHUB_HOLD_OWN_COLUMNS

} // namespace eventhub::persistence::sql
