// The DB pool: a dispatcher actor and N worker actors, each owning one connection.
//
// Protocol (db_pool_actor):
//   (run_atom, db_job) -> db_answer   runs `job.work` on some worker's session inside the job's
//                                     deadline; the answer is the work's value, or the failure
//                                     (queue full, deadline passed, database down) instead.
// Answers are messages to the asker (request(...).then), so nothing of the asker runs on a
// worker thread: a worker computes a value, delivers it and takes the next job.
#pragma once

#include "actors/atoms.hpp"
#include "actors/options.hpp"
#include "domain/result.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <any>
#include <chrono>
#include <functional>
#include <optional>

namespace eventhub::persistence {
class session;
}

namespace eventhub::actors {

using deadline = std::chrono::steady_clock::time_point;

inline bool expired(deadline d) {
  return std::chrono::steady_clock::now() >= d;
}

/// What a job computed, type-erased: `value` holds the work's domain::result<T>, or `failure`
/// says why the work did not run (or threw).
struct db_answer {
  std::any value;
  std::optional<domain::error> failure;

  template <class T> domain::result<T> take() {
    if (failure)
      return *failure;
    return std::any_cast<domain::result<T>>(std::move(value));
  }
};

/// Work for one connection, due by `due` (a job still queued then fails instead of running).
struct db_job {
  std::function<db_answer(persistence::session&)> work;
  deadline due;
};

using db_pool_actor = caf::typed_actor<caf::replies_to<run_atom, db_job>::with<db_answer>>;

/// Spawns the dispatcher and its workers (linked: they exit with it).
db_pool_actor spawn_db_pool(caf::actor_system& sys, const db_pool_options& options);

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::db_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::db_answer)
