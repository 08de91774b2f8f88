// DB pool. Ownership: each worker owns its persistence::session (one connection, one thread:
// workers are detached because libpqxx blocks). The dispatcher owns the queue of waiting jobs and
// the list of idle workers; both change only in its message handlers, so no lock is needed.
// A full queue or a passed deadline fails the job at once (503), never an unbounded wait.
#include "actors/db_pool.hpp"

#include "actors/messages.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

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

void run_job(persistence::session& session, db_job& job) {
  if (expired(job.due)) {
    stats().rejected.inc();
    job.fail(domain::unavailable("The request waited too long for the database."));
    return;
  }
  try {
    job.run(session);
  } catch (const persistence::db_unavailable& e) {
    job.fail(domain::unavailable("The database is unavailable."));
  } catch (const std::exception& e) {
    log::error("db.job_failed", {{"error", persistence::loggable_error(e)}});
    job.fail(domain::make_error(domain::error_code::internal, "Internal error."));
  }
}

struct worker_state {
  std::unique_ptr<persistence::session> session;
};

caf::behavior db_worker(caf::stateful_actor<worker_state>* self, caf::actor dispatcher,
                        persistence::connection_options options) {
  self->state.session = std::make_unique<persistence::session>(std::move(options));
  self->state.session->try_connect();
  self->send(dispatcher, idle_atom::value, caf::actor_cast<caf::actor>(self));
  return {
      [=](job_atom, db_job& job) {
        run_job(*self->state.session, job);
        self->send(dispatcher, idle_atom::value, caf::actor_cast<caf::actor>(self));
      },
  };
}

struct dispatcher_state {
  std::deque<db_job> waiting;
  std::vector<caf::actor> idle;
  std::size_t waiting_max = 0;
  int workers = 0;

  void publish() {
    stats().waiting.set(static_cast<double>(waiting.size()));
    stats().busy.set(static_cast<double>(workers - static_cast<int>(idle.size())));
  }
};

caf::behavior dispatcher(caf::stateful_actor<dispatcher_state>* self, db_pool_options options) {
  auto& st = self->state;
  st.waiting_max = static_cast<std::size_t>(options.queue_max);
  st.workers = options.size;
  stats().size.set(options.size);
  for (int i = 0; i < options.size; ++i) {
    auto worker = self->system().spawn<caf::detached>(db_worker, caf::actor_cast<caf::actor>(self),
                                                      options.connection);
    self->link_to(worker);
  }
  st.idle.reserve(static_cast<std::size_t>(options.size));
  return {
      [=](job_atom, db_job& job) {
        auto& st = self->state;
        if (!st.idle.empty()) {
          auto worker = std::move(st.idle.back());
          st.idle.pop_back();
          self->send(worker, job_atom::value, std::move(job));
        } else if (st.waiting.size() >= st.waiting_max) {
          stats().rejected.inc();
          job.fail(domain::unavailable("Too many requests are waiting for the database."));
        } else {
          st.waiting.push_back(std::move(job));
        }
        st.publish();
      },
      [=](idle_atom, caf::actor& worker) {
        auto& st = self->state;
        while (!st.waiting.empty()) {
          db_job job = std::move(st.waiting.front());
          st.waiting.pop_front();
          if (expired(job.due)) {
            stats().rejected.inc();
            job.fail(domain::unavailable("The request waited too long for the database."));
            continue;
          }
          self->send(worker, job_atom::value, std::move(job));
          st.publish();
          return;
        }
        st.idle.push_back(std::move(worker));
        st.publish();
      },
  };
}

} // namespace

caf::actor spawn_db_pool(caf::actor_system& sys, const db_pool_options& options) {
  return sys.spawn(dispatcher, options);
}

void submit(const caf::actor& pool, db_job job) {
  caf::anon_send(pool, job_atom::value, std::move(job));
}

} // namespace eventhub::actors
