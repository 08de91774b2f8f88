// Asking the DB pool from an actor: the one way every actor runs database work. The answer
// comes back to the asking actor as a message, and `then` runs there, never on a DB worker.
// Included by actors/*.cpp only.
#pragma once

#include "actors/db_pool.hpp"
#include "persistence/session.hpp"

#include <caf/error.hpp>

namespace eventhub::actors {

/// A job that runs `work(session) -> result<T>`.
template <class T, class Work> db_job make_db_job(deadline due, Work work) {
  return {[work = std::move(work)](persistence::session& s) {
            return db_answer{domain::result<T>(work(s)), std::nullopt};
          },
          due};
}

/// A job that runs `work(tx&) -> result<T>` in one transaction; a persistence::refused thrown
/// by `work` rolls it back and answers its error.
template <class T, class Work> db_job make_tx_job(deadline due, Work work) {
  return make_db_job<T>(due, [work = std::move(work)](persistence::session& s) {
    return persistence::transact_refusable<T>(s, work);
  });
}

/// How long to wait for an answer due at `due`: the pool itself answers by then (it fails jobs
/// whose deadline passed), so this margin only covers a pool that died.
inline std::chrono::milliseconds wait_for(deadline due) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(due - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds{0}) + std::chrono::seconds(1);
}

/// Runs `job` on `pool`; `then(domain::result<T>)` runs on `self` with the answer.
template <class T, class Self, class Then>
void ask_db(Self* self, const db_pool_actor& pool, db_job job, Then then) {
  const auto timeout = wait_for(job.due);
  self->request(pool, timeout, run_atom::value, std::move(job))
      .then([then](db_answer& a) mutable { then(a.take<T>()); },
            [then](caf::error&) mutable {
              then(domain::result<T>(domain::unavailable("The database did not answer in time.")));
            });
}

} // namespace eventhub::actors
