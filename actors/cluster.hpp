// Cluster membership and broadcasts (CAF's middleman). Without cluster settings the node is a
// cluster of one: invalidations reach only the local listing cache and event registry.
//
// Protocol (cluster_node_actor); the first four cross the middleman between nodes:
//   (join_atom, name, node)                  a member announces itself (or gossip of one)
//   (roster_atom, members)                   a member's list of live members (anti-entropy)
//   (forward_atom, wire_purchase) -> wire_purchase_result
//                                            sell this purchase: this node owns its event
//   (event_changed_atom, event_id) -> invalidated_atom
//                                            an admin wrote on another node: invalidate here
//   (broadcast_atom, event_id) -> invalidated_atom
//                                            an admin wrote here: answered once every live
//                                            node's cache and registry saw it (or timed out)
//   (view_atom) -> member_views              the members as health reports them
//   (seed_found_atom, node)                  a seed watcher connected to a seed
//   (gossip_atom)                            internal: the anti-entropy timer
// It tells the registry the live members (members_atom) whenever they change.
#pragma once

#include "actors/event_registry.hpp"
#include "actors/listing_cache.hpp"
#include "actors/options.hpp"
#include "actors/wire.hpp"
#include "domain/model.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <string>
#include <vector>

namespace eventhub::actors {

struct member_views {
  std::vector<domain::member_view> items;
};

/// What this node's services ask of the cluster node.
using broadcaster =
    caf::typed_actor<caf::replies_to<broadcast_atom, std::int64_t>::with<invalidated_atom>,
                     caf::replies_to<view_atom>::with<member_views>>;

using cluster_node_actor =
    broadcaster::extend<caf::reacts_to<join_atom, std::string, caf::actor>,
                        caf::reacts_to<roster_atom, std::vector<member_entry>>,
                        caf::replies_to<forward_atom, wire_purchase>::with<wire_purchase_result>,
                        caf::replies_to<event_changed_atom, std::int64_t>::with<invalidated_atom>,
                        caf::reacts_to<seed_found_atom, caf::actor>, caf::reacts_to<gossip_atom>>;

/// The registry as the cluster node sees it.
using cluster_registry =
    caf::typed_actor<caf::replies_to<purchase_atom, purchase_command>::with<purchase_answer>,
                     caf::reacts_to<event_changed_atom, std::int64_t>,
                     caf::reacts_to<members_atom, std::string, std::vector<member_entry>>>;

/// Spawns the node actor, publishes it on the cluster port and starts joining the seeds.
/// Throws std::runtime_error when the cluster port cannot be opened.
cluster_node_actor spawn_cluster_node(caf::actor_system& sys, invalidation_handler cache,
                                      cluster_registry registry, const cluster_options& options);

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::member_views)
