// The event registry. Owns the map event id -> event actor on this node; lookups, spawns and
// passivations are its messages, handled one at a time, so the map needs no lock.
//
// Passivation without losing a command: the registry counts the commands it forwards to each
// actor; an idle actor reports how many it received, and only if the counts match (nothing in
// flight towards it) does the registry forget it and tell it to stop. Later commands spawn a
// fresh actor.
#include "actors/event_registry.hpp"

#include "actors/messages.hpp"
#include "observability/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <unordered_map>

namespace eventhub::actors {
namespace {

metrics::gauge& live_actors() {
  static auto& g = metrics::registry::global().get_gauge("eventhub_event_actors",
                                                         "Event actors alive on this node");
  return g;
}

struct entry {
  caf::actor actor;
  std::uint64_t sent = 0;
};

struct registry_state {
  caf::actor db_pool, notifier;
  event_actor_options options;
  std::unordered_map<std::int64_t, entry> actors;
  std::unordered_map<caf::actor_id, std::int64_t> event_of; // for down messages

  void forget(std::unordered_map<std::int64_t, entry>::iterator it) {
    event_of.erase(it->second.actor.id());
    actors.erase(it);
    live_actors().set(static_cast<double>(actors.size()));
  }
};

using registry_actor = caf::stateful_actor<registry_state>;

entry& actor_for(registry_actor* self, std::int64_t event_id) {
  auto& st = self->state;
  auto it = st.actors.find(event_id);
  if (it != st.actors.end())
    return it->second;
  auto a = spawn_event_actor(self->system(), event_id, caf::actor_cast<caf::actor>(self),
                             st.db_pool, st.notifier, st.options);
  self->monitor(a);
  st.event_of[a.id()] = event_id;
  auto& e = st.actors.emplace(event_id, entry{std::move(a), 0}).first->second;
  live_actors().set(static_cast<double>(st.actors.size()));
  return e;
}

caf::behavior registry_behavior(registry_actor* self, caf::actor db_pool, caf::actor notifier,
                                event_actor_options options) {
  self->state.db_pool = std::move(db_pool);
  self->state.notifier = std::move(notifier);
  self->state.options = options;
  self->set_down_handler([=](caf::down_msg& down) {
    // An event actor ended (passivated, or failed): forget it if it is still the one we route to.
    auto& st = self->state;
    auto id = st.event_of.find(down.source.id());
    if (id == st.event_of.end())
      return; // already forgotten when it was passivated
    auto it = st.actors.find(id->second);
    if (it != st.actors.end() && it->second.actor.id() == down.source.id())
      st.forget(it);
    else
      st.event_of.erase(id);
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& [id, e] : self->state.actors)
      self->send_exit(e.actor, msg.reason);
    self->quit(msg.reason);
  });
  return {
      [=](purchase_atom, purchase_command& cmd) {
        auto& e = actor_for(self, cmd.request.event_id);
        ++e.sent;
        self->send(e.actor, purchase_atom::value, std::move(cmd));
      },
      [=](refresh_atom, std::int64_t event_id) {
        auto it = self->state.actors.find(event_id);
        if (it != self->state.actors.end())
          self->send(it->second.actor, refresh_atom::value);
      },
      [=](idle_atom, std::int64_t event_id, std::uint64_t received) {
        auto& st = self->state;
        auto it = st.actors.find(event_id);
        if (it == st.actors.end() || it->second.sent != received || !self->current_sender() ||
            self->current_sender()->id() != it->second.actor.id())
          return;
        self->send(it->second.actor, stop_atom::value);
        st.forget(it);
      },
  };
}

} // namespace

caf::actor spawn_event_registry(caf::actor_system& sys, caf::actor db_pool, caf::actor notifier,
                                const event_actor_options& options) {
  return sys.spawn(registry_behavior, std::move(db_pool), std::move(notifier), options);
}

} // namespace eventhub::actors
