// SQL of webhooks (migrations/V9__webhooks.sql): endpoints, the fan-out of outbox rows into
// per-endpoint messages, the deliverers' claims and outcomes, and the delivery log.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// ---- fan-out: one transaction deletes the outbox rows and writes their messages -------------

// $1: purchase ids of delivered confirmations. Answers the endpoints that got messages. The
// purchase row gives the figures the outbox row does not carry (type, total, currency).
inline constexpr statement fan_out_confirmations{
    "fan_out_confirmations",
    "WITH gone AS (DELETE FROM pending_confirmations c USING unnest($1::bigint[]) AS d(id) "
    "  WHERE c.purchase_id = d.id RETURNING c.purchase_id, c.request_id), "
    "made AS (INSERT INTO webhook_messages (endpoint_id, type, body) "
    "  SELECT e.id, 'purchase.confirmed', json_build_object("
    "    'type', 'purchase.confirmed', 'timestamp', webhook_time(p.purchased_at), "
    "    'data', json_build_object('purchaseId', p.id, 'eventId', p.event_id, "
    "      'participantId', p.participant_id, 'ticketTypeId', p.ticket_type_id, "
    "      'quantity', p.quantity, 'totalCents', p.total_cents, 'currency', p.currency, "
    "      'requestId', g.request_id))::text "
    "  FROM gone g JOIN purchases p ON p.id = g.purchase_id "
    "  JOIN webhook_endpoints e ON e.enabled AND 'purchase.confirmed' = ANY (e.event_types) "
    "  RETURNING endpoint_id) "
    "SELECT DISTINCT endpoint_id FROM made"};

// $1: ids of delivered lifecycle notifications; `data` by type as docs/api.md lists it.
inline constexpr statement fan_out_notifications{
    "fan_out_notifications",
    "WITH gone AS (DELETE FROM pending_notifications n USING unnest($1::bigint[]) AS d(id) "
    "  WHERE n.id = d.id RETURNING n.*), "
    "made AS (INSERT INTO webhook_messages (endpoint_id, type, body) "
    "  SELECT e.id, g.type, json_build_object("
    "    'type', g.type, 'timestamp', webhook_time(g.created_at), 'data', CASE g.type "
    "    WHEN 'purchase.cancelled' THEN json_build_object('purchaseId', g.subject_id, "
    "      'eventId', g.event_id, 'participantId', g.participant_id, 'quantity', g.quantity, "
    "      'refundedCents', g.refunded_cents, 'currency', g.currency, 'requestId', g.request_id) "
    "    WHEN 'hold.expired' THEN json_build_object('holdId', g.subject_id, "
    "      'eventId', g.event_id, 'participantId', g.participant_id, 'quantity', g.quantity) "
    "    WHEN 'waitlist.offered' THEN json_build_object('waitlistEntryId', g.subject_id, "
    "      'holdId', g.hold_id, 'eventId', g.event_id, 'participantId', g.participant_id, "
    "      'quantity', g.quantity, 'expiresAt', webhook_time(g.expires_at)) "
    "    ELSE json_build_object('ticketId', g.subject_id, 'eventId', g.event_id, "
    "      'purchaseId', g.purchase_id, 'checkedInAt', webhook_time(g.checked_in_at)) "
    "    END)::text "
    "  FROM gone g JOIN webhook_endpoints e ON e.enabled AND g.type = ANY (e.event_types) "
    "  RETURNING endpoint_id) "
    "SELECT DISTINCT endpoint_id FROM made"};

// ---- a deliverer's work ----------------------------------------------------------------------

// $1 endpoint, $2 limit, $3 lease (ms): its due messages, oldest first, claimed against the
// deliverers of other nodes. Nothing is claimed for a disabled endpoint.
inline constexpr statement claim_due_messages{
    "claim_due_messages",
    "UPDATE webhook_messages SET claimed_until = now() + $3::bigint * interval '1 millisecond' "
    "WHERE id IN (SELECT m.id FROM webhook_messages m WHERE m.endpoint_id = $1 "
    "  AND m.next_attempt_at <= now() "
    "  AND (m.claimed_until IS NULL OR m.claimed_until < now()) "
    "  AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = $1 AND e.enabled) "
    "  ORDER BY m.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, type, body, attempts"};

// One row per attempt: message, type, attempt, outcome, status (0: none), duration, time (µs),
// error; none for an endpoint deleted meanwhile.
inline constexpr statement record_attempts{
    "record_attempts",
    "INSERT INTO webhook_attempts (endpoint_id, message_id, type, attempt, outcome, "
    "  response_status, duration_ms, attempted_at, error) "
    "SELECT e.id, d.message_id, d.type, d.attempt, d.outcome, NULLIF(d.status, 0), d.duration_ms, "
    "  " EVENTHUB_SQL_TIMESTAMP("d.at") ", NULLIF(d.error, '') "
                                        "FROM unnest($2::bigint[], $3::text[], $4::int[], "
                                        "$5::text[], $6::int[], $7::int[], "
                                        "  $8::bigint[], $9::text[]) AS d(message_id, type, "
                                        "attempt, outcome, status, duration_ms, "
                                        "  at, error) "
                                        "JOIN webhook_endpoints e ON e.id = $1"};

// Messages to try again: after $3 ms, with $2 attempts made. A message settled meanwhile (by
// another node's deliverer after a lease ended) is gone and stays gone.
inline constexpr statement retry_messages{
    "retry_messages",
    "UPDATE webhook_messages m SET attempts = d.attempt, claimed_until = NULL, "
    "  next_attempt_at = now() + d.delay_ms * interval '1 millisecond' "
    "FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS d(id, attempt, delay_ms) "
    "WHERE m.id = d.id"};

// Messages settled: delivered, or failed for good.
inline constexpr statement settle_messages{
    "settle_messages",
    "DELETE FROM webhook_messages m USING unnest($1::bigint[]) AS d(id) WHERE m.id = d.id"};

// A 410 answer: the endpoint stops at once. Answers a row only for the first such answer.
inline constexpr statement disable_endpoint{
    "disable_endpoint",
    "UPDATE webhook_endpoints SET enabled = false, disabled_at = now(), disabled_reason = $2 "
    "WHERE id = $1 AND enabled RETURNING url"};

inline constexpr statement enabled_endpoints{
    "enabled_endpoints",
    "SELECT id, url, sealed_secret FROM webhook_endpoints WHERE enabled ORDER BY id"};

// ---- endpoints over the API --------------------------------------------------------------------

#define EVENTHUB_SQL_ENDPOINT_COLUMNS                                                              \
  "id, url, array_to_string(event_types, ','), enabled, " EVENTHUB_SQL_MICROS(                     \
      "created_at") ", configured"

inline constexpr statement next_endpoint_id{
    "next_endpoint_id", "SELECT nextval(pg_get_serial_sequence('webhook_endpoints', 'id'))"};

// $1 id, $2 url, $3 event types, $4 sealed secret, $5 configured.
inline constexpr statement insert_endpoint{
    "insert_endpoint",
    "INSERT INTO webhook_endpoints (id, url, event_types, sealed_secret, configured) "
    "VALUES ($1, $2, $3::text[], $4::bytea, $5) RETURNING " EVENTHUB_SQL_ENDPOINT_COLUMNS};

inline constexpr statement list_endpoints{"list_endpoints",
                                          "SELECT " EVENTHUB_SQL_ENDPOINT_COLUMNS
                                          " FROM webhook_endpoints ORDER BY id LIMIT $1 OFFSET $2"};

inline constexpr statement count_endpoints{"count_endpoints",
                                           "SELECT count(*) FROM webhook_endpoints"};

inline constexpr statement find_endpoint{"find_endpoint", "SELECT " EVENTHUB_SQL_ENDPOINT_COLUMNS
                                                          " FROM webhook_endpoints WHERE id = $1"};

inline constexpr statement delete_endpoint{"delete_endpoint",
                                           "DELETE FROM webhook_endpoints WHERE id = $1"};

inline constexpr statement configured_endpoint{
    "configured_endpoint", "SELECT id, url FROM webhook_endpoints WHERE configured FOR UPDATE"};

// The configured endpoint rewritten from configuration at start: enabled again, all types.
inline constexpr statement rewrite_configured_endpoint{
    "rewrite_configured_endpoint",
    "UPDATE webhook_endpoints SET url = $2, sealed_secret = $3::bytea, enabled = true, "
    "  disabled_at = NULL, disabled_reason = NULL, event_types = $4::text[] WHERE id = $1"};

// ---- the delivery log --------------------------------------------------------------------------

inline constexpr statement attempts_of_endpoint{
    "attempts_of_endpoint",
    "SELECT endpoint_id, message_id, type, attempt, outcome, coalesce(response_status, 0), "
    "  duration_ms, " EVENTHUB_SQL_MICROS(
        "attempted_at") " FROM webhook_attempts "
                        "WHERE endpoint_id = $1 ORDER BY attempted_at DESC, id DESC LIMIT $2 "
                        "OFFSET $3"};

inline constexpr statement count_attempts_of_endpoint{
    "count_attempts_of_endpoint", "SELECT count(*) FROM webhook_attempts WHERE endpoint_id = $1"};

} // namespace eventhub::persistence::sql
