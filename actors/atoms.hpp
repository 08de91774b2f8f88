// Every atom of the actor layer, each with exactly one meaning. A new message gets a new atom:
// reusing one for something else would let a handler match a message it was not written for.
// Included only by actors/*.cpp, actor headers and tests/actors.
#pragma once

#include <caf/atom.hpp>

namespace eventhub::actors {

// DB pool
using run_atom = caf::atom_constant<caf::atom("run")>;             // run this job on a connection
using worker_idle_atom = caf::atom_constant<caf::atom("wrkidle")>; // a worker finished its job

// purchases: services -> registry -> event actor
using purchase_atom = caf::atom_constant<caf::atom("purchase")>;      // sell (or refuse) this
using event_changed_atom = caf::atom_constant<caf::atom("evchange")>; // an admin wrote an event
using stock_stale_atom = caf::atom_constant<caf::atom("stkstale")>;   // forget the memo of stock
using idle_atom = caf::atom_constant<caf::atom("idle")>;              // event actor: I am idle
using idle_check_atom = caf::atom_constant<caf::atom("idlechk")>;     // event actor's own timer
using passivate_atom = caf::atom_constant<caf::atom("passiv")>;       // registry: stop if idle
using expiry_tick_atom = caf::atom_constant<caf::atom("expirytk")>;   // event actor: a hold is due
using hold_sweep_atom = caf::atom_constant<caf::atom("hldsweep")>;    // sweeper: expire stray holds
using forget_keys_atom = caf::atom_constant<caf::atom("fgtkeys")>;    // drop old internal keys
using members_atom = caf::atom_constant<caf::atom("members")>;        // the live cluster members

// listing cache
using list_atom = caf::atom_constant<caf::atom("list")>;             // a page that missed
using refresh_ahead_atom = caf::atom_constant<caf::atom("refresh")>; // a page past half its age
using invalidate_atom = caf::atom_constant<caf::atom("invalid")>;    // drop every page
using invalidated_atom = caf::atom_constant<caf::atom("invalidd")>;  // the drop is done
using publish_atom = caf::atom_constant<caf::atom("publish")>;       // cache's own snapshot timer

// notifier
using notify_atom = caf::atom_constant<caf::atom("notify")>;        // deliver these confirmations
using post_atom = caf::atom_constant<caf::atom("post")>;            // poster: make this attempt
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;          // claim due outbox rows now
using sweep_tick_atom = caf::atom_constant<caf::atom("swptick")>;   // notifier's sweep timer
using forget_atom = caf::atom_constant<caf::atom("forget")>;        // fan delivered outbox rows out
using endpoints_atom = caf::atom_constant<caf::atom("endpts")>;     // endpoints changed: reload
using wake_atom = caf::atom_constant<caf::atom("wake")>;            // deliverer: messages are due
using deliver_tick_atom = caf::atom_constant<caf::atom("dlvtick")>; // deliverer's own timer
using flush_atom = caf::atom_constant<caf::atom("flush")>;          // deliverer: store outcomes

// credential workers
using hash_atom = caf::atom_constant<caf::atom("hash")>;     // argon2id-hash a password
using verify_atom = caf::atom_constant<caf::atom("verify")>; // check a password against a hash

// cluster
using seed_found_atom = caf::atom_constant<caf::atom("seedfnd")>; // a seed watcher connected
using join_atom = caf::atom_constant<caf::atom("join")>;          // a member announces itself
using roster_atom = caf::atom_constant<caf::atom("roster")>;      // a member's list of members
using gossip_atom = caf::atom_constant<caf::atom("gossip")>;      // node's anti-entropy timer
using forward_atom = caf::atom_constant<caf::atom("forward")>;    // sell this as the owner
using broadcast_atom = caf::atom_constant<caf::atom("bcast")>;    // tell every node of a write
using view_atom = caf::atom_constant<caf::atom("view")>;          // members as health shows them
using reconnect_atom = caf::atom_constant<caf::atom("reconn")>;   // seed watcher's retry timer

// services (the boundary with the HTTP layer)
using register_atom = caf::atom_constant<caf::atom("register")>;
using login_atom = caf::atom_constant<caf::atom("login")>;
using find_atom = caf::atom_constant<caf::atom("find")>;
using list_all_atom = caf::atom_constant<caf::atom("listall")>;
using create_atom = caf::atom_constant<caf::atom("create")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using delete_atom = caf::atom_constant<caf::atom("delete")>;
using attendees_atom = caf::atom_constant<caf::atom("attend")>;
using purchases_of_atom = caf::atom_constant<caf::atom("purchof")>;
using settle_atom = caf::atom_constant<caf::atom("settle")>; // confirm or release a hold
using cancel_atom = caf::atom_constant<caf::atom("cancel")>; // cancel a purchase's tickets
using holds_of_atom = caf::atom_constant<caf::atom("holdsof")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;            // leave a waitlist entry
using entries_of_atom = caf::atom_constant<caf::atom("entrof")>;      // a participant's entries
using event_entries_atom = caf::atom_constant<caf::atom("evtentr")>;  // an event's entries
using tickets_of_atom = caf::atom_constant<caf::atom("tcktsof")>;     // a purchase's tickets
using my_tickets_atom = caf::atom_constant<caf::atom("mytckts")>;     // a participant's tickets
using checkin_key_atom = caf::atom_constant<caf::atom("chkkey")>;     // an event's public key
using check_in_atom = caf::atom_constant<caf::atom("checkin")>;       // scans at the door
using checkin_stats_atom = caf::atom_constant<caf::atom("chkstats")>; // check-in figures
using deliveries_atom = caf::atom_constant<caf::atom("delivrs")>;     // a webhook's attempts
using health_atom = caf::atom_constant<caf::atom("health")>;
using partitions_atom = caf::atom_constant<caf::atom("auditprt")>; // audit: partitions ahead
using checked_atom = caf::atom_constant<caf::atom("checked")>;     // health: a check finished

// retention
using retention_atom = caf::atom_constant<caf::atom("retention")>; // its own timer: run a round

} // namespace eventhub::actors
