// SQL of the tickets concern: event signing keys, ticket reads, check-in and its stats. Tickets
// are created and cancelled by the purchase batch (write_batch in purchase_queries.hpp); why a
// ticket is checked in once: migrations/V8__tickets.sql.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// clang-format off

// 8 columns of tickets t joined with their purchase p (rows.cpp, read_ticket).
#define EVENTHUB_TICKET_COLUMNS                                                                    \
  "t.id, t.purchase_id, t.event_id, p.ticket_type_id, p.participant_id, t.nonce, t.status, "       \
  EVENTHUB_SQL_MICROS("t.checked_in_at")

inline constexpr statement find_signing_key{
    "find_signing_key",
    "SELECT public_key, sealed_secret FROM event_signing_keys WHERE event_id = $1"};

// A new event's key, unless the event is gone or another writer stored one first (the caller
// reads the key again either way).
inline constexpr statement insert_signing_key{
    "insert_signing_key",
    "INSERT INTO event_signing_keys (event_id, public_key, sealed_secret) "
    "SELECT $1, $2::bytea, $3::bytea WHERE EXISTS (SELECT 1 FROM events WHERE id = $1) "
    "ON CONFLICT (event_id) DO NOTHING"};

inline constexpr statement event_exists{
    "event_exists", "SELECT 1 FROM events WHERE id = $1"};

inline constexpr statement tickets_of_purchase{
    "tickets_of_purchase",
    "SELECT " EVENTHUB_TICKET_COLUMNS " FROM tickets t JOIN purchases p ON p.id = t.purchase_id "
    "WHERE t.purchase_id = $1 ORDER BY t.id"};

// A participant's tickets, newest first, of event $2 or (NULL) all; through their purchases'
// index, so tickets need no index by participant.
inline constexpr statement tickets_of_participant{
    "tickets_of_participant",
    "SELECT " EVENTHUB_TICKET_COLUMNS " FROM purchases p JOIN tickets t ON t.purchase_id = p.id "
    "WHERE p.participant_id = $1 AND ($2::bigint IS NULL OR p.event_id = $2) "
    "ORDER BY t.id DESC LIMIT $3 OFFSET $4"};

inline constexpr statement count_tickets_of_participant{
    "count_tickets_of_participant",
    "SELECT coalesce(sum(p.quantity), 0)::bigint FROM purchases p "
    "WHERE p.participant_id = $1 AND ($2::bigint IS NULL OR p.event_id = $2)"};

inline constexpr statement find_ticket{
    "find_ticket",
    "SELECT " EVENTHUB_TICKET_COLUMNS " FROM tickets t JOIN purchases p ON p.id = t.purchase_id "
    "WHERE t.id = $1"};

// The tickets $2 of event $1 that scans name, locked in id order (two check-ins of overlapping
// tickets wait for each other instead of deadlocking): decided under these locks, a check-in
// cannot race another or a cancellation.
inline constexpr statement lock_scanned_tickets{
    "lock_scanned_tickets",
    "SELECT " EVENTHUB_TICKET_COLUMNS " FROM tickets t JOIN purchases p ON p.id = t.purchase_id "
    "WHERE t.event_id = $1 AND t.id = ANY($2::bigint[]) ORDER BY t.id FOR UPDATE OF t"};

// The same without locks: tickets whose check-in a scan id remembers (they never change again).
inline constexpr statement read_scanned_tickets{
    "read_scanned_tickets",
    "SELECT " EVENTHUB_TICKET_COLUMNS " FROM tickets t JOIN purchases p ON p.id = t.purchase_id "
    "WHERE t.event_id = $1 AND t.id = ANY($2::bigint[])"};

// Check-ins event $1 remembers under the scan ids $2.
inline constexpr statement remembered_scans{
    "remembered_scans",
    "SELECT scan_id, id, " EVENTHUB_SQL_MICROS("checked_in_at") " FROM tickets "
    "WHERE event_id = $1 AND scan_id = ANY($2::text[])"};

// Check-ins of event $1: parallel arrays $2 tickets, $3 times (micros), $4 scan ids (NULL for
// none); each a conditional update of a VALID ticket (the last guard of "exactly once"), with its
// ticket.checked_in outbox row, due after $5 ms (the fresh delivery path gets the first try).
// Rows: (outbox id, ticket id) per ticket checked in.
inline constexpr statement write_checkins{
    "write_checkins",
    "WITH c AS (UPDATE tickets t SET status = 'CHECKED_IN', "
    "  checked_in_at = " EVENTHUB_SQL_TIMESTAMP("c.at") ", scan_id = c.scan_id "
    "  FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS c(id, at, scan_id) "
    "  WHERE t.id = c.id AND t.event_id = $1 AND t.status = 'VALID' "
    "  RETURNING t.id, t.purchase_id, t.checked_in_at), "
    "o AS (INSERT INTO pending_notifications (type, event_id, participant_id, subject_id, "
    "  quantity, purchase_id, checked_in_at, next_attempt_at) "
    "  SELECT 'ticket.checked_in', $1, p.participant_id, c.id, 1, c.purchase_id, "
    "  c.checked_in_at, now() + $5::bigint * interval '1 millisecond' "
    "  FROM c JOIN purchases p ON p.id = c.purchase_id RETURNING id, subject_id) "
    "SELECT id, subject_id FROM o"};

// Check-in figures of event $1 from the partial indexes: VALID tickets are the event's sold
// tickets (net of cancellations) not checked in.
inline constexpr statement checkin_stats{
    "checkin_stats",
    "SELECT e.tickets_sold, "
    "(SELECT count(*) FROM tickets WHERE event_id = e.id AND status = 'CHECKED_IN'), "
    "(SELECT count(*) FROM tickets WHERE event_id = e.id AND status = 'CANCELLED') "
    "FROM events e WHERE e.id = $1"};

// The VALID tickets of the purchases $2 of event $1 that a batch cancels, locked in id order
// under the event's row lock: a check-in of one of them waits for the batch, then finds it
// CANCELLED.
inline constexpr statement lock_valid_tickets{
    "lock_valid_tickets",
    "SELECT purchase_id, id FROM tickets WHERE event_id = $1 AND purchase_id = ANY($2::bigint[]) "
    "AND status = 'VALID' ORDER BY id FOR UPDATE"};

// clang-format on

} // namespace eventhub::persistence::sql
