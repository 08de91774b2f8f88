// The cluster node actor. Owns the member list of this node's view (name -> node actor, up or
// down) and the promises of purchases forwarded to it; only its handlers touch them.
//
// Membership: a node joins by sending (join, name, actor) to a seed; whoever learns of a new
// member monitors it, gossips the join to the others and answers with its member list; every
// couple of seconds each node sends its list to the others (anti-entropy). Loss is detected by
// monitors: a down message arrives when the connection drops, or when heartbeats stop
// (middleman.heartbeat-interval / connection-timeout). Seeds are watched by detached actors that
// reconnect whenever their seed goes away, so a restarted node rejoins and is rejoined.
//
// Broadcasts: an admin write's callback runs once every live member's listing cache and event
// registry acknowledged the invalidation (or timed out).
#include "actors/cluster.hpp"

#include "actors/messages.hpp"
#include "actors/wire.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>

#include <map>
#include <stdexcept>

namespace eventhub::actors {
namespace {

constexpr std::chrono::seconds gossip_period{2};
constexpr std::chrono::seconds reconnect_period{1};

struct member {
  caf::actor node; // null while down
  bool up = false;
  caf::actor_addr went_down; // the handle this node had when it was last seen going down
};

struct cluster_state {
  cluster_options options;
  std::string self_name;
  caf::actor cache, registry;
  std::map<std::string, member> members; // other nodes
  std::vector<caf::actor> watchers;
  std::map<std::uint64_t, caf::response_promise> forwarded; // purchases owed to other nodes
  std::uint64_t next_promise = 0;
};

using cluster_actor = caf::stateful_actor<cluster_state>;

metrics::gauge& member_gauge() {
  static auto& g = metrics::registry::global().get_gauge(
      "eventhub_cluster_members", "Live cluster members seen by this node, itself included");
  return g;
}

metrics::counter& served_for_others() {
  static auto& c = metrics::registry::global().get_counter(
      "eventhub_cluster_purchases_received_total",
      "Purchases forwarded to this node as the event's owner");
  return c;
}

std::vector<member_entry> live_entries(cluster_actor* self) {
  std::vector<member_entry> out{{self->state.self_name, caf::actor_cast<caf::actor>(self)}};
  for (const auto& [name, m] : self->state.members)
    if (m.up)
      out.push_back({name, m.node});
  return out;
}

void publish_members(cluster_actor* self) {
  auto entries = live_entries(self);
  member_gauge().set(static_cast<double>(entries.size()));
  self->send(self->state.registry, members_atom::value, self->state.self_name, std::move(entries));
}

/// True when the current message comes from `node` itself, not from a member speaking of it.
bool first_hand(cluster_actor* self, const caf::actor& node) {
  return caf::actor_cast<caf::actor_addr>(self->current_sender()) == node.address();
}

/// Adds or refreshes a member; true if it was new (or came back, or restarted).
/// A member this node saw go down comes back only on its own word: hearsay from a member that
/// has not noticed yet (gossip) would otherwise revive it, and the two could keep a stopped
/// node alive for each other. Hearsay about it gets a join sent to it instead; if it is alive,
/// its answer is first-hand.
bool learn(cluster_actor* self, const std::string& name, const caf::actor& node) {
  auto& st = self->state;
  if (name == st.self_name || !node)
    return false;
  auto& m = st.members[name];
  if (m.up && m.node == node)
    return false;
  if (!m.up && m.went_down == node.address() && !first_hand(self, node)) {
    self->send(node, join_atom::value, st.self_name, caf::actor_cast<caf::actor>(self));
    return false;
  }
  m.node = node;
  m.up = true;
  self->monitor(node);
  log::info("cluster.member_up", {{"node", name}});
  publish_members(self);
  return true;
}

void on_join(cluster_actor* self, const std::string& name, const caf::actor& node) {
  auto& st = self->state;
  if (learn(self, name, node))
    for (const auto& [other, m] : st.members)
      if (m.up && other != name)
        self->send(m.node, join_atom::value, name, node); // gossip
  if (name != st.self_name && node)
    self->send(node, members_atom::value, live_entries(self));
}

void on_members(cluster_actor* self, const std::vector<member_entry>& list) {
  for (const auto& e : list)
    if (learn(self, e.name, e.node))
      self->send(e.node, join_atom::value, self->state.self_name,
                 caf::actor_cast<caf::actor>(self));
}

void on_down(cluster_actor* self, const caf::down_msg& down) {
  for (auto& [name, m] : self->state.members)
    if (m.up && m.node.address() == down.source) {
      m.up = false;
      m.node = nullptr;
      m.went_down = down.source;
      log::warn("cluster.member_down", {{"node", name}});
      publish_members(self);
      return;
    }
}

/// Invalidates this node's cache and event actor, then runs `done`.
void invalidate_locally(cluster_actor* self, std::int64_t event_id, std::function<void()> done) {
  auto& st = self->state;
  if (event_id > 0)
    self->send(st.registry, refresh_atom::value, event_id);
  self->request(st.cache, st.options.broadcast_timeout, invalidate_atom::value)
      .then([done](invalidate_atom) { done(); },
            [done](caf::error&) {
              log::warn("cluster.invalidate_timeout", {{"node", "self"}});
              done();
            });
}

void broadcast_invalidation(cluster_actor* self, invalidation& inv) {
  auto& st = self->state;
  auto remaining = std::make_shared<int>(1);
  for (const auto& [name, m] : st.members)
    if (m.up)
      ++*remaining;
  auto step = [remaining, done = std::move(inv.done)] {
    if (--*remaining == 0)
      done();
  };
  invalidate_locally(self, inv.event_id, step);
  for (const auto& [name, m] : st.members) {
    if (!m.up)
      continue;
    self->request(m.node, st.options.broadcast_timeout, invalidate_atom::value, inv.event_id)
        .then([step](invalidate_atom) { step(); },
              [step, name = name](caf::error&) {
                log::warn("cluster.invalidate_timeout", {{"node", name}});
                step();
              });
  }
}

/// A purchase another node forwarded because this node owns the event: serve it here.
caf::response_promise serve_forwarded(cluster_actor* self, const wire_purchase& w) {
  auto& st = self->state;
  served_for_others().inc();
  auto rp = self->make_response_promise();
  const std::uint64_t id = ++st.next_promise;
  st.forwarded.emplace(id, rp);
  auto me = caf::actor_cast<caf::actor>(self);
  purchase_command cmd;
  cmd.request = from_wire(w);
  cmd.reply = [me, id](domain::result<domain::purchase_outcome> r) {
    caf::anon_send(me, deliver_atom::value, id, to_wire(r));
  };
  cmd.due = std::chrono::steady_clock::now() + st.options.forwarded_answer_within;
  cmd.route = false;
  cmd.memo_ok = w.idempotency_key.empty() || w.internal_key;
  self->send(st.registry, purchase_atom::value, std::move(cmd));
  return rp;
}

std::vector<domain::member_view> view(cluster_actor* self) {
  std::vector<domain::member_view> out{{self->state.self_name, "UP", true}};
  for (const auto& [name, m] : self->state.members)
    out.push_back({name, m.up ? "UP" : "DOWN", false});
  return out;
}

/// Detached: connects to one seed (blocking), hands the node over, reconnects when it goes.
caf::behavior seed_watcher(caf::event_based_actor* self, caf::actor cluster, std::string seed) {
  self->set_down_handler(
      [=](caf::down_msg&) { self->delayed_send(self, reconnect_period, tick_atom::value); });
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        const auto colon = seed.rfind(':');
        auto remote = self->system().middleman().remote_actor(
            seed.substr(0, colon), static_cast<std::uint16_t>(std::stoi(seed.substr(colon + 1))));
        if (!remote) {
          self->delayed_send(self, reconnect_period, tick_atom::value);
          return;
        }
        self->monitor(*remote);
        self->send(cluster, hello_atom::value, *remote);
      },
  };
}

caf::behavior cluster_behavior(cluster_actor* self, caf::actor cache, caf::actor registry,
                               cluster_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.self_name = st.options.self_name();
  st.cache = std::move(cache);
  st.registry = std::move(registry);
  self->set_down_handler([=](caf::down_msg& down) { on_down(self, down); });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& w : self->state.watchers)
      self->send_exit(w, msg.reason);
    self->quit(msg.reason);
  });
  publish_members(self);
  if (st.options.enabled) {
    for (const auto& seed : st.options.seeds)
      if (seed != st.self_name)
        st.watchers.push_back(self->system().spawn<caf::detached>(
            seed_watcher, caf::actor_cast<caf::actor>(self), seed));
    self->delayed_send(self, gossip_period, gossip_atom::value);
  }
  return {
      [=](hello_atom, caf::actor& seed) {
        self->send(seed, join_atom::value, self->state.self_name,
                   caf::actor_cast<caf::actor>(self));
      },
      [=](join_atom, std::string& name, caf::actor& node) { on_join(self, name, node); },
      [=](members_atom, std::vector<member_entry>& list) { on_members(self, list); },
      [=](gossip_atom) {
        for (const auto& [name, m] : self->state.members)
          if (m.up)
            self->send(m.node, members_atom::value, live_entries(self));
        self->delayed_send(self, gossip_period, gossip_atom::value);
      },
      [=](purchase_atom, wire_purchase& w) { return serve_forwarded(self, w); },
      [=](deliver_atom, std::uint64_t id, wire_purchase_result& r) {
        auto it = self->state.forwarded.find(id);
        if (it == self->state.forwarded.end())
          return;
        it->second.deliver(std::move(r));
        self->state.forwarded.erase(it);
      },
      [=](invalidate_atom, invalidation& inv) { broadcast_invalidation(self, inv); },
      [=](invalidate_atom, std::int64_t event_id) {
        auto rp = self->make_response_promise();
        invalidate_locally(self, event_id, [rp]() mutable { rp.deliver(invalidate_atom::value); });
        return rp;
      },
      [=](view_atom, member_reply& reply) { reply(view(self)); },
  };
}

} // namespace

std::string cluster_options::self_name() const {
  return host + ":" + std::to_string(port);
}

caf::actor spawn_cluster_node(caf::actor_system& sys, caf::actor cache, caf::actor registry,
                              const cluster_options& options) {
  auto node = sys.spawn(cluster_behavior, std::move(cache), std::move(registry), options);
  if (options.enabled && options.port > 0) {
    auto port =
        sys.middleman().publish(node, static_cast<std::uint16_t>(options.port),
                                options.bind == "0.0.0.0" ? nullptr : options.bind.c_str(), true);
    if (!port) {
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
      throw std::runtime_error("cannot open cluster.port " + std::to_string(options.port) + ": " +
                               sys.render(port.error()));
    }
    log::info("cluster.listening", {{"node", options.self_name()}});
  }
  return node;
}

} // namespace eventhub::actors
