// The health actor. Owns the last report and the replies waiting for the check in flight; at
// most one check of the database runs at a time, and while it runs callers get the last report
// (if there is one) rather than wait.
#include "actors/services/health.hpp"

#include "persistence/session.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <vector>

namespace eventhub::actors {
namespace {

struct health_state {
  health_deps deps;
  service_options options;
  std::optional<domain::health_report> last;
  bool checking = false;
  std::vector<domain::reply<domain::health_report>> waiting;
};

using health_pointer = health_actor::stateful_pointer<health_state>;

void finish_check(health_pointer self, domain::health_report report) {
  auto& st = self->state;
  st.checking = false;
  st.last = report;
  st.deps.board->publish(report);
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& done : waiting)
    done(report);
}

/// The database (a real round trip), then the cluster node's view of the members.
void check(health_pointer self) {
  auto& st = self->state;
  st.checking = true;
  auto job =
      make_tx_job<domain::unit>(due_in(st.options.health_check_timeout), [](persistence::tx& t) {
        t.raw().exec("SELECT 1");
        return domain::unit{};
      });
  ask_db<domain::unit>(self, st.deps.db_pool, std::move(job),
                       [self](const domain::result<domain::unit>& db) {
                         domain::health_report r;
                         r.db_up = db.ok();
                         r.cluster_enabled = self->state.options.cluster_enabled;
                         self->request(self->state.deps.cluster,
                                       self->state.options.health_check_timeout, view_atom::value)
                             .then(
                                 [self, r](member_views& members) mutable {
                                   r.members = std::move(members.items);
                                   finish_check(self, std::move(r));
                                 },
                                 [self, r](caf::error&) { finish_check(self, r); });
                       });
}

health_actor::behavior_type health_behavior(health_pointer self, health_deps deps,
                                            service_options options) {
  self->state.deps = std::move(deps);
  self->state.options = options;
  return {
      [=](health_atom, domain::reply<domain::health_report>& done) {
        auto& st = self->state;
        if (auto fresh = st.deps.board->fresh())
          return done(std::move(*fresh));
        if (st.checking && st.last)
          return done(*st.last);
        st.waiting.push_back(std::move(done));
        if (!st.checking)
          check(self);
      },
  };
}

} // namespace

std::optional<domain::health_report> health_board::fresh() const {
  std::shared_ptr<const snapshot> last;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    last = last_;
  }
  if (!last || std::chrono::steady_clock::now() - last->taken >= ttl_)
    return std::nullopt;
  return last->report;
}

void health_board::publish(domain::health_report report) {
  auto next = std::make_shared<const snapshot>(
      snapshot{std::move(report), std::chrono::steady_clock::now()});
  std::lock_guard<std::mutex> guard(mutex_);
  last_ = std::move(next);
}

health_actor spawn_health(caf::actor_system& sys, health_deps deps,
                          const service_options& options) {
  return sys.spawn(health_behavior, std::move(deps), options);
}

void health_service::health(domain::reply<domain::health_report> done) {
  // The handler asked fresh_health first; the actor answers from a report made meanwhile.
  caf::anon_send(actor_, health_atom::value, std::move(done));
}

} // namespace eventhub::actors
