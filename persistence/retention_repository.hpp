// Retention: batched deletes of the rows nothing needs any more (old login failures, purchase
// idempotency keys past their keep, finished holds, the delivery log of settled webhook
// messages), one node at a time. SQL in queries/retention_queries.hpp; what is kept and why:
// docs/operations.md, "Retention".
//
// One node at a time, per batch: every batch is its own short transaction that first takes
// pg_try_advisory_xact_lock and deletes nothing when another session holds it. Why the
// transaction-level lock and not a session-level one held for a whole round: a round is many DB
// pool jobs (one per batch, so purchases and reads queued meanwhile run between them and no
// connection is held for a round), and consecutive jobs may run on different connections, which
// a session lock cannot follow; a transaction lock cannot outlive its transaction, so no error
// path, reconnect or killed node can leave it taken, and there is nothing to unlock. A node that
// finds the lock taken skips the rest of its round (the holder is doing the work). Should two
// nodes' rounds interleave batch by batch, nothing breaks: every delete re-reads its conditions.
#pragma once

#include "persistence/session.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

namespace eventhub::persistence::retention {

/// What is deleted, in the order a round visits them (`kinds`, indexed by the enum's value).
enum class kind { login_failures, idempotency_keys, holds, webhook_attempts };
inline constexpr std::array<kind, 4> kinds{kind::login_failures, kind::idempotency_keys,
                                           kind::holds, kind::webhook_attempts};

/// The table a kind deletes from (the `table` label of eventhub_retention_deleted_total).
const char* table_of(kind k);

/// How long each kind is kept (retention.*), and the rows per batch.
struct policy {
  std::chrono::milliseconds login_failures{24LL * 3600 * 1000};
  /// login.failure-window: a run of failures is kept at least this long, whatever the age above.
  std::chrono::milliseconds login_window{15 * 60 * 1000};
  std::chrono::milliseconds idempotency_keys{7LL * 24 * 3600 * 1000};
  std::chrono::milliseconds holds{14LL * 24 * 3600 * 1000};
  std::chrono::milliseconds webhook_deliveries{30LL * 24 * 3600 * 1000};
  int batch_size = 1000;
};

/// One batch of `k`: its own transaction, under the retention lock. The rows deleted, or nullopt
/// when another session holds the lock (nothing was deleted).
std::optional<int> delete_batch(session& s, kind k, const policy& p);

/// Where a round goes after a batch of `k` deleted `deleted` rows: `k` again while batches come
/// back full, else the next kind; nullopt when `k` was the last.
std::optional<kind> next_step(kind k, int deleted, int batch_size);

struct round_report {
  std::array<std::int64_t, kinds.size()> deleted{}; // by kind, in `kinds` order
  int batches = 0;
  bool skipped = false; // another session held the lock
};

/// A whole round on one session: every kind, batch after batch (see next_step), until done or
/// the lock is found taken. The retention actor runs the same steps as one pool job per batch.
round_report run_round(session& s, const policy& p);

} // namespace eventhub::persistence::retention
