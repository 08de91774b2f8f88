// SQL of the purchases concern: the event's group-commit batch (its purchases and its hold
// steps; the expiry step and hold reads are in hold_queries.hpp) and the purchase reads.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// 10 columns (rows.cpp, read_purchase).
#define EVENTHUB_PURCHASE_COLUMNS                                                                  \
  "id, event_id, participant_id, quantity, " EVENTHUB_SQL_MICROS(                                  \
      "purchased_at") ", ticket_type_id, unit_price_cents, currency, cancelled_quantity, "         \
                      "refunded_cents"

// The backstop of every batch: the event row stays locked until commit, whoever else writes it.
// The clock is read once the lock is held (clock_timestamp, not the transaction's start): the
// batch decides sales windows and hold expiry at that one instant.
// clang-format off
inline constexpr statement lock_event_stock{
    "lock_event_stock",
    "SELECT capacity, tickets_sold, " EVENTHUB_SQL_MICROS("starts_at") ", "
    EVENTHUB_SQL_MICROS("clock_timestamp()") ", " EVENTHUB_SQL_MICROS("sales_start_at") ", "
    "max_per_buyer, tickets_held FROM events WHERE id = $1 FOR UPDATE"};
// clang-format on

// The event's types, read by a statement of its own once the lock is held: under READ
// COMMITTED a statement sees what was committed when it started, so types joined into the
// locking statement would be as they were before it waited for the lock (a type deleted or a
// quota lowered by the admin write it waited for would still look as before).
// Each type's WAITING quantities are summed from the waitlist's partial index (empty unless
// people wait).
inline constexpr statement event_type_stock{
    "event_type_stock",
    "SELECT t.id, t.quota, t.tickets_sold, t.price_cents, t.currency, t.tickets_held, "
    "(SELECT coalesce(sum(w.quantity), 0) FROM waitlist_entries w "
    "WHERE w.ticket_type_id = t.id AND w.status = 'WAITING') "
    "FROM ticket_types t WHERE t.event_id = $1 ORDER BY t.id"};

// Tickets the buyers $2 already have of event $1, bought and not cancelled, or HELD (read only
// when it has a maxPerBuyer, after the due holds expired).
inline constexpr statement tickets_of_buyers{
    "tickets_of_buyers",
    "SELECT participant_id, sum(quantity) FROM ("
    "  SELECT participant_id, quantity - cancelled_quantity AS quantity FROM purchases "
    "  WHERE event_id = $1 AND participant_id = ANY($2::bigint[]) "
    "  UNION ALL SELECT participant_id, quantity FROM holds "
    "  WHERE event_id = $1 AND status = 'HELD' AND participant_id = ANY($2::bigint[])) b "
    "GROUP BY participant_id"};

// Earlier purchases made with the keys of this batch: $1 participant ids, $2 keys (parallel).
inline constexpr statement find_keyed_purchases{
    "find_keyed_purchases",
    "SELECT k.idempotency_key, p.id, p.event_id, p.participant_id, "
    "p.quantity, " EVENTHUB_SQL_MICROS(
        "p.purchased_at") ", p.ticket_type_id, p.unit_price_cents, p.currency, "
                          "p.cancelled_quantity, p.refunded_cents "
                          "FROM idempotency_keys k JOIN purchases p ON p.id = k.purchase_id "
                          "WHERE (k.participant_id, k.idempotency_key) IN "
                          "(SELECT * FROM unnest($1::bigint[], $2::text[]))"};

// The purchases $2 of event $1 a batch cancels, read under the row lock: their cancelled
// figures are the ones the batch decides on.
inline constexpr statement purchases_for_batch{
    "purchases_for_batch", "SELECT " EVENTHUB_PURCHASE_COLUMNS " FROM purchases "
                           "WHERE event_id = $1 AND id = ANY($2::bigint[])"};

// Earlier cancellations made with the keys of this batch: $1 callers, $2 keys (parallel).
inline constexpr statement find_keyed_cancellations{
    "find_keyed_cancellations",
    "SELECT idempotency_key, participant_id, purchase_id, coalesce(asked_quantity, 0) "
    "FROM purchase_cancellations WHERE (participant_id, idempotency_key) IN "
    "(SELECT * FROM unnest($1::bigint[], $2::text[]))"};

// Everything a batch writes, in one round trip. $1 event, $2 the batch's instant (micros: the
// purchases' time, the settled and new holds' time), $3 delays the outbox sweeper so the fresh
// delivery path gets the first try.
// - Settled holds: parallel arrays $4 hold ids, $5 new statuses (CONFIRMED or RELEASED). Only
//   HELD holds of the event change (a conditional update): a hold settles once. The waitlist
//   entry a settled hold offered follows it: CONFIRMED, or EXPIRED when released (an entry left
//   in this batch is LEFT already, and stays so).
// - Purchases, ids drawn up front so each row maps back to its request (the sequence is named,
//   not looked up per row): parallel arrays $6 participants, $7 quantities, $8 request ids, $9
//   keys (NULL for none), $10 ticket types, $11 unit prices, $12 currencies, $13 the hold each
//   confirms (0: a purchase of its own); with their idempotency keys and outbox rows.
// - New holds, ids drawn up front: parallel arrays $14 participants, $15 quantities, $16 types,
//   $17 unit prices, $18 currencies, $19 keys (NULL for none), $20 lifetimes in ms.
// - Cancellations, their ids and outbox ids drawn up front: parallel arrays $21 purchases, $22
//   quantities given back, $23 callers, $24 keys (NULL for none), $25 quantities asked for (0:
//   all), $26 request ids. Each purchase's cancelled_quantity grows once by the sum of its
//   cancellations, and only where that many are left (a conditional update): nothing is
//   freed twice. Each cancellation gets its row (with the caller's key) and its
//   purchase.cancelled outbox row (refund figures at the purchase's unit price).
// - Tickets: one per purchased unit, VALID, with nonces from $27 (16 bytes each, hex, in the
//   purchases' order); the tickets $28 of the cancelled purchases (locked VALID by the batch)
//   become CANCELLED. A deferred trigger checks at commit that each cancelled purchase has as
//   many CANCELLED tickets as its cancelled_quantity (V8__tickets.sql).
// - Audit entries (audit_log, V10__audit_log.sql), at the batch's instant: parallel arrays $29
//   refs ('p': a purchase, 'h': a new hold, NULL: the entity id is given), $30 the purchase's or
//   hold's position in its arrays, $31 actors (0: none), $32 actions, $33 entity types, $34
//   entity ids, $35 before and $36 after (JSON; a referenced row's id is set into `after`),
//   $37 request ids, $38 client addresses.
// The event's and each type's sold and held counters then move once, by the net of all four
// (what was settled and cancelled counted from the updates' own rows), so the batch writes the
// event row and each type's row one time; each counter's CHECK against its limit, evaluated on
// that version, is the last guard against an oversale (V4__ticket_types.sql, V5__holds.sql,
// V6__cancellation.sql). References are checked by statement triggers once all of it is written.
// Rows: ('s', 0, id, false) per settled hold; ('r', 0, id, false) per cancelled purchase; ('c', n,
// outbox id, key taken) per cancellation of a purchase the update changed; ('p', n, purchase id,
// key taken) per purchase and ('h', n, hold id, key taken) per new hold, n its position in its
// arrays. A key taken by another transaction meanwhile means the batch is retried (and then sees
// it).
// clang-format off
inline constexpr statement write_batch{
    "write_batch",
    "WITH s AS (UPDATE holds h SET status = n.status, "
    "  settled_at = " EVENTHUB_SQL_TIMESTAMP("$2") " "
    "  FROM unnest($4::bigint[], $5::text[]) AS n(id, status) "
    "  WHERE h.id = n.id AND h.event_id = $1 AND h.status = 'HELD' "
    "  RETURNING h.id, h.ticket_type_id, h.quantity, h.status), "
    "v AS (UPDATE waitlist_entries v SET status = CASE s.status WHEN 'CONFIRMED' "
    "  THEN 'CONFIRMED' ELSE 'EXPIRED' END, settled_at = " EVENTHUB_SQL_TIMESTAMP("$2") " "
    "  FROM s WHERE v.hold_id = s.id AND v.status = 'OFFERED'), "
    "t AS MATERIALIZED ("
    "  SELECT nextval('purchases_id_seq') AS id, t.* "
    "  FROM unnest($6::bigint[], $7::int[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], "
    "  $12::text[], $13::bigint[]) WITH ORDINALITY "
    "  AS t(participant_id, quantity, request_id, idempotency_key, ticket_type_id, "
    "  unit_price_cents, currency, hold_id, ord)), "
    "p AS (INSERT INTO purchases (id, event_id, participant_id, quantity, ticket_type_id, "
    "  unit_price_cents, currency, total_cents, hold_id, purchased_at) "
    "  SELECT id, $1, participant_id, quantity, ticket_type_id, unit_price_cents, currency, "
    "  quantity * unit_price_cents, NULLIF(hold_id, 0), " EVENTHUB_SQL_TIMESTAMP("$2") " "
    "  FROM t), "
    "k AS (INSERT INTO idempotency_keys (participant_id, idempotency_key, event_id, quantity, "
    "  purchase_id) "
    "  SELECT participant_id, idempotency_key, $1, quantity, id FROM t "
    "  WHERE idempotency_key IS NOT NULL ON CONFLICT DO NOTHING RETURNING purchase_id), "
    "c AS (INSERT INTO pending_confirmations (purchase_id, event_id, participant_id, quantity, "
    "  request_id, next_attempt_at) "
    "  SELECT id, $1, participant_id, quantity, request_id, "
    "  now() + $3::bigint * interval '1 millisecond' FROM t), "
    "n AS MATERIALIZED ("
    "  SELECT nextval('holds_id_seq') AS id, n.* "
    "  FROM unnest($14::bigint[], $15::int[], $16::bigint[], $17::bigint[], $18::text[], "
    "  $19::text[], $20::bigint[]) WITH ORDINALITY "
    "  AS n(participant_id, quantity, ticket_type_id, unit_price_cents, currency, "
    "  idempotency_key, ttl_ms, ord)), "
    "h AS (INSERT INTO holds (id, event_id, ticket_type_id, participant_id, quantity, "
    "  unit_price_cents, currency, created_at, expires_at, idempotency_key) "
    "  SELECT id, $1, ticket_type_id, participant_id, quantity, unit_price_cents, currency, "
    "  " EVENTHUB_SQL_TIMESTAMP("$2") ", "
    "  " EVENTHUB_SQL_TIMESTAMP("$2") " + ttl_ms * interval '1 millisecond', idempotency_key "
    "  FROM n "
    "  ON CONFLICT (participant_id, idempotency_key) WHERE idempotency_key IS NOT NULL "
    "  DO NOTHING RETURNING id), "
    "q AS MATERIALIZED ("
    "  SELECT nextval('purchase_cancellations_id_seq') AS id, "
    "  nextval('pending_notifications_id_seq') AS outbox_id, q.* "
    "  FROM unnest($21::bigint[], $22::int[], $23::bigint[], $24::text[], $25::int[], $26::text[]) "
    "  WITH ORDINALITY AS q(purchase_id, quantity, participant_id, idempotency_key, asked, "
    "  request_id, ord)), "
    "r AS (UPDATE purchases r SET cancelled_quantity = r.cancelled_quantity + g.quantity, "
    "  refunded_cents = r.refunded_cents + g.quantity * r.unit_price_cents "
    "  FROM (SELECT purchase_id, sum(quantity) AS quantity FROM q GROUP BY purchase_id) g "
    "  WHERE r.id = g.purchase_id AND r.event_id = $1 "
    "  AND r.quantity - r.cancelled_quantity >= g.quantity "
    "  RETURNING r.id, r.ticket_type_id, r.participant_id, r.unit_price_cents, r.currency, "
    "  g.quantity), "
    "x AS (INSERT INTO purchase_cancellations (id, purchase_id, event_id, participant_id, "
    "  quantity, asked_quantity, refunded_cents, currency, idempotency_key, request_id, "
    "  cancelled_at) "
    "  SELECT q.id, q.purchase_id, $1, q.participant_id, q.quantity, NULLIF(q.asked, 0), "
    "  q.quantity * r.unit_price_cents, r.currency, q.idempotency_key, q.request_id, "
    "  " EVENTHUB_SQL_TIMESTAMP("$2") " FROM q JOIN r ON r.id = q.purchase_id "
    "  ON CONFLICT (participant_id, idempotency_key) DO NOTHING RETURNING id), "
    "tk AS (INSERT INTO tickets (purchase_id, event_id, nonce) "
    "  SELECT t.id, $1, decode(substr($27::text, ((t.first + g.n) * 32 + 1)::int, 32), 'hex') "
    "  FROM (SELECT id, quantity, sum(quantity) OVER (ORDER BY ord) - quantity AS first FROM t) t, "
    "  generate_series(0, t.quantity - 1) AS g(n) ORDER BY t.id, g.n), "
    "tc AS (UPDATE tickets u SET status = 'CANCELLED', "
    "  cancelled_at = " EVENTHUB_SQL_TIMESTAMP("$2") " "
    "  WHERE u.id = ANY($28::bigint[]) AND u.event_id = $1 AND u.status = 'VALID'), "
    "o AS (INSERT INTO pending_notifications (id, type, event_id, participant_id, subject_id, "
    "  quantity, refunded_cents, currency, request_id, next_attempt_at) "
    "  SELECT q.outbox_id, 'purchase.cancelled', $1, r.participant_id, q.purchase_id, "
    "  q.quantity, q.quantity * r.unit_price_cents, r.currency, q.request_id, "
    "  now() + $3::bigint * interval '1 millisecond' FROM q JOIN r ON r.id = q.purchase_id), "
    "au AS (INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, before, after, "
    "  request_id, client_address) "
    "  SELECT " EVENTHUB_SQL_TIMESTAMP("$2") ", NULLIF(a.actor, 0), a.action, a.entity_type, "
    "  coalesce(ap.id, ah.id, NULLIF(a.entity_id, 0)), a.before::jsonb, "
    "  CASE WHEN coalesce(ap.id, ah.id) IS NULL THEN a.after::jsonb "
    "  ELSE jsonb_set(a.after::jsonb, '{id}', to_jsonb(coalesce(ap.id, ah.id))) END, "
    "  a.request_id, a.client_address "
    "  FROM unnest($29::text[], $30::bigint[], $31::bigint[], $32::text[], $33::text[], "
    "  $34::bigint[], $35::text[], $36::text[], $37::text[], $38::text[]) WITH ORDINALITY "
    "  AS a(ref, ref_ord, actor, action, entity_type, entity_id, before, after, request_id, "
    "  client_address, ord) "
    "  LEFT JOIN t ap ON a.ref = 'p' AND ap.ord = a.ref_ord "
    "  LEFT JOIN n ah ON a.ref = 'h' AND ah.ord = a.ref_ord ORDER BY a.ord), "
    "d AS (SELECT ticket_type_id, sum(sold) AS sold, sum(held) AS held FROM ("
    "  SELECT ticket_type_id, quantity AS sold, 0 AS held FROM t "
    "  UNION ALL SELECT ticket_type_id, -quantity, 0 FROM r "
    "  UNION ALL SELECT ticket_type_id, 0, -quantity FROM s "
    "  UNION ALL SELECT ticket_type_id, 0, quantity FROM n) x GROUP BY ticket_type_id), "
    "e AS (UPDATE events SET tickets_sold = tickets_sold + x.sold, "
    "  tickets_held = tickets_held + x.held "
    "  FROM (SELECT sum(sold) AS sold, sum(held) AS held FROM d) x "
    "  WHERE id = $1 AND EXISTS (SELECT 1 FROM d)), "
    "y AS (UPDATE ticket_types y SET tickets_sold = y.tickets_sold + d.sold, "
    "  tickets_held = y.tickets_held + d.held "
    "  FROM d WHERE y.id = d.ticket_type_id AND y.event_id = $1) "
    "SELECT 's', 0::bigint, id, false FROM s "
    "UNION ALL SELECT 'r', 0::bigint, id, false FROM r "
    "UNION ALL SELECT 'c', q.ord, q.outbox_id, q.idempotency_key IS NOT NULL AND x.id IS NULL "
    "FROM q JOIN r ON r.id = q.purchase_id LEFT JOIN x ON x.id = q.id "
    "UNION ALL SELECT 'p', t.ord, t.id, t.idempotency_key IS NOT NULL AND k.purchase_id IS NULL "
    "FROM t LEFT JOIN k ON k.purchase_id = t.id "
    "UNION ALL SELECT 'h', n.ord, n.id, h.id IS NULL FROM n LEFT JOIN h ON h.id = n.id "
    "ORDER BY 1, 2"};
// clang-format on

inline constexpr statement find_purchase{"find_purchase", "SELECT " EVENTHUB_PURCHASE_COLUMNS
                                                          " FROM purchases WHERE id = $1"};

inline constexpr statement list_purchases_of{
    "list_purchases_of", "SELECT " EVENTHUB_PURCHASE_COLUMNS " FROM purchases "
                         "WHERE participant_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"};

inline constexpr statement count_purchases_of{
    "count_purchases_of", "SELECT count(*) FROM purchases WHERE participant_id = $1"};

// Keys a node added to forwarded purchases (" fwd:" prefix: clients cannot send a space).
inline constexpr statement forget_internal_keys{
    "forget_internal_keys", "DELETE FROM idempotency_keys WHERE idempotency_key LIKE ' fwd:%' "
                            "AND created_at < now() - $1::bigint * interval '1 millisecond'"};

#undef EVENTHUB_PURCHASE_COLUMNS

} // namespace eventhub::persistence::sql
