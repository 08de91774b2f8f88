// SQL of the purchases concern: the group-commit batch and the purchase reads.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

#define EVENTHUB_PURCHASE_COLUMNS                                                                  \
  "id, event_id, participant_id, quantity, " EVENTHUB_SQL_MICROS(                                  \
      "purchased_at") ", ticket_type_id, unit_price_cents, currency"

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
inline constexpr statement event_type_stock{
    "event_type_stock", "SELECT id, quota, tickets_sold, price_cents, currency, tickets_held "
                        "FROM ticket_types WHERE event_id = $1 ORDER BY id"};

// Tickets the buyers $2 already have of event $1, bought or HELD (read only when it has a
// maxPerBuyer, after the due holds expired).
inline constexpr statement tickets_of_buyers{
    "tickets_of_buyers",
    "SELECT participant_id, sum(quantity) FROM ("
    "  SELECT participant_id, quantity FROM purchases "
    "  WHERE event_id = $1 AND participant_id = ANY($2::bigint[]) "
    "  UNION ALL SELECT participant_id, quantity FROM holds "
    "  WHERE event_id = $1 AND status = 'HELD' AND participant_id = ANY($2::bigint[])) b "
    "GROUP BY participant_id"};

// Earlier purchases made with the keys of this batch: $1 participant ids, $2 keys (parallel).
inline constexpr statement find_keyed_purchases{
    "find_keyed_purchases",
    "SELECT k.idempotency_key, p.id, p.event_id, p.participant_id, "
    "p.quantity, " EVENTHUB_SQL_MICROS(
        "p.purchased_at") ", p.ticket_type_id, p.unit_price_cents, p.currency "
                          "FROM idempotency_keys k JOIN purchases p ON p.id = k.purchase_id "
                          "WHERE (k.participant_id, k.idempotency_key) IN "
                          "(SELECT * FROM unnest($1::bigint[], $2::text[]))"};

// Everything a batch writes, in one round trip: purchases with ids drawn up front (so each
// row maps back to its request; the sequence is named, not looked up per row), their idempotency
// keys, their outbox rows, and the sold counters of the event and of each type. $1 event;
// parallel arrays $2 participants, $3 quantities, $4 request ids, $5 keys (NULL for none), $7
// ticket types, $8 unit prices, $9 currencies; $6 delays the sweeper so the fresh delivery path
// gets the first try; $10 the hold each confirms (0: a purchase of its own); $11 the batch's
// instant (micros), the purchases' time. One row per request in order: purchase id, and whether its
// key was taken by another transaction meanwhile (the batch is then retried and sees it).
// References are checked at the end of the statement, when all of it has been written; each
// counter's CHECK against its limit is the last guard against an oversale (V4__ticket_types.sql).
// clang-format off
inline constexpr statement record_purchases{
    "record_purchases",
    "WITH t AS MATERIALIZED ("
    "  SELECT nextval('purchases_id_seq') AS id, t.* "
    "  FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $7::bigint[], $8::bigint[], "
    "  $9::text[], $10::bigint[]) WITH ORDINALITY "
    "  AS t(participant_id, quantity, request_id, idempotency_key, ticket_type_id, "
    "  unit_price_cents, currency, hold_id, ord)), "
    "p AS (INSERT INTO purchases (id, event_id, participant_id, quantity, ticket_type_id, "
    "  unit_price_cents, currency, total_cents, hold_id, purchased_at) "
    "  SELECT id, $1, participant_id, quantity, ticket_type_id, unit_price_cents, currency, "
    "  quantity * unit_price_cents, NULLIF(hold_id, 0), " EVENTHUB_SQL_TIMESTAMP("$11") " "
    "  FROM t), "
    "k AS (INSERT INTO idempotency_keys (participant_id, idempotency_key, event_id, quantity, "
    "  purchase_id) "
    "  SELECT participant_id, idempotency_key, $1, quantity, id FROM t "
    "  WHERE idempotency_key IS NOT NULL ON CONFLICT DO NOTHING RETURNING purchase_id), "
    "c AS (INSERT INTO pending_confirmations (purchase_id, event_id, participant_id, quantity, "
    "  request_id, next_attempt_at) "
    "  SELECT id, $1, participant_id, quantity, request_id, "
    "  now() + $6::bigint * interval '1 millisecond' FROM t), "
    "s AS (UPDATE events SET tickets_sold = tickets_sold + (SELECT sum(quantity) FROM t) "
    "  WHERE id = $1), "
    "q AS (UPDATE ticket_types y SET tickets_sold = y.tickets_sold + n.quantity "
    "  FROM (SELECT ticket_type_id, sum(quantity) AS quantity FROM t GROUP BY ticket_type_id) n "
    "  WHERE y.id = n.ticket_type_id AND y.event_id = $1) "
    "SELECT t.id, t.idempotency_key IS NOT NULL AND k.purchase_id IS NULL "
    "FROM t LEFT JOIN k ON k.purchase_id = t.id ORDER BY t.ord"};
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
