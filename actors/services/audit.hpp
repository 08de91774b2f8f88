// The audit log over the API (ADMIN), and the upkeep of its monthly partitions. The audit actor
// owns nothing: entries are written by the transactions of the changes they describe
// (persistence/audit_repository.hpp), so no actor stands between a change and its entry.
//
// Protocol (audit_actor), each message carrying the caller's reply:
//   (list_atom, audit_query, reply<page<audit_entry>>)   newest first
//   (partitions_atom)   its own timer (hourly): make the partitions of this month and the three
//        after it, if missing (one node at a time: an advisory lock in audit_ensure_partitions)
#pragma once

#include "actors/db_pool.hpp"
#include "actors/options.hpp"
#include "actors/services/boundary.hpp"
#include "domain/services.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>

namespace eventhub::actors {

using audit_actor =
    caf::typed_actor<caf::reacts_to<list_atom, domain::audit_query,
                                    domain::reply<domain::page<domain::audit_entry>>>,
                     caf::reacts_to<partitions_atom>>;

audit_actor spawn_audit(caf::actor_system& sys, db_pool_actor db_pool, audit_options options);

/// domain::audit_service as messages to an audit actor.
class audit_service final : public domain::audit_service {
 public:
  explicit audit_service(audit_actor actor) : actor_(std::move(actor)) {}

  void list_audit(domain::audit_query query,
                  domain::reply<domain::page<domain::audit_entry>> done) override;

 private:
  audit_actor actor_;
};

} // namespace eventhub::actors
