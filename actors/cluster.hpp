// Cluster membership and broadcasts (CAF's middleman). Without cluster settings the node is a
// cluster of one: invalidations reach only the local listing cache and event registry.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace eventhub::actors {

struct cluster_options {
  bool enabled = false;
  std::string host = "127.0.0.1"; // how others reach this node
  int port = 0;                   // 0: not accepting members
  std::string bind = "0.0.0.0";   // where the cluster port listens
  std::vector<std::string> seeds; // host:port of members to join
  std::chrono::milliseconds broadcast_timeout{3000};
  /// How long a forwarding node waits for this owner (cluster.forward-timeout, the same on every
  /// node): a forwarded purchase not decided within it is not sold here (the sender sells it).
  std::chrono::milliseconds forwarded_answer_within{3000};

  std::string self_name() const;
};

/// Spawns the node actor, publishes it on the cluster port and starts joining the seeds.
/// It tells `registry` the live members (`members_atom, self, entries`) whenever they change.
/// Throws std::runtime_error when the cluster port cannot be opened.
caf::actor spawn_cluster_node(caf::actor_system& sys, caf::actor cache, caf::actor registry,
                              const cluster_options& options);

} // namespace eventhub::actors
