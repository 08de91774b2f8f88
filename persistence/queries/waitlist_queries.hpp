// SQL of the waitlist concern: the batch's joins and leaves and the offer step (each runs with
// the event row locked FOR UPDATE by its writer), and the entry reads of the API. How an
// entry's status follows its offer's hold: the hold statements (write_batch in
// purchase_queries.hpp, expire_due_holds in hold_queries.hpp). Why an offer is made once:
// migrations/V7__waitlist.sql.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// clang-format off

// 10 columns of waitlist_entries aliased w (rows.cpp, read_entry): its own, the offer's expiry,
// and the position among the type's WAITING entries (NULL unless WAITING).
#define EVENTHUB_ENTRY_COLUMNS                                                                     \
  "w.id, w.event_id, w.ticket_type_id, w.participant_id, w.quantity, w.status, "                   \
  EVENTHUB_SQL_MICROS("w.created_at") ", w.hold_id, "                                              \
  EVENTHUB_SQL_MICROS("(SELECT h.expires_at FROM holds h WHERE h.id = w.hold_id)") ", "            \
  "CASE WHEN w.status = 'WAITING' THEN (SELECT count(*) FROM waitlist_entries q "                  \
  "WHERE q.ticket_type_id = w.ticket_type_id AND q.status = 'WAITING' AND q.id <= w.id) END"

// The WAITING or OFFERED entries of the batch's joiners $2 on event $1.
inline constexpr statement active_entries_of{
    "active_entries_of",
    "SELECT participant_id, ticket_type_id FROM waitlist_entries "
    "WHERE event_id = $1 AND participant_id = ANY($2::bigint[]) "
    "AND status IN ('WAITING', 'OFFERED')"};

// The entries $2 of event $1 the batch leaves, read once the due holds expired.
inline constexpr statement entries_for_batch{
    "entries_for_batch",
    "SELECT " EVENTHUB_ENTRY_COLUMNS " FROM waitlist_entries w "
    "WHERE w.event_id = $1 AND w.id = ANY($2::bigint[])"};

// The batch's waitlist changes, before its other writes: $2 the batch's instant (micros);
// leaves $3 (entry ids: WAITING or OFFERED ones become LEFT; an offer's hold is released by
// write_batch, whose entry update then passes over the LEFT entry); joins, ids drawn up front in
// arrival order: parallel arrays $4 participants, $5 types, $6 quantities. The unique index of
// active entries is the last guard against a second one. Rows: ('l', 0, id) per entry left,
// ('j', n, id) per entry made, n its position in the arrays.
inline constexpr statement write_waitlist{
    "write_waitlist",
    "WITH l AS (UPDATE waitlist_entries SET status = 'LEFT', "
    "  settled_at = " EVENTHUB_SQL_TIMESTAMP("$2") " "
    "  WHERE event_id = $1 AND id = ANY($3::bigint[]) AND status IN ('WAITING', 'OFFERED') "
    "  RETURNING id), "
    "n AS MATERIALIZED ("
    "  SELECT nextval('waitlist_entries_id_seq') AS id, n.* "
    "  FROM unnest($4::bigint[], $5::bigint[], $6::int[]) WITH ORDINALITY "
    "  AS n(participant_id, ticket_type_id, quantity, ord)), "
    "j AS (INSERT INTO waitlist_entries (id, event_id, ticket_type_id, participant_id, quantity, "
    "  created_at) "
    "  SELECT id, $1, ticket_type_id, participant_id, quantity, " EVENTHUB_SQL_TIMESTAMP("$2") " "
    "  FROM n RETURNING id) "
    "SELECT 'l', 0::bigint, id FROM l "
    "UNION ALL SELECT 'j', n.ord, n.id FROM n JOIN j ON j.id = n.id"};

// The offer step's queue: the WAITING entries of event $1 that could fit $2 tickets, in arrival
// order.
inline constexpr statement waiting_queue{
    "waiting_queue",
    "SELECT id, participant_id, ticket_type_id, quantity FROM waitlist_entries "
    "WHERE event_id = $1 AND status = 'WAITING' AND quantity <= $2 ORDER BY id"};

// The offers of one step, in one statement: $1 event, $2 the instant (micros), $3 the offer's
// lifetime (ms), $4 delays the outbox sweeper (ms); parallel arrays $5 entries, $6
// participants, $7 types, $8 quantities, $9 unit prices, $10 currencies. Each offer is a hold
// (ids drawn up front) counted in the held counters, its entry's WAITING → OFFERED (a
// conditional update), a waitlist.offered outbox row and audit entry (no actor: the service;
// the offer's hold is its `after.holdId`). Rows: (n, hold id, outbox id, whether
// the entry changed), n the offer's position in the arrays.
inline constexpr statement write_offers{
    "write_offers",
    "WITH n AS MATERIALIZED ("
    "  SELECT nextval('holds_id_seq') AS hold_id, nextval('pending_notifications_id_seq') "
    "  AS outbox_id, n.* "
    "  FROM unnest($5::bigint[], $6::bigint[], $7::bigint[], $8::int[], $9::bigint[], "
    "  $10::text[]) WITH ORDINALITY "
    "  AS n(entry_id, participant_id, ticket_type_id, quantity, unit_price_cents, currency, ord)), "
    "c AS (SELECT " EVENTHUB_SQL_TIMESTAMP("$2") " AS at, " EVENTHUB_SQL_TIMESTAMP("$2") " "
    "  + $3::bigint * interval '1 millisecond' AS until), "
    "h AS (INSERT INTO holds (id, event_id, ticket_type_id, participant_id, quantity, "
    "  unit_price_cents, currency, created_at, expires_at) "
    "  SELECT n.hold_id, $1, n.ticket_type_id, n.participant_id, n.quantity, n.unit_price_cents, "
    "  n.currency, c.at, c.until FROM n, c), "
    "w AS (UPDATE waitlist_entries w SET status = 'OFFERED', hold_id = n.hold_id, "
    "  offered_at = (SELECT at FROM c) "
    "  FROM n WHERE w.id = n.entry_id AND w.event_id = $1 AND w.status = 'WAITING' "
    "  RETURNING w.id, w.ticket_type_id, w.participant_id, w.quantity, w.created_at), "
    "au AS (INSERT INTO audit_log (at, action, entity_type, entity_id, before, after) "
    "  SELECT c.at, 'waitlist.offered', 'waitlist_entry', w.id, "
    "  audit_entry_json(w.id, $1, w.ticket_type_id, w.participant_id, w.quantity, 'WAITING', "
    "  NULL, w.created_at), audit_entry_json(w.id, $1, w.ticket_type_id, w.participant_id, "
    "  w.quantity, 'OFFERED', n.hold_id, w.created_at) "
    "  FROM w JOIN n ON n.entry_id = w.id, c ORDER BY w.id), "
    "d AS (SELECT ticket_type_id, sum(quantity) AS quantity FROM n GROUP BY ticket_type_id), "
    "e AS (UPDATE events SET tickets_held = tickets_held + (SELECT sum(quantity) FROM d) "
    "  WHERE id = $1), "
    "y AS (UPDATE ticket_types y SET tickets_held = y.tickets_held + d.quantity "
    "  FROM d WHERE y.id = d.ticket_type_id AND y.event_id = $1), "
    "o AS (INSERT INTO pending_notifications (id, type, event_id, participant_id, subject_id, "
    "  quantity, hold_id, expires_at, next_attempt_at) "
    "  SELECT n.outbox_id, 'waitlist.offered', $1, n.participant_id, n.entry_id, n.quantity, "
    "  n.hold_id, c.until, now() + $4::bigint * interval '1 millisecond' FROM n, c) "
    "SELECT n.ord, n.hold_id, n.outbox_id, w.id IS NOT NULL FROM n LEFT JOIN w ON w.id = n.entry_id "
    "ORDER BY n.ord"};

inline constexpr statement find_entry{
    "find_entry", "SELECT " EVENTHUB_ENTRY_COLUMNS " FROM waitlist_entries w WHERE w.id = $1"};

inline constexpr statement list_entries_of{
    "list_entries_of", "SELECT " EVENTHUB_ENTRY_COLUMNS " FROM waitlist_entries w "
                       "WHERE w.participant_id = $1 ORDER BY w.id DESC LIMIT $2 OFFSET $3"};

inline constexpr statement count_entries_of{
    "count_entries_of", "SELECT count(*) FROM waitlist_entries WHERE participant_id = $1"};

inline constexpr statement list_event_entries{
    "list_event_entries", "SELECT " EVENTHUB_ENTRY_COLUMNS " FROM waitlist_entries w "
                          "WHERE w.event_id = $1 ORDER BY w.id LIMIT $2 OFFSET $3"};

inline constexpr statement count_event_entries{
    "count_event_entries", "SELECT count(*) FROM waitlist_entries WHERE event_id = $1"};

// clang-format on

#undef EVENTHUB_ENTRY_COLUMNS

} // namespace eventhub::persistence::sql
