// Events: admin writes with their database-enforced rules, and listing reads.
#pragma once

#include "domain/commands.hpp"
#include "domain/result.hpp"
#include "persistence/session.hpp"
#include "persistence/waitlist_repository.hpp"

#include <optional>

namespace eventhub::persistence::events {

// Every write records its audit entry (event.created, .updated, .deleted) in `t`, `by` its origin.

/// The event with its types (ticket_types::insert_for_new_event).
domain::event insert(tx& t, const domain::event_draft& d, const domain::origin& by = {});

/// not_found; conflict when the capacity would drop below the tickets sold; with ticketTypes,
/// what ticket_types::replace_all refuses. Refusals throw persistence::refused.
/// Ends with the waitlist's offer step: tickets freed by expired holds or a raised capacity or
/// quota go to the queue.
domain::result<domain::event> update(tx& t, std::int64_t id, const domain::event_draft& d,
                                     const waitlist::offer_settings& offers,
                                     const domain::origin& by = {});

/// not_found, or conflict when the event ever had a purchase (no purchase is ever lost).
domain::result<domain::unit> remove(tx& t, std::int64_t id, const domain::origin& by = {});

/// The event with its ticket types, by id.
std::optional<domain::event> find(tx& t, std::int64_t id);

domain::page<domain::event> list(tx& t, const domain::event_query& q);

/// not_found when the event does not exist.
domain::result<domain::page<domain::attendee>> attendees(tx& t, std::int64_t event_id,
                                                         const domain::page_request& paging);

} // namespace eventhub::persistence::events
