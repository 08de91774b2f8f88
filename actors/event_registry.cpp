// The event registry. Owns the map event id -> event actor on this node; lookups, spawns and
// passivations are its messages, handled one at a time, so the map needs no lock.
//
// Passivation without losing a command: the registry counts the commands it hands to each
// actor; an idle actor reports how many it received, and only if the counts match (nothing in
// flight towards it) does the registry forget it and tell it to passivate. Later commands spawn
// a fresh actor.
//
// In a cluster it also owns this node's view of the live members (sent by the cluster node) and
// routes each purchase to the event's owner (domain::owner_of). A purchase forwarded to an owner
// that is unreachable or too slow is served here instead: the batch's SELECT … FOR UPDATE makes
// two nodes selling one event safe. So that a forward that timed out but committed on the owner
// is not charged twice, a forwarded purchase without a client key carries an internal one
// (" fwd:…", a space no client can send); the local attempt then finds the owner's purchase.
#include "actors/event_registry.hpp"

#include "actors/db_request.hpp"
#include "domain/ownership.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/purchase_repository.hpp"
#include "security/random.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <unordered_map>

namespace eventhub::actors {
namespace {

metrics::gauge& live_actors() {
  static auto& g = metrics::registry::global().get_gauge("eventhub_event_actors",
                                                         "Event actors alive on this node");
  return g;
}

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

constexpr const char* internal_key_prefix = " fwd:";

struct entry {
  event_actor actor;
  std::uint64_t sent = 0;
};

struct registry_state {
  registry_deps deps;
  event_actor_options options;
  registry_options routing;
  std::string self_name;
  std::vector<std::string> member_names;             // live, self included
  std::unordered_map<std::string, owner_node> nodes; // live members' cluster node actors
  std::unordered_map<std::int64_t, entry> actors;
  std::unordered_map<caf::actor_id, std::int64_t> event_of; // for down messages

  void forget(std::unordered_map<std::int64_t, entry>::iterator it) {
    event_of.erase(it->second.actor.id());
    actors.erase(it);
    live_actors().set(static_cast<double>(actors.size()));
  }
};

using registry_pointer = event_registry_actor::stateful_pointer<registry_state>;

entry& actor_for(registry_pointer self, std::int64_t event_id) {
  auto& st = self->state;
  auto it = st.actors.find(event_id);
  if (it != st.actors.end())
    return it->second;
  event_actor_deps deps{idle_listener{self}, st.deps.db_pool, st.deps.notifier, st.deps.commit};
  auto a = spawn_event_actor(self->system(), event_id, deps, st.options);
  self->monitor(a);
  st.event_of[a.id()] = event_id;
  auto& e = st.actors.emplace(event_id, entry{std::move(a), 0}).first->second;
  live_actors().set(static_cast<double>(st.actors.size()));
  return e;
}

/// Serves a purchase whose owner did not answer here, for the promise `rp` made for it. When
/// the key is our own internal one, a replay is the owner's commit of this very request: the
/// client's first answer.
void serve_for_owner(registry_pointer self, purchase_command cmd, bool fresh_internal_key,
                     caf::typed_response_promise<purchase_answer> rp) {
  routing().served_for_owner.inc();
  cmd.route = false;
  cmd.memo_ok = false; // the owner may have committed it: look the key up
  auto& e = actor_for(self, cmd.request.event_id);
  ++e.sent;
  const auto timeout = wait_for(cmd.due);
  self->request(e.actor, timeout, purchase_atom::value, std::move(cmd))
      .then(
          [rp, fresh_internal_key](purchase_answer& a) mutable {
            if (fresh_internal_key && a.ok())
              a->replayed = false;
            rp.deliver(std::move(a));
          },
          [rp](caf::error&) mutable {
            rp.deliver(purchase_answer(domain::unavailable("The purchase timed out.")));
          });
}

caf::result<purchase_answer> forward(registry_pointer self, purchase_command cmd,
                                     const owner_node& owner) {
  // Confirms and releases repeat safely (a confirmed hold answers its purchase again); only
  // purchases, new holds and cancellations could be made twice.
  const auto kind = cmd.request.kind;
  const bool fresh_internal_key =
      !cmd.request.idempotency_key &&
      (kind == domain::order_kind::purchase || kind == domain::order_kind::hold ||
       kind == domain::order_kind::cancel);
  if (fresh_internal_key) {
    cmd.request.idempotency_key = internal_key_prefix + security::random_hex(16);
    cmd.memo_ok = true; // a fresh internal key cannot be a replay on the owner
  }
  const bool internal = cmd.request.idempotency_key &&
                        cmd.request.idempotency_key->rfind(internal_key_prefix, 0) == 0;
  routing().forwarded.inc();
  auto rp = self->make_response_promise<purchase_answer>();
  auto wire = to_wire(cmd.request, internal);
  self->request(owner, self->state.routing.forward_timeout, forward_atom::value, std::move(wire))
      .then(
          [rp, fresh_internal_key](wire_purchase_result& r) mutable {
            auto a = from_wire(r);
            if (fresh_internal_key && a.ok())
              a->replayed = false; // our own key found our own purchase
            rp.deliver(std::move(a));
          },
          [self, rp, cmd, fresh_internal_key](caf::error& err) mutable {
            log::warn("cluster.forward_failed",
                      {{"event_id", cmd.request.event_id}, {"error", self->system().render(err)}});
            serve_for_owner(self, std::move(cmd), fresh_internal_key, rp);
          });
  return rp;
}

caf::result<purchase_answer> route(registry_pointer self, purchase_command& cmd) {
  auto& st = self->state;
  if (cmd.route && st.member_names.size() > 1) {
    const auto& owner = domain::owner_of(cmd.request.event_id, st.member_names);
    auto node = st.nodes.find(owner);
    if (owner != st.self_name && node != st.nodes.end())
      return forward(self, std::move(cmd), node->second);
  }
  auto& e = actor_for(self, cmd.request.event_id);
  ++e.sent;
  return self->delegate(e.actor, purchase_atom::value, std::move(cmd));
}

/// Internal keys only guard against a double charge while a forward is in doubt.
void forget_internal_keys(registry_pointer self) {
  auto job = make_tx_job<domain::unit>(
      std::chrono::steady_clock::now() + std::chrono::minutes(1), [](persistence::tx& t) {
        persistence::purchases::forget_internal_keys(t, std::chrono::hours(1));
        return domain::unit{};
      });
  ask_db<domain::unit>(self, self->state.deps.db_pool, std::move(job),
                       [](const domain::result<domain::unit>&) {});
}

void on_members(registry_pointer self, std::string& self_name, std::vector<member_entry>& live) {
  auto& st = self->state;
  st.self_name = std::move(self_name);
  st.member_names.clear();
  st.nodes.clear();
  for (auto& m : live) {
    st.member_names.push_back(m.name);
    st.nodes.emplace(m.name, caf::actor_cast<owner_node>(m.node));
  }
}

/// Forgets an idle actor if every command handed to it has reached it.
void on_idle(registry_pointer self, std::int64_t event_id, std::uint64_t received) {
  auto& st = self->state;
  auto it = st.actors.find(event_id);
  if (it == st.actors.end() || it->second.sent != received || !self->current_sender() ||
      self->current_sender()->id() != it->second.actor.id())
    return;
  self->send(it->second.actor, passivate_atom::value);
  st.forget(it);
}

void on_down(registry_pointer self, const caf::down_msg& down) {
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
}

event_registry_actor::behavior_type registry_behavior(registry_pointer self, registry_deps deps,
                                                      event_actor_options options,
                                                      registry_options routing_options) {
  self->state.deps = std::move(deps);
  self->state.options = options;
  self->state.routing = routing_options;
  if (routing_options.cluster)
    self->delayed_send(self, routing_options.internal_key_sweep, forget_keys_atom::value);
  self->set_down_handler([=](caf::down_msg& down) { on_down(self, down); });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& [id, e] : self->state.actors)
      self->send_exit(e.actor, msg.reason);
    self->quit(msg.reason);
  });
  return {
      [=](purchase_atom, purchase_command& cmd) { return route(self, cmd); },
      [=](members_atom, std::string& self_name, std::vector<member_entry>& live) {
        on_members(self, self_name, live);
      },
      [=](forget_keys_atom) {
        forget_internal_keys(self);
        self->delayed_send(self, self->state.routing.internal_key_sweep, forget_keys_atom::value);
      },
      [=](event_changed_atom, std::int64_t event_id) {
        auto it = self->state.actors.find(event_id);
        if (it != self->state.actors.end())
          self->send(it->second.actor, stock_stale_atom::value);
      },
      [=](idle_atom, std::int64_t event_id, std::uint64_t received) {
        on_idle(self, event_id, received);
      },
  };
}

} // namespace

event_registry_actor spawn_event_registry(caf::actor_system& sys, const registry_deps& deps,
                                          const event_actor_options& options,
                                          const registry_options& routing) {
  return sys.spawn(registry_behavior, deps, options, routing);
}

} // namespace eventhub::actors
