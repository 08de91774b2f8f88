// SQL of the events concern (admin writes and listings). An event is read with its ticket types:
// one row per type, each carrying the event's columns, so one statement (one snapshot) gives
// both.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// 14 columns of events aliased e (rows.cpp, read_event). Held tickets are summed from the HELD
// holds not yet expired, not read from the counter: a hold is free from its expiresAt on in every
// read, before any writer has marked it EXPIRED (V5__holds.sql).
// clang-format off
#define EVENTHUB_EVENT_COLUMNS                                                                     \
  "e.id, e.name, e.description, e.venue, "                                                         \
  EVENTHUB_SQL_MICROS("e.starts_at") ", " EVENTHUB_SQL_MICROS("e.ends_at") ", "                    \
  "e.capacity, e.tickets_sold, "                                                                   \
  EVENTHUB_SQL_MICROS("e.created_at") ", " EVENTHUB_SQL_MICROS("e.updated_at") ", "                \
  EVENTHUB_SQL_MICROS("e.sales_start_at") ", e.max_per_buyer, e.admission_queue, "                \
  "(SELECT coalesce(sum(h.quantity), 0) FROM holds h "                                             \
  "WHERE h.event_id = e.id AND h.status = 'HELD' AND h.expires_at > now())"
// clang-format on

// 9 columns of ticket_types aliased t (rows.cpp, read_ticket_type); NULL for none. The last is
// what WAITING waitlist entries keep of the type.
#define EVENTHUB_TYPE_COLUMNS                                                                      \
  "t.id, t.event_id, t.name, t.price_cents, t.currency, t.quota, t.tickets_sold, "                 \
  "(SELECT coalesce(sum(h.quantity), 0) FROM holds h "                                             \
  "WHERE h.ticket_type_id = t.id AND h.status = 'HELD' AND h.expires_at > now()), "                \
  "(SELECT coalesce(sum(w.quantity), 0) FROM waitlist_entries w "                                  \
  "WHERE w.ticket_type_id = t.id AND w.status = 'WAITING')"

// $1 name, $2 description, $3 venue, $4 starts_at, $5 ends_at (micros), $6 capacity,
// $7 sales_start_at (micros), $8 max_per_buyer, $9 admission_queue
inline constexpr statement insert_event{
    "insert_event",
    "INSERT INTO events (name, description, venue, starts_at, ends_at, capacity, sales_start_at, "
    "max_per_buyer, admission_queue) "
    "VALUES ($1, $2, $3, " EVENTHUB_SQL_TIMESTAMP("$4") ", " EVENTHUB_SQL_TIMESTAMP(
        "$5") ", $6, " EVENTHUB_SQL_TIMESTAMP("$7") ", $8, $9) RETURNING id"};

inline constexpr statement find_event{
    "find_event", "SELECT " EVENTHUB_EVENT_COLUMNS ", " EVENTHUB_TYPE_COLUMNS
                  " FROM events e LEFT JOIN ticket_types t ON t.event_id = e.id "
                  "WHERE e.id = $1 ORDER BY t.id"};

// Every writer of an event's figures or of its types' takes this lock first (V4__ticket_types),
// then expires the event's due holds (hold_repository.hpp). Also says whether the event ever
// had a purchase.
inline constexpr statement lock_event{
    "lock_event", "SELECT tickets_sold, EXISTS (SELECT 1 FROM purchases WHERE event_id = $1) "
                  "FROM events WHERE id = $1 FOR UPDATE"};

// The event's HELD tickets, read after its due holds expired.
inline constexpr statement event_tickets_held{"event_tickets_held",
                                              "SELECT tickets_held FROM events WHERE id = $1"};

// Fails with events_not_oversold (23514) when the capacity drops below tickets_sold, and with
// events_sales_start_before_start when salesStartAt would not be before startsAt. $8 / $10: whether
// to set sales_start_at to $9 / max_per_buyer to $11; $12 admission_queue, NULL keeps it.
inline constexpr statement update_event{
    "update_event",
    "UPDATE events SET name = $2, description = $3, venue = $4, "
    "starts_at = " EVENTHUB_SQL_TIMESTAMP("$5") ", ends_at = " EVENTHUB_SQL_TIMESTAMP(
        "$6") ", capacity = $7, "
              "sales_start_at = CASE WHEN $8 THEN " EVENTHUB_SQL_TIMESTAMP(
                  "$9") " ELSE sales_start_at END, "
                        "max_per_buyer = CASE WHEN $10 THEN $11::int ELSE max_per_buyer END, "
                        "admission_queue = COALESCE($12, admission_queue), updated_at = now() "
                        "WHERE id = $1"};

inline constexpr statement touch_event{"touch_event",
                                       "UPDATE events SET updated_at = now() WHERE id = $1"};

inline constexpr statement delete_event{"delete_event", "DELETE FROM events WHERE id = $1"};

// $1 text (substring of name or venue, case-insensitive, no wildcards), $2 from, $3 to (micros)
#define EVENTHUB_EVENT_FILTER                                                                      \
  " WHERE ($1::text IS NULL OR strpos(lower(name), lower($1)) > 0 OR "                             \
  "strpos(lower(venue), lower($1)) > 0) "                                                          \
  "AND ($2::bigint IS NULL OR starts_at >= " EVENTHUB_SQL_TIMESTAMP(                               \
      "$2") ") "                                                                                   \
            "AND ($3::bigint IS NULL OR starts_at < " EVENTHUB_SQL_TIMESTAMP("$3") ")"

// One statement, so one snapshot: the total (column 14, an uncorrelated subquery run once)
// always agrees with the items, and the types with their events. (count(*) OVER () would too,
// but it reads every matching row before LIMIT; this keeps the page an index scan.) A page past
// the end has no row to carry the total: count_events then.
inline constexpr statement list_events{
    "list_events",
    "SELECT " EVENTHUB_EVENT_COLUMNS ", e.total_items, " EVENTHUB_TYPE_COLUMNS
    " FROM (SELECT *, (SELECT count(*) FROM events" EVENTHUB_EVENT_FILTER
    ") AS total_items FROM events" EVENTHUB_EVENT_FILTER " ORDER BY starts_at, id LIMIT $4 OFFSET "
    "$5) e LEFT JOIN ticket_types t ON t.event_id = e.id ORDER BY e.starts_at, e.id, t.id"};

inline constexpr statement count_events{"count_events",
                                        "SELECT count(*) FROM events" EVENTHUB_EVENT_FILTER};

#undef EVENTHUB_EVENT_FILTER
#undef EVENTHUB_TYPE_COLUMNS
#undef EVENTHUB_EVENT_COLUMNS

inline constexpr statement event_exists{"event_exists", "SELECT 1 FROM events WHERE id = $1"};

// Participants of an event with their ticket totals net of cancellations (0 once all were
// cancelled: they stay listed), by participant id.
inline constexpr statement list_attendees{
    "list_attendees",
    "SELECT p.id, p.email, p.full_name, p.role, " EVENTHUB_SQL_MICROS(
        "p.created_at") ", t.tickets "
                        "FROM (SELECT participant_id, sum(quantity - cancelled_quantity) AS "
                        "tickets "
                        "FROM purchases "
                        "WHERE event_id = $1 "
                        "GROUP BY participant_id) t JOIN participants p ON p.id = t.participant_id "
                        "ORDER BY p.id LIMIT $2 OFFSET $3"};

inline constexpr statement count_attendees{
    "count_attendees", "SELECT count(DISTINCT participant_id) FROM purchases WHERE event_id = $1"};

} // namespace eventhub::persistence::sql
