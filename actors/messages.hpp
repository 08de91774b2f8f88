// Atoms and message types of the actor layer, in one place. Included only by actors/*.cpp:
// CAF headers stay out of the rest of the build.
//
// Local messages carry reply callbacks (std::function) and so can never cross the middleman;
// CAF_ALLOW_UNSAFE_MESSAGE_TYPE marks them. Messages that do cross it (cluster.cpp) have an
// inspect() and are registered in system_config.cpp on every node.
#pragma once

#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/result.hpp"
#include "persistence/purchase_repository.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace eventhub::persistence {
class session;
}

namespace eventhub::actors {

using deadline = std::chrono::steady_clock::time_point;

inline bool expired(deadline d) {
  return std::chrono::steady_clock::now() >= d;
}

// db pool
using job_atom = caf::atom_constant<caf::atom("job")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
// events and purchases
using purchase_atom = caf::atom_constant<caf::atom("purchase")>;
using batch_atom = caf::atom_constant<caf::atom("batch")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
// listing cache
using list_atom = caf::atom_constant<caf::atom("list")>;
using filled_atom = caf::atom_constant<caf::atom("filled")>;
using invalidate_atom = caf::atom_constant<caf::atom("invalidate")>;
// notifier
using notify_atom = caf::atom_constant<caf::atom("notify")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using posted_atom = caf::atom_constant<caf::atom("posted")>;
// credentials
using hash_atom = caf::atom_constant<caf::atom("hash")>;
using verify_atom = caf::atom_constant<caf::atom("verify")>;
// cluster
using members_atom = caf::atom_constant<caf::atom("members")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using view_atom = caf::atom_constant<caf::atom("view")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using gossip_atom = caf::atom_constant<caf::atom("gossip")>;

/// Work for one DB worker: `run` gets the worker's session; `fail` is called instead when the
/// job cannot run (queue full, deadline passed, database down).
struct db_job {
  std::function<void(persistence::session&)> run;
  std::function<void(const domain::error&)> fail;
  deadline due;
};

struct purchase_command {
  domain::purchase_request request;
  domain::reply<domain::purchase_outcome> reply;
  deadline due;
  /// False once forwarded to the owner, or when served here for an unreachable owner: a command
  /// is routed to another node at most once.
  bool route = true;
  /// Whether the event actor may refuse it from its memo; never for a possible replay of a key.
  bool memo_ok = true;
};

struct listing_request {
  domain::event_query query;
  domain::reply<domain::rendered_page> reply;
};

struct listing_fill {
  std::uint64_t fill_id = 0;
  std::optional<domain::rendered_page> page; // empty on failure
  domain::error failure;
};

/// The answer of a batch transaction, back at its event actor.
struct batch_result {
  std::uint64_t batch_id = 0;
  std::optional<persistence::purchases::batch_outcome> outcome; // empty on failure
  domain::error failure;
};

struct confirmation_list {
  std::vector<domain::confirmation> items;
  bool from_sweep = false; // claimed by the sweeper (already counted as an attempt)
};

struct hash_request {
  std::string password;
  domain::reply<std::string> reply;
  deadline due;
};

struct verify_request {
  std::string encoded_hash;
  std::string password;
  domain::reply<bool> reply;
  deadline due;
};

/// An admin write changed `event_id` (0: unknown, drop everything); `done` runs once every
/// node's listing cache and event actor have seen it (or timed out).
struct invalidation {
  std::int64_t event_id = 0;
  std::function<void()> done;
};

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::db_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::purchase_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::listing_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::listing_fill)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::batch_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::confirmation_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::hash_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::verify_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::invalidation)

namespace eventhub::actors {
using member_reply = std::function<void(std::vector<domain::member_view>)>;
}
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::member_reply)
