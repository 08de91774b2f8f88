// Ticket types: an event's kinds of ticket with their quotas and prices. Every change locks the
// event's row first (the lock every sale takes), so no sale is decided against a quota that is
// being changed. A refusal throws persistence::refused: nothing of the request stays written.
#pragma once

#include "domain/commands.hpp"
#include "domain/result.hpp"
#include "persistence/session.hpp"
#include "persistence/waitlist_repository.hpp"

#include <cstdint>
#include <vector>

namespace eventhub::persistence::ticket_types {

/// How many types an event may have.
inline constexpr std::size_t max_per_event = 20;

/// The types of a new event: `drafts`, or one "General admission" type whose quota follows the
/// capacity when there are none.
void insert_for_new_event(tx& t, std::int64_t event_id, const domain::event_draft& event);

/// An event's PUT with `ticketTypes`: entries with an id update that type (400 when it is not
/// one of the event's), entries without one are new, types left out are deleted (409 when one
/// has sales). Call with the event's row locked.
void replace_all(tx& t, std::int64_t event_id,
                 const std::vector<domain::ticket_type_draft>& drafts);

// Each edit below expires the event's due holds first and ends with the waitlist's offer step
// (tickets freed by the expiry or a raised quota go to the queue, as `offers` says), and records
// its audit entry (ticket_type.created, .updated, .deleted; `by` its origin). The types an
// event's PUT writes are in that event.updated entry.

/// 404 for an unknown event; 409 for a 21st type.
domain::result<domain::ticket_type_view> create(tx& t, std::int64_t event_id,
                                                const domain::ticket_type_draft& draft,
                                                const waitlist::offer_settings& offers,
                                                const domain::origin& by = {});

/// 404 for an unknown event or type; 409 for a quota below the type's sold and held tickets.
domain::result<domain::ticket_type_view> update(tx& t, std::int64_t event_id, std::int64_t type_id,
                                                const domain::ticket_type_draft& draft,
                                                const waitlist::offer_settings& offers,
                                                const domain::origin& by = {});

/// 404 for an unknown event or type; 409 for a type with sales, holds or waitlist entries, or
/// the event's last type.
domain::result<domain::unit> remove(tx& t, std::int64_t event_id, std::int64_t type_id,
                                    const waitlist::offer_settings& offers,
                                    const domain::origin& by = {});

/// 404 for an unknown event or type.
domain::result<domain::ticket_type_view> find(tx& t, std::int64_t event_id, std::int64_t type_id);

} // namespace eventhub::persistence::ticket_types
