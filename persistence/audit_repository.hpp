// The audit log: entries written in the transaction of the change they describe, and the
// filtered, paged read of GET /api/audit.
#pragma once

#include "domain/audit.hpp"
#include "persistence/session.hpp"

#include <vector>

namespace eventhub::persistence::audit {

/// Entries as the parallel array parameters of an insert (record_audit, and write_batch's own):
/// 0 for no actor or entity, NULL for empty texts.
struct entry_arrays {
  std::vector<std::int64_t> actors, entity_ids;
  std::vector<std::optional<std::string>> actions, types, befores, afters, requests, addresses;
};
entry_arrays arrays_of(const std::vector<domain::audit_record>& entries);

/// Appends the entries, in order, in `t`.
void record(tx& t, const std::vector<domain::audit_record>& entries);
void record(tx& t, const domain::audit_record& entry);

/// Newest first.
domain::page<domain::audit_entry> list(tx& t, const domain::audit_query& q);

/// Makes the monthly partitions of this month and `ahead` more; the number made.
int ensure_partitions(tx& t, int ahead);

} // namespace eventhub::persistence::audit
