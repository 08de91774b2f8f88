// The event registry. Owns the map event id -> event actor on this node; lookups, spawns and
// passivations are its messages, handled one at a time, so the map needs no lock.
//
// Passivation without losing a command: the registry counts the commands it forwards to each
// actor; an idle actor reports how many it received, and only if the counts match (nothing in
// flight towards it) does the registry forget it and tell it to stop. Later commands spawn a
// fresh actor.
//
// In a cluster it also owns this node's view of the live members (sent by the cluster node) and
// routes each purchase to the event's owner (domain::owner_of). A purchase forwarded to an owner
// that is unreachable or too slow is served here instead: the batch's SELECT … FOR UPDATE makes
// two nodes selling one event safe. So that a forward that timed out but committed on the owner
// is not charged twice, a forwarded purchase without a client key carries an internal one
// (" fwd:…", a space no client can send); the local attempt then finds the owner's purchase.
#include "actors/event_registry.hpp"

#include "actors/db_job.hpp"
#include "actors/messages.hpp"
#include "actors/wire.hpp"
#include "domain/ownership.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/purchase_repository.hpp"

#include <random>

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

struct routing_metrics {
  metrics::counter& forwarded =
      metrics::registry::global().get_counter("eventhub_cluster_purchases_forwarded_total",
                                              "Purchases forwarded to the event's owner node");
  metrics::counter& served_for_owner = metrics::registry::global().get_counter(
      "eventhub_cluster_purchases_served_for_owner_total",
      "Purchases served here because the owner node was unreachable or too slow");
};

routing_metrics& routing() {
  static routing_metrics m;
  return m;
}

std::string internal_key() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string key = " fwd:";
  for (int i = 0; i < 2; ++i) {
    auto v = rng();
    for (int k = 0; k < 16; ++k)
      key += hex[(v >> (k * 4)) & 0xF];
  }
  return key;
}

struct registry_state {
  caf::actor db_pool, notifier;
  event_actor_options options;
  registry_options routing;
  std::string self_name;
  std::vector<std::string> member_names;             // live, self included
  std::unordered_map<std::string, caf::actor> nodes; // live members' cluster node actors
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

void serve_locally(registry_actor* self, purchase_command cmd) {
  auto& e = actor_for(self, cmd.request.event_id);
  ++e.sent;
  self->send(e.actor, purchase_atom::value, std::move(cmd));
}

void forward(registry_actor* self, purchase_command cmd, const caf::actor& owner) {
  if (!cmd.request.idempotency_key) {
    cmd.request.idempotency_key = internal_key();
    cmd.reply = [reply = std::move(cmd.reply)](domain::result<domain::purchase_outcome> r) {
      if (r.ok())
        r->replayed = false; // our own key found our own purchase: the client's first answer
      reply(std::move(r));
    };
    cmd.memo_ok = true; // a fresh internal key cannot be a replay on the owner
  }
  const bool internal = cmd.request.idempotency_key->rfind(" fwd:", 0) == 0;
  routing().forwarded.inc();
  auto pending = std::make_shared<purchase_command>(std::move(cmd));
  self->request(owner, self->state.routing.forward_timeout, purchase_atom::value,
                to_wire(pending->request, internal))
      .then([pending](wire_purchase_result& r) { pending->reply(from_wire(r)); },
            [self, pending](caf::error& err) {
              routing().served_for_owner.inc();
              log::warn("cluster.forward_failed", {{"event_id", pending->request.event_id},
                                                   {"error", self->system().render(err)}});
              pending->route = false;
              pending->memo_ok = false; // the owner may have committed it: look the key up
              serve_locally(self, std::move(*pending));
            });
}

void route(registry_actor* self, purchase_command& cmd) {
  auto& st = self->state;
  if (cmd.route && st.member_names.size() > 1) {
    const auto& owner = domain::owner_of(cmd.request.event_id, st.member_names);
    auto node = st.nodes.find(owner);
    if (owner != st.self_name && node != st.nodes.end())
      return forward(self, std::move(cmd), node->second);
  }
  serve_locally(self, std::move(cmd));
}

/// Internal keys only guard against a double charge while a forward is in doubt.
void forget_internal_keys(registry_actor* self) {
  db_job job;
  job.due = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  job.run = [](persistence::session& s) {
    s.transact([](persistence::tx& t) {
      persistence::purchases::forget_internal_keys(t, std::chrono::hours(1));
    });
  };
  job.fail = [](const domain::error&) {};
  submit(self->state.db_pool, std::move(job));
}

caf::behavior registry_behavior(registry_actor* self, caf::actor db_pool, caf::actor notifier,
                                event_actor_options options, registry_options routing_options) {
  self->state.db_pool = std::move(db_pool);
  self->state.notifier = std::move(notifier);
  self->state.options = options;
  self->state.routing = routing_options;
  if (routing_options.cluster)
    self->delayed_send(self, std::chrono::minutes(10), tick_atom::value);
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
      [=](purchase_atom, purchase_command& cmd) { route(self, cmd); },
      [=](members_atom, std::string& self_name, std::vector<member_entry>& live) {
        auto& st = self->state;
        st.self_name = std::move(self_name);
        st.member_names.clear();
        st.nodes.clear();
        for (auto& m : live) {
          st.member_names.push_back(m.name);
          st.nodes.emplace(m.name, std::move(m.node));
        }
      },
      [=](tick_atom) {
        forget_internal_keys(self);
        self->delayed_send(self, std::chrono::minutes(10), tick_atom::value);
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
                                const event_actor_options& options,
                                const registry_options& routing) {
  return sys.spawn(registry_behavior, std::move(db_pool), std::move(notifier), options, routing);
}

} // namespace eventhub::actors
