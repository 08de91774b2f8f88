// Tickets, their check-in at the door, and the rules that decide a set of scans (docs/api.md,
// "Tickets and check-in"). The rules are pure: the check-in transaction
// (persistence/ticket_repository.cpp) feeds them the tickets it locked and the scan ids the
// event already remembers.
#pragma once

#include "domain/time.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventhub::domain {

enum class ticket_status { valid, checked_in, cancelled };

const char* to_string(ticket_status s); // "VALID" / "CHECKED_IN" / …
std::optional<ticket_status> parse_ticket_status(std::string_view s); // exact, upper case

/// One purchased unit. `code` is signed when the ticket is shown (Ed25519 is deterministic, so
/// it is the same code every time); `nonce` is its 16 raw random bytes.
struct ticket {
  std::int64_t id = 0;
  std::int64_t purchase_id = 0;
  std::int64_t event_id = 0;
  std::int64_t ticket_type_id = 0;
  std::int64_t participant_id = 0;
  std::string nonce;
  std::string code;
  ticket_status status = ticket_status::valid;
  std::optional<timestamp> checked_in_at;
};

/// GET /api/events/{id}/checkin-key.
struct checkin_key {
  std::string public_key; // base64url of the raw 32-byte Ed25519 key, no padding
};

/// GET /api/events/{id}/checkins/stats.
struct checkin_stats {
  std::int64_t valid = 0;
  std::int64_t checked_in = 0;
  std::int64_t cancelled = 0;
};

/// A scan as a device sent it: single (scan_id optional, scanned now) or in a batch.
struct scan {
  std::string code;
  std::optional<std::string> scan_id;
  std::optional<timestamp> scanned_at; // batch: when the device scanned it; single: now
};

enum class scan_result {
  checked_in,
  already_checked_in,
  ticket_cancelled,
  unknown_ticket,
  replayed
};

const char* to_string(scan_result r); // "CHECKED_IN" / "ALREADY_CHECKED_IN" / …

/// What one scan got.
struct scan_outcome {
  std::optional<std::string> scan_id;
  scan_result result = scan_result::unknown_ticket;
  std::optional<ticket> target;           // the ticket the code names (absent: unknown_ticket)
  std::optional<timestamp> checked_in_at; // checked_in, replayed, already_checked_in
};

/// A genuine code of this event (signature verified), resolved to the ticket it names.
struct verified_scan {
  std::size_t index = 0; // in the request
  std::int64_t ticket_id = 0;
  std::string nonce; // must equal the stored ticket's
};

/// A check-in the event already remembers under a scan id.
struct remembered_scan {
  std::int64_t ticket_id = 0;
  timestamp checked_in_at;
};

/// A check-in to write: the ticket, when (its scan's scannedAt), and the scan id.
struct checkin_write {
  std::int64_t ticket_id = 0;
  timestamp at;
  std::optional<std::string> scan_id;
  std::size_t index = 0; // the scan that checks it in
};

struct scan_decisions {
  std::vector<scan_outcome> outcomes; // in request order
  std::vector<checkin_write> writes;  // one per ticket at most
};

/// Decides `scans` (request order) at `now` given:
/// - `verified`: the scans whose code is genuine and of this event (others are unknown_ticket);
/// - `tickets`: the tickets they name, as locked (absent, or another nonce: unknown_ticket);
/// - `remembered`: the event's earlier check-ins by scan id (REPLAYED).
/// A scan id repeated in the request answers what its first scan got when that one checked in.
/// Of the other scans of one ticket, the earliest scannedAt checks it in (ties: request order);
/// the rest are already_checked_in. A ticket checked in or cancelled before stays so.
scan_decisions decide_scans(const std::vector<scan>& scans,
                            const std::vector<verified_scan>& verified,
                            const std::map<std::int64_t, ticket>& tickets,
                            const std::map<std::string, remembered_scan>& remembered,
                            timestamp now);

} // namespace eventhub::domain
