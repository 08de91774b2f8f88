// The database work of the tickets service, run on DB workers: the event's key (made on first
// use and kept sealed), codes signed for shown tickets, and the check-in transaction (codes
// verified, tickets locked, scans decided by domain::decide_scans, check-ins written).
#pragma once

#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/tickets.hpp"
#include "persistence/session.hpp"
#include "security/ticket_codes.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

namespace eventhub::actors::ticket_work {

/// The event's key pair, made and stored on first use; nullopt for an unknown event.
std::optional<security::signing_key> key_for(persistence::tx& t, std::int64_t event_id,
                                             const security::key_sealer& sealer);

/// Fills in the codes of `tickets` (all of one event, or of several: each signed by its own).
void sign(persistence::tx& t, std::vector<domain::ticket>& tickets,
          const security::key_sealer& sealer);

struct checkin_result {
  std::vector<domain::scan_outcome> outcomes;
  std::vector<domain::notification> notifications; // ticket.checked_in, to deliver now
};

/// Decides and writes `scans` of the event in one transaction at `now`; a single scan's ticket
/// comes back with its code. Refuses not_found for an unknown event.
checkin_result check_in(persistence::tx& t, std::int64_t event_id,
                        const std::vector<domain::scan>& scans, const security::key_sealer& sealer,
                        std::chrono::milliseconds redelivery_delay, domain::timestamp now,
                        const domain::origin& by = {});

} // namespace eventhub::actors::ticket_work
