// DB pool. Ownership: each worker owns its persistence::session (one connection, one thread:
// workers are detached because libpqxx blocks). The dispatcher owns the queue of waiting jobs and
// the list of idle workers; both change only in its message handlers, so no lock is needed.
// A full queue or a passed deadline fails the job at once (503), never an unbounded wait.
#include "actors/db_pool.hpp"

#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/session.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <memory>

namespace eventhub::actors {
namespace {

struct pool_metrics {
  metrics::gauge& busy = metrics::registry::global().get_gauge(
      "eventhub_db_pool_busy_connections", "Database connections running a job");
  metrics::gauge& size = metrics::registry::global().get_gauge("eventhub_db_pool_connections",
                                                               "Database connections in the pool");
  metrics::gauge& waiting = metrics::registry::global().get_gauge(
      "eventhub_db_pool_waiting_jobs", "Database jobs waiting for a connection");
  metrics::counter& rejected = metrics::registry::global().get_counter(
      "eventhub_db_pool_rejected_total", "Database jobs refused: queue full or deadline passed");
};

pool_metrics& stats() {
  static pool_metrics m;
  return m;
}

db_answer failed(domain::error e) {
  return db_answer{{}, std::move(e)};
}

db_answer too_late() {
  stats().rejected.inc();
  return failed(domain::unavailable("The request waited too long for the database."));
}

db_answer run_job(persistence::session& session, db_job& job) {
  if (expired(job.due))
    return too_late();
  try {
    return job.work(session);
  } catch (const persistence::db_unavailable&) {
    return failed(domain::unavailable("The database is unavailable."));
  } catch (const std::exception& e) {
    log::error("db.job_failed", {{"error", persistence::loggable_error(e)}});
    return failed(domain::make_error(domain::error_code::internal, "Internal error."));
  }
}

// A worker: runs one job at a time on its own session and tells the dispatcher when it is free.
using db_worker_actor = db_pool_actor;
using idle_listener = caf::typed_actor<caf::reacts_to<worker_idle_atom, db_worker_actor>>;
using dispatcher_actor = db_pool_actor::extend<caf::reacts_to<worker_idle_atom, db_worker_actor>>;

struct worker_state {
  std::unique_ptr<persistence::session> session;
};

db_worker_actor::behavior_type db_worker(db_worker_actor::stateful_pointer<worker_state> self,
                                         idle_listener dispatcher,
                                         persistence::connection_options options, bool connect) {
  self->state.session = std::make_unique<persistence::session>(std::move(options));
  if (connect)
    self->state.session->try_connect();
  self->send(dispatcher, worker_idle_atom::value, db_worker_actor{self});
  return {
      [=](run_atom, db_job& job) -> db_answer {
        auto answer = run_job(*self->state.session, job);
        self->send(dispatcher, worker_idle_atom::value, db_worker_actor{self});
        return answer;
      },
  };
}

struct waiting_job {
  db_job job;
  caf::typed_response_promise<db_answer> promise;
};

struct dispatcher_state {
  std::deque<waiting_job> waiting;
  std::vector<db_worker_actor> idle;
  std::size_t waiting_max = 0;
  int workers = 0;

  void publish() {
    stats().waiting.set(static_cast<double>(waiting.size()));
    stats().busy.set(static_cast<double>(workers - static_cast<int>(idle.size())));
  }
};

using dispatcher_pointer = dispatcher_actor::stateful_pointer<dispatcher_state>;

caf::result<db_answer> on_job(dispatcher_pointer self, db_job& job) {
  auto& st = self->state;
  if (!st.idle.empty()) {
    auto worker = std::move(st.idle.back());
    st.idle.pop_back();
    st.publish();
    return self->delegate(worker, run_atom::value, std::move(job));
  }
  if (st.waiting.size() >= st.waiting_max) {
    stats().rejected.inc();
    return failed(domain::unavailable("Too many requests are waiting for the database."));
  }
  st.waiting.push_back({std::move(job), self->make_response_promise<db_answer>()});
  st.publish();
  return st.waiting.back().promise;
}

void on_worker_idle(dispatcher_pointer self, db_worker_actor& worker) {
  auto& st = self->state;
  while (!st.waiting.empty()) {
    waiting_job next = std::move(st.waiting.front());
    st.waiting.pop_front();
    if (expired(next.job.due)) {
      next.promise.deliver(too_late());
      continue;
    }
    next.promise.delegate(worker, run_atom::value, std::move(next.job));
    st.publish();
    return;
  }
  st.idle.push_back(std::move(worker));
  st.publish();
}

dispatcher_actor::behavior_type dispatcher(dispatcher_pointer self, db_pool_options options) {
  auto& st = self->state;
  st.waiting_max = static_cast<std::size_t>(options.queue_max);
  st.workers = options.size;
  stats().size.set(options.size);
  for (int i = 0; i < options.size; ++i) {
    const idle_listener me{self};
    auto worker = options.detached_workers
                      ? self->system().spawn<caf::detached>(db_worker, me, options.connection, true)
                      : self->system().spawn(db_worker, me, options.connection, false);
    self->link_to(worker);
  }
  st.idle.reserve(static_cast<std::size_t>(options.size));
  return {
      [=](run_atom, db_job& job) { return on_job(self, job); },
      [=](worker_idle_atom, db_worker_actor& worker) { on_worker_idle(self, worker); },
  };
}

} // namespace

db_pool_actor spawn_db_pool(caf::actor_system& sys, const db_pool_options& options) {
  return sys.spawn(dispatcher, options);
}

} // namespace eventhub::actors
