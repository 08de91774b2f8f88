// SQL of the events concern (admin writes and listings).
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

#define EVENTHUB_EVENT_COLUMNS                                                                           \
  "id, name, description, venue, " EVENTHUB_SQL_MICROS("starts_at") ", " EVENTHUB_SQL_MICROS(            \
      "ends_at") ", capacity, tickets_sold, " EVENTHUB_SQL_MICROS("created_at") ","                      \
                                                                                " " EVENTHUB_SQL_MICROS( \
                                                                                    "updated_at")

// $1 name, $2 description, $3 venue, $4 starts_at, $5 ends_at (micros), $6 capacity
inline constexpr statement insert_event{
    "insert_event", "INSERT INTO events (name, description, venue, starts_at, ends_at, capacity) "
                    "VALUES ($1, $2, $3, " EVENTHUB_SQL_TIMESTAMP("$4") ", " EVENTHUB_SQL_TIMESTAMP(
                        "$5") ", $6) "
                              "RETURNING " EVENTHUB_EVENT_COLUMNS};

inline constexpr statement find_event{"find_event", "SELECT " EVENTHUB_EVENT_COLUMNS
                                                    " FROM events WHERE id = $1"};

// Fails with events_not_oversold (23514) when the capacity drops below tickets_sold: the check
// runs against the row as locked by this UPDATE, so a concurrent sale cannot slip in between.
inline constexpr statement update_event{
    "update_event",
    "UPDATE events SET name = $2, description = $3, venue = $4, "
    "starts_at = " EVENTHUB_SQL_TIMESTAMP("$5") ", ends_at = " EVENTHUB_SQL_TIMESTAMP(
        "$6") ", "
              "capacity = $7, updated_at = now() WHERE id = $1 RETURNING " EVENTHUB_EVENT_COLUMNS};

inline constexpr statement lock_event_for_delete{
    "lock_event_for_delete", "SELECT tickets_sold FROM events WHERE id = $1 FOR UPDATE"};

inline constexpr statement delete_event{"delete_event", "DELETE FROM events WHERE id = $1"};

// $1 text (substring of name or venue, case-insensitive, no wildcards), $2 from, $3 to (micros)
#define EVENTHUB_EVENT_FILTER                                                                      \
  " WHERE ($1::text IS NULL OR strpos(lower(name), lower($1)) > 0 OR "                             \
  "strpos(lower(venue), lower($1)) > 0) "                                                          \
  "AND ($2::bigint IS NULL OR starts_at >= " EVENTHUB_SQL_TIMESTAMP(                               \
      "$2") ") "                                                                                   \
            "AND ($3::bigint IS NULL OR starts_at < " EVENTHUB_SQL_TIMESTAMP("$3") ")"

// One statement, so one snapshot: the total (column 10, an uncorrelated subquery run once)
// always agrees with the items. (count(*) OVER () would too, but it reads every matching row
// before LIMIT; this keeps the page an index scan.) A page past the end has no row to carry the
// total: count_events then.
inline constexpr statement list_events{"list_events",
                                       "SELECT " EVENTHUB_EVENT_COLUMNS
                                       ", (SELECT count(*) FROM events" EVENTHUB_EVENT_FILTER
                                       ") AS total_items FROM events" EVENTHUB_EVENT_FILTER
                                       " ORDER BY starts_at, id LIMIT $4 OFFSET $5"};

inline constexpr statement count_events{"count_events",
                                        "SELECT count(*) FROM events" EVENTHUB_EVENT_FILTER};

#undef EVENTHUB_EVENT_FILTER
#undef EVENTHUB_EVENT_COLUMNS

inline constexpr statement event_exists{"event_exists", "SELECT 1 FROM events WHERE id = $1"};

// Participants of an event with their ticket totals, by participant id.
inline constexpr statement list_attendees{
    "list_attendees",
    "SELECT p.id, p.email, p.full_name, p.role, " EVENTHUB_SQL_MICROS(
        "p.created_at") ", t.tickets "
                        "FROM (SELECT participant_id, sum(quantity) AS tickets FROM purchases "
                        "WHERE event_id = $1 "
                        "GROUP BY participant_id) t JOIN participants p ON p.id = t.participant_id "
                        "ORDER BY p.id LIMIT $2 OFFSET $3"};

inline constexpr statement count_attendees{
    "count_attendees", "SELECT count(DISTINCT participant_id) FROM purchases WHERE event_id = $1"};

} // namespace eventhub::persistence::sql
