// Validated inputs of service operations, built by the HTTP layer after decoding.
#pragma once

#include "domain/model.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::domain {

struct page_request {
  int page = 0;
  int size = 20;

  std::int64_t offset() const { return static_cast<std::int64_t>(page) * size; }
};

/// Who made a change and from where, for its audit entry: the caller (none: the service itself),
/// X-Request-Id and the client's address. Built by the HTTP layer for every call that writes.
struct origin {
  std::optional<std::int64_t> actor_id;
  std::string request_id;
  std::string client_address;
};

/// GET /api/events query; equal queries share one cached page.
struct event_query {
  page_request paging;
  std::optional<std::string> text; // q: substring of name or venue, case-insensitive
  std::optional<timestamp> from;   // from <= startsAt
  std::optional<timestamp> to;     // startsAt < to

  std::string cache_key() const;
};

/// A field a PUT may leave out: nullopt keeps the stored value, an empty inner value clears it.
template <class T> using change = std::optional<std::optional<T>>;

/// A ticket type as POSTed or PUT; `currency` is already defaulted.
struct ticket_type_draft {
  std::optional<std::int64_t> id; // in an event's PUT: the type it updates (none: a new type)
  std::string name;
  std::int64_t price_cents = 0;
  std::string currency;
  std::int64_t quota = 0;
};

struct event_draft {
  std::string name;
  std::optional<std::string> description;
  std::string venue;
  timestamp starts_at;
  std::optional<timestamp> ends_at;
  std::int64_t capacity = 0;
  change<timestamp> sales_start_at; // on POST, nullopt and an empty value both mean none
  change<std::int64_t> max_per_buyer;
  std::optional<bool> admission_queue;
  /// nullopt: on POST one "General admission" type, on PUT the types stay as they are.
  std::optional<std::vector<ticket_type_draft>> ticket_types;
  std::string default_currency = "EUR"; // of the implicit "General admission" type
};

struct new_participant {
  std::string email; // already lower-cased
  std::string password;
  std::string full_name;
  domain::role role = role::user;
};

struct login_request {
  std::string email; // already lower-cased
  std::string password;
  std::string client_address;
  std::string request_id;
};

/// What a command asks of an event's inventory. Every kind goes through the event actor's batch,
/// so all changes of one event's sold and held tickets are decided one after the other.
enum class order_kind {
  purchase, // sell at once (POST /api/events/{id}/purchases)
  hold,     // keep tickets for the buyer until hold_ttl has passed
  confirm,  // turn hold_id into a purchase
  release,  // give hold_id's tickets back
  cancel,   // give back tickets of purchase_id (quantity; 0: all that is left)
  join,     // queue on the type's waitlist for quantity tickets
  leave     // leave waitlist entry_id (its offer's hold, if any, is released)
};

/// A command on an event's inventory; the name stays from when purchases were the only kind.
struct purchase_request {
  std::int64_t event_id = 0;
  std::int64_t participant_id = 0;
  std::int32_t quantity = 0;
  std::optional<std::string> idempotency_key;
  std::string request_id;                     // X-Request-Id, carried into the confirmation event
  std::optional<std::int64_t> ticket_type_id; // required when the event has several types
  order_kind kind = order_kind::purchase;
  std::int64_t hold_id = 0; // confirm, release: the hold (known to be the participant's, of this
                            // event)
  std::chrono::milliseconds hold_ttl{0}; // hold: its lifetime (hold.ttl)
  std::int64_t purchase_id = 0;          // cancel: the purchase (known to be of this event)
  /// cancel: how long before the event's start cancelling closes (purchase.cancel-cutoff for its
  /// owner, 0 for an ADMIN).
  std::chrono::milliseconds cancel_cutoff{0};
  std::int64_t entry_id = 0; // leave: the waitlist entry (known to be of this event)
  /// For the audit log: who asks (the buyer, or an ADMIN releasing or cancelling; 0: the
  /// service) and the client's address.
  std::int64_t actor_id = 0;
  std::string client_address;
};

/// The answer to a command: the purchase made (purchase, confirm), the hold (hold, confirm,
/// release), the waitlist entry (join, leave).
struct purchase_outcome {
  domain::purchase purchase;
  bool replayed = false; // an earlier answer returned: a repeated key, a confirm again
  std::optional<domain::hold> hold;
  std::optional<domain::waitlist_entry> entry;
};

} // namespace eventhub::domain
