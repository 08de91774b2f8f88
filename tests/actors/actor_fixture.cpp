// The deterministic actor system and the fake DB pool; see actor_fixture.hpp.
#include "tests/actors/actor_fixture.hpp"

#include <caf/send.hpp>

namespace eventhub::test {
namespace {

fake_pool_actor::behavior_type fake_pool(fake_pool_actor::stateful_pointer<fake_pool_state> self,
                                         persistence::connection_options never_connected) {
  self->state.session = std::make_unique<persistence::session>(std::move(never_connected));
  return {
      [=](actors::run_atom, actors::db_job& job) -> caf::result<actors::db_answer> {
        ++self->state.received;
        auto promise = self->make_response_promise<actors::db_answer>();
        self->state.held.emplace_back(std::move(job), promise);
        return promise;
      },
      [=](release_atom) {
        auto& held = self->state.held;
        if (held.empty())
          return;
        auto [job, promise] = std::move(held.front());
        held.pop_front();
        promise.deliver(job.work(*self->state.session));
      },
  };
}

} // namespace

deterministic_system::deterministic_system() {
  cfg_.set("scheduler.policy", caf::atom("testing"));
  cfg_.set("logger.verbosity", caf::atom("quiet"));
  system_ = std::make_unique<caf::actor_system>(cfg_);
  sched_ = &dynamic_cast<caf::scheduler::test_coordinator&>(system_->scheduler());
}

deterministic_system::~deterministic_system() {
  for (auto& a : spawned_)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched_->run();
  spawned_.clear();
  sched_->run();
}

fake_pool_actor deterministic_system::spawn_fake_pool() {
  return keep(system_->spawn(fake_pool, persistence::connection_options{}));
}

fake_pool_state& deterministic_system::pool_state(const fake_pool_actor& pool) {
  auto* raw = caf::actor_cast<caf::abstract_actor*>(pool);
  return dynamic_cast<fake_pool_actor::stateful_base<fake_pool_state>&>(*raw).state;
}

void deterministic_system::release(const fake_pool_actor& pool) {
  caf::anon_send(pool, release_atom::value);
  run();
}

} // namespace eventhub::test
