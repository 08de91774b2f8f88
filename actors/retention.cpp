// The retention actor. Owns only its timer and the round in flight; what is deleted is decided
// in PostgreSQL (see retention.hpp).
#include "actors/retention.hpp"

#include "actors/db_request.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/retention_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <array>

namespace eventhub::actors {
namespace {

namespace retention = persistence::retention;

struct retention_state {
  db_pool_actor db_pool;
  retention_options options;
  std::array<std::int64_t, retention::kinds.size()> deleted{}; // this round's, by kind
  int batches = 0;
};

using retention_pointer = retention_actor::stateful_pointer<retention_state>;

metrics::counter& deleted_counter(retention::kind k) {
  static std::array<metrics::counter*, retention::kinds.size()> counters = [] {
    std::array<metrics::counter*, retention::kinds.size()> c{};
    for (auto each : retention::kinds)
      c[static_cast<std::size_t>(each)] = &metrics::registry::global().get_counter(
          "eventhub_retention_deleted_total", "Rows deleted by retention, by table",
          {{"table", retention::table_of(each)}});
    return c;
  }();
  return *counters[static_cast<std::size_t>(k)];
}

/// Logs the round (when it deleted something or was cut short) and arms the next one.
void end_round(retention_pointer self, const char* ended_by) {
  auto& st = self->state;
  std::int64_t total = 0;
  for (auto n : st.deleted)
    total += n;
  if (total > 0)
    log::info("retention.deleted", {{"login_failures", st.deleted[0]},
                                    {"idempotency_keys", st.deleted[1]},
                                    {"holds", st.deleted[2]},
                                    {"webhook_attempts", st.deleted[3]},
                                    {"batches", static_cast<std::int64_t>(st.batches)},
                                    {"ended_by", ended_by}});
  else
    log::debug("retention.round",
               {{"batches", static_cast<std::int64_t>(st.batches)}, {"ended_by", ended_by}});
  st.deleted = {};
  st.batches = 0;
  self->delayed_send(self, st.options.interval, retention_atom::value);
}

void run_batch(retention_pointer self, retention::kind k) {
  auto& st = self->state;
  auto job =
      make_db_job<std::optional<int>>(std::chrono::steady_clock::now() + st.options.batch_timeout,
                                      [k, policy = st.options.policy](persistence::session& s) {
                                        return retention::delete_batch(s, k, policy);
                                      });
  ask_db<std::optional<int>>(
      self, st.db_pool, std::move(job), [self, k](domain::result<std::optional<int>> done) {
        auto& st = self->state;
        ++st.batches;
        if (!done.ok()) {
          log::warn("retention.failed",
                    {{"table", retention::table_of(k)}, {"error", done.err().detail}});
          return end_round(self, "error");
        }
        if (!*done) // another node holds the lock: it is doing this round's work
          return end_round(self, "locked");
        const int deleted = **done;
        if (deleted > 0) {
          st.deleted[static_cast<std::size_t>(k)] += deleted;
          deleted_counter(k).inc(static_cast<std::uint64_t>(deleted));
        }
        if (auto next = retention::next_step(k, deleted, st.options.policy.batch_size))
          return run_batch(self, *next);
        end_round(self, "done");
      });
}

retention_actor::behavior_type retention_behavior(retention_pointer self, db_pool_actor db_pool,
                                                  retention_options options) {
  self->state.db_pool = std::move(db_pool);
  self->state.options = options;
  for (auto k : retention::kinds) // every table's series exists from the start, at 0
    deleted_counter(k);
  self->send(self, retention_atom::value);
  return {
      [=](retention_atom) { run_batch(self, retention::kinds.front()); },
  };
}

} // namespace

retention_actor spawn_retention(caf::actor_system& sys, db_pool_actor db_pool,
                                const retention_options& options) {
  return sys.spawn(retention_behavior, std::move(db_pool), options);
}

} // namespace eventhub::actors
