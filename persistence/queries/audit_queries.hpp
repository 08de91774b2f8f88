// SQL of the audit log (audit_log, V10__audit_log.sql). The purchase batch writes its own
// entries inside write_batch (purchase_queries.hpp), the expiry and offer steps inside theirs
// (hold_queries.hpp, waitlist_queries.hpp); every other change writes them with record_audit in
// its transaction.
#pragma once

#include "persistence/queries/common.hpp"
#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// Parallel arrays: $1 actors (0: the service), $2 actions, $3 entity types, $4 entity ids (0:
// none), $5 before and $6 after (JSON text, NULL for none), $7 request ids, $8 client
// addresses (NULL for none). Rows keep the arrays' order in their ids.
inline constexpr statement record_audit{
    "record_audit",
    "INSERT INTO audit_log (actor_id, action, entity_type, entity_id, before, after, request_id, "
    "client_address) "
    "SELECT NULLIF(a.actor, 0), a.action, a.entity_type, NULLIF(a.entity_id, 0), a.before::jsonb, "
    "a.after::jsonb, a.request_id, a.client_address "
    "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], "
    "$7::text[], $8::text[]) WITH ORDINALITY "
    "AS a(actor, action, entity_type, entity_id, before, after, request_id, client_address, ord) "
    "ORDER BY a.ord"};

// GET /api/audit. Run unprepared (tx::exec_once): each call is planned with its values, so an
// absent filter folds away and the filters given pick their index and prune months. $1 entity
// type, $2 entity id, $3 actor, $4 action, $5 from (micros, inclusive), $6 to (exclusive).
#define EVENTHUB_AUDIT_FILTER                                                                      \
  " WHERE ($1::text IS NULL OR entity_type = $1) AND ($2::bigint IS NULL OR entity_id = $2) "      \
  "AND ($3::bigint IS NULL OR actor_id = $3) AND ($4::text IS NULL OR action = $4) "               \
  "AND ($5::bigint IS NULL OR at >= " EVENTHUB_SQL_TIMESTAMP(                                      \
      "$5") ") AND ($6::bigint IS NULL OR at < " EVENTHUB_SQL_TIMESTAMP("$6") ")"

inline constexpr statement list_audit{
    "list_audit",
    "SELECT id, " EVENTHUB_SQL_MICROS(
        "at") ", actor_id, action, entity_type, entity_id, before::text, "
              "after::text, request_id, client_address FROM audit_log" EVENTHUB_AUDIT_FILTER
              " ORDER BY at DESC, id DESC LIMIT $7 OFFSET $8"};

inline constexpr statement count_audit{"count_audit",
                                       "SELECT count(*) FROM audit_log" EVENTHUB_AUDIT_FILTER};

#undef EVENTHUB_AUDIT_FILTER

// Partitions for this month and `$1` months ahead (V10__audit_log.sql).
inline constexpr statement ensure_audit_partitions{"ensure_audit_partitions",
                                                   "SELECT audit_ensure_partitions($1::int)"};

} // namespace eventhub::persistence::sql
