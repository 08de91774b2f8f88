// Deterministic actor tests: an actor system on CAF's test_coordinator (one thread, the test's;
// messages run only when the test says so, timers fire only when it advances time), a fake DB
// pool that holds each job until released, and an asker that records answers.
#pragma once

#include "actors/db_pool.hpp"
#include "persistence/session.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace eventhub::test {

using release_atom = caf::atom_constant<caf::atom("trelease")>;

/// The DB pool's protocol, plus (release_atom): run the oldest held job and answer it.
using fake_pool_actor = actors::db_pool_actor::extend<caf::reacts_to<release_atom>>;

struct fake_pool_state {
  std::deque<std::pair<actors::db_job, caf::typed_response_promise<actors::db_answer>>> held;
  std::size_t received = 0;
  std::unique_ptr<persistence::session> session; // never connected: jobs here touch no database
};

class deterministic_system {
 public:
  deterministic_system();
  ~deterministic_system();

  caf::actor_system& sys() { return *system_; }
  caf::scheduler::test_coordinator& sched() { return *sched_; }

  /// Runs every queued message (not timers).
  void run() { sched_->run(); }
  /// Fires every pending timer, then runs what they sent.
  void fire_timers() {
    sched_->trigger_timeouts();
    run();
  }

  /// Spawned through these, actors are told to exit when the test ends.
  template <class Handle> Handle keep(Handle h) {
    spawned_.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  fake_pool_actor spawn_fake_pool();
  fake_pool_state& pool_state(const fake_pool_actor& pool);
  /// Releases the oldest held job of `pool` and runs until quiet.
  void release(const fake_pool_actor& pool);

  /// Asks `h` with `xs...` from a fresh actor; the answer (or nothing yet) lands in the result.
  template <class Answer, class Handle, class... Ts>
  std::shared_ptr<std::optional<Answer>> ask(const Handle& h, Ts... xs) {
    auto answer = std::make_shared<std::optional<Answer>>();
    // The unused int: CAF 0.17 binds a null argument tuple for a function spawned without
    // arguments (UBSan reports it), so every test actor is spawned with one.
    auto asker = system_->spawn(
        [=](caf::event_based_actor* self, int) {
          self->request(h, caf::infinite, xs...).then([=](Answer& a) {
            *answer = std::move(a);
            self->quit();
          });
        },
        0);
    spawned_.push_back(asker);
    return answer;
  }

 private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> system_;
  caf::scheduler::test_coordinator* sched_ = nullptr;
  std::vector<caf::actor> spawned_;
};

} // namespace eventhub::test
