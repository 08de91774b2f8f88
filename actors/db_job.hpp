// Building DB jobs whose result goes straight to a reply callback. Included by actors/*.cpp only.
#pragma once

#include "actors/db_pool.hpp"
#include "actors/messages.hpp"

namespace eventhub::actors {

/// Runs `work(session) -> result<T>` on a DB worker and hands the result to `done`.
template <class T, class Work>
void query(const caf::actor& pool, deadline due, domain::reply<T> done, Work work) {
  db_job job;
  job.due = due;
  job.fail = [done](const domain::error& e) { done(e); };
  job.run = [done, work = std::move(work)](persistence::session& s) { done(work(s)); };
  submit(pool, std::move(job));
}

} // namespace eventhub::actors
