// Request decoding: the pure functions that turn the parts of a request (query string, JSON
// body, headers) into commands, or into the 400 that names what is wrong. No I/O, no actors, no
// Beast: handlers call them, unit tests and fuzzers reach them directly.
#pragma once

#include "domain/audit.hpp"
#include "domain/commands.hpp"
#include "domain/error.hpp"
#include "domain/tickets.hpp"
#include "domain/webhooks.hpp"
#include "http/validation.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace eventhub::http {

std::string lower_case(std::string s);

/// {email, password, fullName[, role]}; `allow_role` (USER, ADMIN or STAFF) only for ADMIN
/// callers. Email lower-cased.
std::optional<domain::new_participant> read_new_participant(validator& v, bool allow_role);

/// Whether a body creates its resource (POST) or replaces it (PUT: some fields may be left out).
enum class write_kind { create, replace };

/// The event body of POST and PUT, with the contract's constraints. Ticket types without a
/// currency get `default_currency` (event.default-currency).
std::optional<domain::event_draft> read_event_draft(validator& v, write_kind kind,
                                                    const std::string& default_currency);

/// A ticket type body {name, priceCents, currency?, quota}; `with_id` also reads an optional `id`
/// (an entry of an event's PUT).
std::optional<domain::ticket_type_draft>
read_ticket_type_draft(validator& v, const std::string& default_currency, bool with_id);

/// POST /api/events/{id}/checkins: {code, scanId?}; code a non-empty string (whether it is
/// genuine is the check-in's question), scanId 1..64 visible ASCII characters.
std::optional<domain::scan> read_scan(validator& v);

/// The most scans one batch may carry.
inline constexpr std::size_t max_batch_scans = 1000;

/// POST /api/events/{id}/checkins/batch: {scans: [{code, scanId, scannedAt}]}, 1..1000 scans,
/// each field required.
std::optional<std::vector<domain::scan>> read_scan_batch(validator& v);

/// POST /api/webhooks: {url, eventTypes?}: url an absolute http(s) URL of at most 2048
/// characters (whether its host may be reached is the SSRF guard's question), eventTypes 1..5
/// distinct known types (default all).
std::optional<domain::webhook_draft> read_webhook_draft(validator& v);

/// `page` and `size` (defaults 0 and 20, never clamped); each bad one adds to `errors`.
domain::page_request read_paging(const query_params& query,
                                 std::vector<domain::field_error>& errors);

/// The 400 for bad query parameters, one entry per parameter.
domain::error invalid_parameters(std::vector<domain::field_error> errors);

/// GET /api/events: page, size, q, from, to.
std::variant<domain::event_query, domain::error> decode_event_query(std::string_view raw_query);

/// GET /api/audit: page, size, entityType and action (known values), entityId and actorId
/// (positive ids), from and to.
std::variant<domain::audit_query, domain::error> decode_audit_query(std::string_view raw_query);

/// If-None-Match: a list of entity tags or "*"; weak comparison as RFC 9110 asks for GET.
bool etag_matches(std::string_view if_none_match, const std::string& etag);

/// Idempotency-Key: absent (nullopt), 1..64 visible ASCII characters, or a 400.
std::variant<std::optional<std::string>, domain::error>
decode_idempotency_key(std::optional<std::string_view> header);

/// application/json or application/*+json, parameters ignored.
bool is_json_media_type(std::string_view content_type);

/// The token of an `Authorization: Bearer <token>` header value, if well-formed.
std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization);

} // namespace eventhub::http
