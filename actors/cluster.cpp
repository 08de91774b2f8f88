// The cluster node actor. Owns the member list of this node's view (name -> node actor, up or
// down); only its handlers touch it.
//
// Membership: a node joins by sending (join, name, actor) to a seed; whoever learns of a new
// member monitors it, gossips the join to the others and answers with its member list; every
// couple of seconds each node sends its list to the others (anti-entropy). Loss is detected by
// monitors: a down message arrives when the connection drops, or when heartbeats stop
// (middleman.heartbeat-interval / connection-timeout). Seeds are watched by detached actors that
// reconnect whenever their seed goes away, so a restarted node rejoins and is rejoined.
//
// Broadcasts: an admin write is answered (a response message to the asking service) once every
// live member's listing cache and event registry acknowledged the invalidation (or timed out).
#include "actors/cluster.hpp"

#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
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
  invalidation_handler cache;
  cluster_registry registry;
  std::map<std::string, member> members; // other nodes
  std::vector<caf::actor> watchers;
};

using cluster_pointer = cluster_node_actor::stateful_pointer<cluster_state>;

/// Other nodes address this one through its untyped handle (member_entry, join).
caf::actor untyped(cluster_pointer self) {
  return caf::actor_cast<caf::actor>(self);
}

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

metrics::counter& failed_connects() {
  static auto& c = metrics::registry::global().get_counter(
      "eventhub_cluster_connect_failures_total",
      "Attempts to reach a seed that failed (down, unreachable, or refused: a TLS handshake "
      "without a certificate of the cluster CA)");
  return c;
}

std::vector<member_entry> live_entries(cluster_pointer self) {
  std::vector<member_entry> out{{self->state.self_name, untyped(self)}};
  for (const auto& [name, m] : self->state.members)
    if (m.up)
      out.push_back({name, m.node});
  return out;
}

void publish_members(cluster_pointer self) {
  auto entries = live_entries(self);
  member_gauge().set(static_cast<double>(entries.size()));
  self->send(self->state.registry, members_atom::value, self->state.self_name, std::move(entries));
}

/// A member's node actor as this node talks to it.
cluster_node_actor typed(const caf::actor& node) {
  return caf::actor_cast<cluster_node_actor>(node);
}

/// True when the current message comes from `node` itself, not from a member speaking of it.
bool first_hand(cluster_pointer self, const caf::actor& node) {
  return caf::actor_cast<caf::actor_addr>(self->current_sender()) == node.address();
}

void announce_to(cluster_pointer self, const caf::actor& node) {
  self->send(typed(node), join_atom::value, self->state.self_name, untyped(self));
}

/// Adds or refreshes a member; true if it was new (or came back, or restarted).
/// A member this node saw go down comes back only on its own word: hearsay from a member that
/// has not noticed yet (gossip) would otherwise revive it, and the two could keep a stopped
/// node alive for each other. Hearsay about it gets a join sent to it instead; if it is alive,
/// its answer is first-hand.
bool learn(cluster_pointer self, const std::string& name, const caf::actor& node) {
  auto& st = self->state;
  if (name == st.self_name || !node)
    return false;
  auto& m = st.members[name];
  if (m.up && m.node == node)
    return false;
  if (!m.up && m.went_down == node.address() && !first_hand(self, node)) {
    announce_to(self, node);
    return false;
  }
  m.node = node;
  m.up = true;
  self->monitor(node);
  log::info("cluster.member_up", {{"node", name}});
  publish_members(self);
  return true;
}

void on_join(cluster_pointer self, const std::string& name, const caf::actor& node) {
  auto& st = self->state;
  if (learn(self, name, node))
    for (const auto& [other, m] : st.members)
      if (m.up && other != name)
        self->send(typed(m.node), join_atom::value, name, node); // gossip
  if (name != st.self_name && node)
    self->send(typed(node), roster_atom::value, live_entries(self));
}

void on_roster(cluster_pointer self, const std::vector<member_entry>& list) {
  for (const auto& e : list)
    if (learn(self, e.name, e.node))
      announce_to(self, e.node);
}

void on_down(cluster_pointer self, const caf::down_msg& down) {
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

/// Counts down the acknowledgements of one broadcast; answers its promise at zero.
struct pending_acks {
  int remaining = 0;
  caf::typed_response_promise<invalidated_atom> promise;

  void ack() {
    if (--remaining == 0)
      promise.deliver(invalidated_atom::value);
  }
};

/// Invalidates this node's event actor and cache, then acknowledges to `acks`.
void invalidate_locally(cluster_pointer self, std::int64_t event_id,
                        std::shared_ptr<pending_acks> acks) {
  auto& st = self->state;
  if (event_id > 0)
    self->send(st.registry, event_changed_atom::value, event_id);
  self->request(st.cache, st.options.broadcast_timeout, invalidate_atom::value)
      .then([acks](invalidated_atom) { acks->ack(); },
            [acks](caf::error&) {
              log::warn("cluster.invalidate_timeout", {{"node", "self"}});
              acks->ack();
            });
}

/// The acknowledgements the current request waits for: this node's, plus `others`.
std::shared_ptr<pending_acks> expect_acks(cluster_pointer self, int others) {
  auto acks = std::make_shared<pending_acks>();
  acks->promise = self->make_response_promise<invalidated_atom>();
  acks->remaining = 1 + others;
  return acks;
}

caf::result<invalidated_atom> broadcast(cluster_pointer self, std::int64_t event_id) {
  auto& st = self->state;
  int live = 0;
  for (const auto& [name, m] : st.members)
    live += m.up ? 1 : 0;
  auto acks = expect_acks(self, live);
  auto promise = acks->promise;
  invalidate_locally(self, event_id, acks);
  for (const auto& [name, m] : st.members) {
    if (!m.up)
      continue;
    self->request(typed(m.node), st.options.broadcast_timeout, event_changed_atom::value, event_id)
        .then([acks](invalidated_atom) { acks->ack(); },
              [acks, name = name](caf::error&) {
                log::warn("cluster.invalidate_timeout", {{"node", name}});
                acks->ack();
              });
  }
  return promise;
}

caf::result<invalidated_atom> on_remote_change(cluster_pointer self, std::int64_t event_id) {
  auto acks = expect_acks(self, 0);
  auto promise = acks->promise;
  invalidate_locally(self, event_id, acks);
  return promise;
}

/// A purchase another node forwarded because this node owns the event: serve it here.
caf::result<wire_purchase_result> serve_forwarded(cluster_pointer self, const wire_purchase& w) {
  auto& st = self->state;
  served_for_others().inc();
  auto rp = self->make_response_promise<wire_purchase_result>();
  purchase_command cmd;
  cmd.request = from_wire(w);
  cmd.due = std::chrono::steady_clock::now() + st.options.forwarded_answer_within;
  cmd.route = false;
  cmd.memo_ok = w.idempotency_key.empty() || w.internal_key;
  self->request(st.registry, st.options.forwarded_answer_within, purchase_atom::value,
                std::move(cmd))
      .then([rp](purchase_answer& a) mutable { rp.deliver(to_wire(a)); },
            [rp](caf::error&) mutable {
              rp.deliver(to_wire(purchase_answer(domain::unavailable("The owner timed out."))));
            });
  return rp;
}

member_views view(cluster_pointer self) {
  member_views out{{{self->state.self_name, "UP", true}}};
  for (const auto& [name, m] : self->state.members)
    out.items.push_back({name, m.up ? "UP" : "DOWN", false});
  return out;
}

/// The node actor at a seed, over TLS when the cluster has certificates. Blocking.
/// Published and joined untyped (see spawn_cluster_node); typed by actor_cast on use.
caf::expected<caf::actor> connect_to(caf::actor_system& sys, const std::string& seed, bool tls) {
  const auto colon = seed.rfind(':');
  auto host = seed.substr(0, colon);
  auto port = static_cast<std::uint16_t>(std::stoi(seed.substr(colon + 1)));
  if (tls)
    return caf::openssl::remote_actor(sys, std::move(host), port);
  return sys.middleman().remote_actor(std::move(host), port);
}

/// A seed watcher: (reconnect_atom) tries its seed. Detached: it connects (blocking), hands the
/// node over, and reconnects whenever the seed goes away. Every failure is counted; a seed still
/// failing after a few attempts is logged once (members starting together miss each other at
/// first; a refused TLS handshake looks like this too).
using seed_watcher_actor = caf::typed_actor<caf::reacts_to<reconnect_atom>>;
using seed_listener = caf::typed_actor<caf::reacts_to<seed_found_atom, caf::actor>>;

struct seed_watch {
  int failures = 0; // in a row
};

constexpr int failures_worth_a_warning = 3;

seed_watcher_actor::behavior_type
seed_watcher(seed_watcher_actor::stateful_pointer<seed_watch> self, seed_listener cluster,
             std::string seed, bool tls) {
  self->set_down_handler(
      [=](caf::down_msg&) { self->delayed_send(self, reconnect_period, reconnect_atom::value); });
  self->send(self, reconnect_atom::value);
  return {
      [=](reconnect_atom) {
        auto remote = connect_to(self->system(), seed, tls);
        if (!remote) {
          failed_connects().inc();
          if (++self->state.failures == failures_worth_a_warning)
            log::warn("cluster.seed_unreachable",
                      {{"seed", seed}, {"reason", self->system().render(remote.error())}});
          self->delayed_send(self, reconnect_period, reconnect_atom::value);
          return;
        }
        self->state.failures = 0;
        self->monitor(*remote);
        self->send(cluster, seed_found_atom::value, *remote);
      },
  };
}

/// The seeds this node connects to. Each pair of members keeps one connection: when both dial,
/// the two TLS handshakes finish close together, BASP keeps one connection per node and each
/// side may drop the other's, so the pair flaps down and up. A node listed in its own seeds
/// shares the list with the others, so of two listed members only the lesser name dials; a node
/// not in the list (joining from outside it) dials all of them.
std::vector<std::string> seeds_to_dial(const std::vector<std::string>& seeds,
                                       const std::string& self_name) {
  const bool shared_list = std::find(seeds.begin(), seeds.end(), self_name) != seeds.end();
  std::vector<std::string> out;
  for (const auto& seed : seeds)
    if (seed != self_name && !(shared_list && seed < self_name))
      out.push_back(seed);
  return out;
}

cluster_node_actor::behavior_type cluster_behavior(cluster_pointer self, invalidation_handler cache,
                                                   cluster_registry registry,
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
    for (const auto& seed : seeds_to_dial(st.options.seeds, st.self_name))
      st.watchers.push_back(caf::actor_cast<caf::actor>(self->system().spawn<caf::detached>(
          seed_watcher, seed_listener{self}, seed, st.options.tls)));
    self->delayed_send(self, gossip_period, gossip_atom::value);
  }
  return {
      [=](seed_found_atom, caf::actor& seed) { announce_to(self, seed); },
      [=](join_atom, std::string& name, caf::actor& node) { on_join(self, name, node); },
      [=](roster_atom, std::vector<member_entry>& list) { on_roster(self, list); },
      [=](gossip_atom) {
        for (const auto& [name, m] : self->state.members)
          if (m.up)
            self->send(typed(m.node), roster_atom::value, live_entries(self));
        self->delayed_send(self, gossip_period, gossip_atom::value);
      },
      [=](forward_atom, wire_purchase& w) { return serve_forwarded(self, w); },
      [=](broadcast_atom, std::int64_t event_id) { return broadcast(self, event_id); },
      [=](event_changed_atom, std::int64_t event_id) { return on_remote_change(self, event_id); },
      [=](view_atom) { return view(self); },
  };
}

/// Opens the cluster port: TLS only when the cluster has certificates, so that no plain BASP
/// listener exists beside it. Published untyped: a typed publish makes remote_actor compare
/// interface signatures, which name local-only message types too; members talk through
/// actor_cast handles instead.
caf::expected<std::uint16_t> publish(caf::actor_system& sys, const cluster_node_actor& node,
                                     const cluster_options& options) {
  const auto handle = caf::actor_cast<caf::actor>(node);
  const auto port = static_cast<std::uint16_t>(options.port);
  const char* bind = options.bind == "0.0.0.0" ? nullptr : options.bind.c_str();
  if (options.tls)
    return caf::openssl::publish(handle, port, bind, true);
  return sys.middleman().publish(handle, port, bind, true);
}

} // namespace

cluster_node_actor spawn_cluster_node(caf::actor_system& sys, invalidation_handler cache,
                                      cluster_registry registry, const cluster_options& options) {
  auto node = sys.spawn(cluster_behavior, std::move(cache), std::move(registry), options);
  if (options.enabled && options.port > 0) {
    auto port = publish(sys, node, options);
    if (!port) {
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
      throw std::runtime_error("cannot open cluster.port " + std::to_string(options.port) + ": " +
                               sys.render(port.error()));
    }
    log::info("cluster.listening",
              {{"node", options.self_name()}, {"tls", options.tls ? "mutual" : "off"}});
  }
  return node;
}

} // namespace eventhub::actors
