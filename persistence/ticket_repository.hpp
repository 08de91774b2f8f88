// Tickets: event signing keys (stored sealed; the sealing is security/ticket_codes.hpp's), ticket
// reads, the check-in writes and stats. Tickets are created and cancelled by the purchase batch
// (purchase_repository.cpp). SQL in queries/ticket_queries.hpp.
#pragma once

#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/tickets.hpp"
#include "persistence/session.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::persistence::tickets {

/// An event's key as stored: the raw public key and the sealed secret.
struct stored_key {
  std::string public_key;
  std::string sealed_secret;
};

std::optional<stored_key> key_of(tx& t, std::int64_t event_id);
/// Stores `key` for the event unless it has one; false when the event does not exist.
bool store_key(tx& t, std::int64_t event_id, const stored_key& key);

std::vector<domain::ticket> of_purchase(tx& t, std::int64_t purchase_id);
domain::page<domain::ticket> of_participant(tx& t, std::int64_t participant_id,
                                            std::optional<std::int64_t> event_id,
                                            const domain::page_request& paging);
std::optional<domain::ticket> find(tx& t, std::int64_t id);

/// The event's tickets `ids`, locked FOR UPDATE in id order, by id.
std::map<std::int64_t, domain::ticket> lock_for_scans(tx& t, std::int64_t event_id,
                                                      const std::vector<std::int64_t>& ids);
/// The event's tickets `ids`, by id, without locks (for tickets that no longer change).
std::map<std::int64_t, domain::ticket> read_for_scans(tx& t, std::int64_t event_id,
                                                      const std::vector<std::int64_t>& ids);
/// The event's check-ins remembered under `scan_ids`, by scan id.
std::map<std::string, domain::remembered_scan> remembered(tx& t, std::int64_t event_id,
                                                          const std::vector<std::string>& scan_ids);

/// Writes `writes` (tickets locked and VALID) with their ticket.checked_in outbox rows, due
/// after `redelivery_delay`, and audit entries (`by`: who scanned); returns the notifications to
/// deliver now.
std::vector<domain::notification>
write_checkins(tx& t, std::int64_t event_id, const std::vector<domain::checkin_write>& writes,
               const std::map<std::int64_t, domain::ticket>& tickets,
               std::chrono::milliseconds redelivery_delay, const domain::origin& by = {});

/// nullopt for an unknown event.
std::optional<domain::checkin_stats> stats(tx& t, std::int64_t event_id);

/// The VALID tickets of `purchase_ids` (of the event), locked in id order, by purchase.
std::map<std::int64_t, std::vector<std::int64_t>>
lock_valid(tx& t, std::int64_t event_id, const std::vector<std::int64_t>& purchase_ids);

/// `count` × 16 random bytes, hex encoded: the nonces of a batch's new tickets.
std::string nonces_hex(std::int64_t count);

} // namespace eventhub::persistence::tickets
