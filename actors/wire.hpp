// Messages that cross the middleman between nodes: plain fields with inspect(), registered on
// every node in system_config.cpp. Included only by actors/*.cpp.
#pragma once

#include "actors/atoms.hpp"
#include "domain/commands.hpp"
#include "domain/result.hpp"

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace eventhub::actors {

/// A live member: its name ("host:port") and its cluster node actor. The handle is untyped
/// because the node's own interface names it (a type cannot contain itself); receivers
/// actor_cast it to the part of cluster_node_actor they use (owner_node below).
struct member_entry {
  std::string name;
  caf::actor node;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, member_entry& x) {
  return f(caf::meta::type_name("eventhub::member_entry"), x.name, x.node);
}

/// A command forwarded to the event's owner (a purchase, or a hold, confirm, release,
/// cancellation, waitlist join or leave).
struct wire_purchase {
  std::int64_t event_id = 0;
  std::int64_t participant_id = 0;
  std::int32_t quantity = 0;
  std::string idempotency_key; // empty: none
  bool internal_key = false;   // added by the forwarding node: cannot be a replay on first try
  std::string request_id;
  std::int64_t ticket_type_id = 0; // 0: none named
  std::int32_t kind = 0;           // domain::order_kind
  std::int64_t hold_id = 0;
  std::int64_t hold_ttl_ms = 0;
  std::int64_t purchase_id = 0; // cancel
  std::int64_t cancel_cutoff_ms = 0;
  std::int64_t entry_id = 0; // leave
  std::int64_t actor_id = 0; // for the audit log, with the client's address
  std::string client_address;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, wire_purchase& x) {
  return f(caf::meta::type_name("eventhub::wire_purchase"), x.event_id, x.participant_id,
           x.quantity, x.idempotency_key, x.internal_key, x.request_id, x.ticket_type_id, x.kind,
           x.hold_id, x.hold_ttl_ms, x.purchase_id, x.cancel_cutoff_ms, x.entry_id, x.actor_id,
           x.client_address);
}

/// A hold in an owner's answer.
struct wire_hold {
  std::int64_t id = 0, event_id = 0, ticket_type_id = 0, participant_id = 0;
  std::int32_t quantity = 0;
  std::int64_t unit_price_cents = 0;
  std::string currency;
  std::int32_t status = 0; // domain::hold_status
  std::int64_t created_at_us = 0, expires_at_us = 0;
  std::int64_t purchase_id = 0; // 0: none
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, wire_hold& x) {
  return f(caf::meta::type_name("eventhub::wire_hold"), x.id, x.event_id, x.ticket_type_id,
           x.participant_id, x.quantity, x.unit_price_cents, x.currency, x.status, x.created_at_us,
           x.expires_at_us, x.purchase_id);
}

/// A waitlist entry in an owner's answer.
struct wire_entry {
  std::int64_t id = 0, event_id = 0, ticket_type_id = 0, participant_id = 0;
  std::int32_t quantity = 0;
  std::int32_t status = 0;   // domain::waitlist_status
  std::int64_t position = 0; // 0: none
  std::int64_t hold_id = 0;  // 0: none
  std::int64_t offer_expires_at_us = 0;
  bool offer_expires = false; // whether offer_expires_at_us is set
  std::int64_t created_at_us = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, wire_entry& x) {
  return f(caf::meta::type_name("eventhub::wire_entry"), x.id, x.event_id, x.ticket_type_id,
           x.participant_id, x.quantity, x.status, x.position, x.hold_id, x.offer_expires_at_us,
           x.offer_expires, x.created_at_us);
}

/// The owner's answer: a purchase (maybe replayed) or a typed error.
struct wire_purchase_result {
  bool ok = false;
  bool replayed = false;
  std::int64_t purchase_id = 0, event_id = 0, participant_id = 0, purchased_at_us = 0;
  std::int32_t quantity = 0;
  std::int32_t error_code = 0;
  std::string detail;
  std::int64_t tickets_available = -1; // -1: absent
  std::int32_t retry_after = -1;       // -1: absent
  std::int64_t ticket_type_id = 0, unit_price_cents = 0;
  std::string currency;
  std::int64_t tickets_allowed = -1;                     // -1: absent
  std::vector<std::string> error_fields, error_messages; // parallel: the 400's errors[]
  std::vector<wire_hold> hold;                           // none or one
  std::int32_t cancelled_quantity = 0;
  std::int64_t refunded_cents = 0;
  std::vector<wire_entry> entry; // none or one
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_purchase_result& x) {
  return f(caf::meta::type_name("eventhub::wire_purchase_result"), x.ok, x.replayed, x.purchase_id,
           x.event_id, x.participant_id, x.purchased_at_us, x.quantity, x.error_code, x.detail,
           x.tickets_available, x.retry_after, x.ticket_type_id, x.unit_price_cents, x.currency,
           x.tickets_allowed, x.error_fields, x.error_messages, x.hold, x.cancelled_quantity,
           x.refunded_cents, x.entry);
}

/// A member as the owner of events: the part of the cluster node's protocol other nodes'
/// registries use.
using owner_node =
    caf::typed_actor<caf::replies_to<forward_atom, wire_purchase>::with<wire_purchase_result>>;

wire_purchase to_wire(const domain::purchase_request& r, bool internal_key);
domain::purchase_request from_wire(const wire_purchase& w);
wire_purchase_result to_wire(const domain::result<domain::purchase_outcome>& r);
domain::result<domain::purchase_outcome> from_wire(const wire_purchase_result& w);

} // namespace eventhub::actors
