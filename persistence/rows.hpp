// Reading domain values out of result rows (column orders match the *_COLUMNS of the queries).
#pragma once

#include "domain/model.hpp"
#include "domain/tickets.hpp"
#include "persistence/pq_types.hpp"

namespace eventhub::persistence {

domain::participant read_participant(const pqxx::row& r, int first = 0);
/// The 14 event columns at `first`; no types.
domain::event read_event(const pqxx::row& r, int first = 0);
/// The 9 type columns at `first`; nullopt when they are NULL (an outer join found none).
std::optional<domain::ticket_type> read_ticket_type(const pqxx::row& r, int first);
/// Events with their types from rows of one event per type, in event order (queries/
/// event_queries.hpp): event columns at 0, type columns at `types_at`.
std::vector<domain::event> read_events_with_types(const pqxx::result& rows, int types_at);
domain::purchase read_purchase(const pqxx::row& r, int first = 0);
/// The 11 hold columns at `first` (queries/hold_queries.hpp).
domain::hold read_hold(const pqxx::row& r, int first = 0);
/// The 10 waitlist entry columns at `first` (queries/waitlist_queries.hpp).
domain::waitlist_entry read_entry(const pqxx::row& r, int first = 0);
/// The 8 ticket columns at `first` (queries/ticket_queries.hpp); the code is left empty.
domain::ticket read_ticket(const pqxx::row& r, int first = 0);

} // namespace eventhub::persistence
