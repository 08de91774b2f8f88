// The audit log as the API shows it (docs/api.md, "Audit log"), and what every audited change
// carries from the request that made it.
#pragma once

#include "domain/commands.hpp"
#include "domain/time.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventhub::domain {

/// The contract's actions, as stored (a CHECK in V10__audit_log.sql lists the same).
inline constexpr std::array<std::string_view, 21> audit_actions{
    "event.created",       "event.updated",       "event.deleted",       "ticket_type.created",
    "ticket_type.updated", "ticket_type.deleted", "participant.created", "purchase.confirmed",
    "purchase.cancelled",  "hold.created",        "hold.released",       "hold.expired",
    "waitlist.joined",     "waitlist.offered",    "waitlist.left",       "ticket.checked_in",
    "webhook.created",     "webhook.deleted",     "webhook.disabled",    "auth.login_failed",
    "auth.throttled"};

inline constexpr std::array<std::string_view, 8> audit_entity_types{
    "event", "ticket_type",    "participant", "purchase",
    "hold",  "waitlist_entry", "ticket",      "webhook"};

bool is_audit_action(std::string_view action);
bool is_audit_entity_type(std::string_view type);

/// The origin of an inventory command: its caller, X-Request-Id and client address.
origin origin_of(const purchase_request& r);

/// One entry to write: `before` and `after` are the resource's JSON (to_json), empty for none.
struct audit_record {
  origin by;
  std::string action;
  std::string entity_type;
  std::optional<std::int64_t> entity_id;
  std::string before;
  std::string after;
};

/// An entry as read back.
struct audit_entry {
  std::int64_t id = 0;
  timestamp at{};
  std::optional<std::int64_t> actor_id;
  std::string action;
  std::string entity_type;
  std::optional<std::int64_t> entity_id;
  std::optional<std::string> before; // JSON text
  std::optional<std::string> after;
  std::optional<std::string> request_id;
  std::optional<std::string> client_address;
};

/// GET /api/audit: every filter given must match; from inclusive, to exclusive.
struct audit_query {
  page_request paging;
  std::optional<std::string> entity_type;
  std::optional<std::int64_t> entity_id;
  std::optional<std::int64_t> actor_id;
  std::optional<std::string> action;
  std::optional<timestamp> from;
  std::optional<timestamp> to;
};

} // namespace eventhub::domain
