// SQL of the purchases concern: the group-commit batch and the purchase reads.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

#define EVENTHUB_PURCHASE_COLUMNS                                                                  \
  "id, event_id, participant_id, quantity, " EVENTHUB_SQL_MICROS("purchased_at")

// The backstop of every batch: the event row stays locked until commit, whoever else writes it.
inline constexpr statement lock_event_stock{
    "lock_event_stock",
    "SELECT capacity, tickets_sold, " EVENTHUB_SQL_MICROS("starts_at") ", " EVENTHUB_SQL_MICROS(
        "now()") " FROM events WHERE id = $1 FOR UPDATE"};

// Earlier purchases made with the keys of this batch: $1 participant ids, $2 keys (parallel).
inline constexpr statement find_keyed_purchases{
    "find_keyed_purchases",
    "SELECT k.idempotency_key, p.id, p.event_id, p.participant_id, "
    "p.quantity, " EVENTHUB_SQL_MICROS(
        "p.purchased_at") " FROM idempotency_keys k JOIN purchases p ON p.id = k.purchase_id "
                          "WHERE (k.participant_id, k.idempotency_key) IN "
                          "(SELECT * FROM unnest($1::bigint[], $2::text[]))"};

inline constexpr statement allocate_purchase_ids{
    "allocate_purchase_ids",
    "SELECT nextval(pg_get_serial_sequence('purchases', 'id')) FROM generate_series(1, $1)"};

// $1 event, $2 ids, $3 participants, $4 quantities (parallel arrays)
inline constexpr statement insert_purchases{
    "insert_purchases",
    "INSERT INTO purchases (id, event_id, participant_id, quantity) "
    "SELECT t.id, $1, t.participant_id, t.quantity "
    "FROM unnest($2::bigint[], $3::bigint[], $4::int[]) AS t(id, participant_id, quantity)"};

// Returns the rows inserted: fewer than given means another transaction took a key meanwhile.
inline constexpr statement insert_idempotency_keys{
    "insert_idempotency_keys",
    "INSERT INTO idempotency_keys (participant_id, idempotency_key, event_id, quantity, "
    "purchase_id) "
    "SELECT t.participant_id, t.idempotency_key, $1, t.quantity, t.purchase_id "
    "FROM unnest($2::bigint[], $3::text[], $4::int[], $5::bigint[]) "
    "AS t(participant_id, idempotency_key, quantity, purchase_id) "
    "ON CONFLICT DO NOTHING RETURNING purchase_id"};

// Outbox rows; $6 delays the sweeper so the fresh delivery path gets the first try.
inline constexpr statement insert_confirmations{
    "insert_confirmations",
    "INSERT INTO purchase_confirmations (purchase_id, event_id, participant_id, quantity, "
    "request_id, next_attempt_at) "
    "SELECT t.purchase_id, $1, t.participant_id, t.quantity, t.request_id, "
    "now() + $6::bigint * interval '1 millisecond' "
    "FROM unnest($2::bigint[], $3::bigint[], $4::int[], $5::text[]) "
    "AS t(purchase_id, participant_id, quantity, request_id) RETURNING id, purchase_id"};

inline constexpr statement add_tickets_sold{
    "add_tickets_sold", "UPDATE events SET tickets_sold = tickets_sold + $2 WHERE id = $1"};

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
