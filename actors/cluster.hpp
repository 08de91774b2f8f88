// Cluster membership and broadcasts. Without cluster settings the node is a cluster of one:
// invalidations reach only the local listing cache and event registry.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace eventhub::actors {

struct cluster_options {
  std::string host = "127.0.0.1"; // how others reach this node
  int port = 0;                   // 0: not accepting members
  std::vector<std::string> seeds; // host:port of members to join
  std::chrono::milliseconds forward_timeout{3000};
  std::chrono::milliseconds broadcast_timeout{3000};
};

/// Send it `invalidate_atom, invalidation` (after an admin write) and `view_atom, member_reply`.
caf::actor spawn_cluster_node(caf::actor_system& sys, caf::actor cache, caf::actor registry,
                              const cluster_options& options);

} // namespace eventhub::actors
