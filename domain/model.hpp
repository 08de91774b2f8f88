// The resources of the API as plain values: what every layer passes around.
#pragma once

#include "domain/time.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::domain {

/// STAFF (door staff) may only sign in and check tickets in.
enum class role { user, admin, staff };

const char* to_string(role r);                      // "USER" / "ADMIN" / "STAFF"
std::optional<role> parse_role(std::string_view s); // exact, upper case

struct participant {
  std::int64_t id = 0;
  std::string email;
  std::string full_name;
  domain::role role = role::user;
  timestamp created_at;
};

/// A kind of ticket of an event, with its own quota and price (docs/api.md, "Ticket types").
struct ticket_type {
  std::int64_t id = 0;
  std::int64_t event_id = 0;
  std::string name;
  std::int64_t price_cents = 0;
  std::string currency; // ISO 4217, three upper-case letters
  std::int64_t quota = 0;
  std::int64_t tickets_sold = 0;
  std::int64_t tickets_held = 0;
  std::int64_t tickets_waiting = 0; // the quantities of its WAITING waitlist entries
};

/// A ticket type with what is left of it, as GET /api/events/{id}/ticket-types/{typeId} shows it.
struct ticket_type_view {
  ticket_type type;
  std::int64_t tickets_available = 0;
};

struct event {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> description;
  std::string venue;
  timestamp starts_at;
  std::optional<timestamp> ends_at;
  std::int64_t capacity = 0;
  std::int64_t tickets_sold = 0;
  std::int64_t tickets_held = 0;
  std::optional<timestamp> sales_start_at; // nullopt: open from creation
  std::optional<std::int64_t> max_per_buyer;
  bool admission_queue = false;
  std::vector<ticket_type> ticket_types; // by id; every event has at least one
  timestamp created_at;
  timestamp updated_at;

  /// The WAITING quantities of all its types.
  std::int64_t tickets_waiting() const;
  /// What the public may still buy: max(0, capacity − sold − held − waiting).
  std::int64_t tickets_available() const;
  /// A type's share of that: max(0, min(quota − type sold − type held − type waiting,
  /// tickets_available())).
  std::int64_t tickets_available(const ticket_type& t) const;
};

struct purchase {
  std::int64_t id = 0;
  std::int64_t event_id = 0;
  std::int64_t participant_id = 0;
  std::int32_t quantity = 0;
  timestamp purchased_at;
  std::int64_t ticket_type_id = 0;
  std::int64_t unit_price_cents = 0; // the type's price when sold
  std::string currency;
  std::int32_t cancelled_quantity = 0;
  std::int64_t refunded_cents = 0;

  std::int64_t total_cents() const { return quantity * unit_price_cents; }
};

enum class hold_status { held, confirmed, released, expired };

const char* to_string(hold_status s);                             // "HELD" / "CONFIRMED" / …
std::optional<hold_status> parse_hold_status(std::string_view s); // exact, upper case

/// Tickets kept for one buyer while they pay (docs/api.md, "Holds"). The price is the type's
/// when the hold was made.
struct hold {
  std::int64_t id = 0;
  std::int64_t event_id = 0;
  std::int64_t ticket_type_id = 0;
  std::int64_t participant_id = 0;
  std::int32_t quantity = 0;
  std::int64_t unit_price_cents = 0;
  std::string currency;
  hold_status status = hold_status::held; // as stored
  timestamp created_at;
  timestamp expires_at;
  std::optional<std::int64_t> purchase_id; // once confirmed

  /// What the hold is at `now`: a HELD hold reads EXPIRED from expires_at on, stored or not.
  hold_status status_at(timestamp now) const {
    return status == hold_status::held && now >= expires_at ? hold_status::expired : status;
  }
};

enum class waitlist_status { waiting, offered, confirmed, expired, left };

const char* to_string(waitlist_status s); // "WAITING" / "OFFERED" / …
std::optional<waitlist_status> parse_waitlist_status(std::string_view s); // exact, upper case

/// A buyer queued for tickets of a sold-out type (docs/api.md, "Waitlist").
struct waitlist_entry {
  std::int64_t id = 0;
  std::int64_t event_id = 0;
  std::int64_t ticket_type_id = 0;
  std::int64_t participant_id = 0;
  std::int32_t quantity = 0;
  waitlist_status status = waitlist_status::waiting; // as stored
  std::optional<std::int64_t> position;              // 1-based among the type's WAITING ones
  std::optional<std::int64_t> hold_id;               // the offer
  std::optional<timestamp> offer_expires_at;         // the offer hold's expiry
  timestamp created_at;

  /// What the entry is at `now`: an OFFERED one reads EXPIRED from its hold's expiry on.
  waitlist_status status_at(timestamp now) const {
    return status == waitlist_status::offered && offer_expires_at && now >= *offer_expires_at
               ? waitlist_status::expired
               : status;
  }
};

/// One row of GET /api/events/{id}/participants.
struct attendee {
  participant who;
  std::int64_t tickets_purchased = 0;
};

template <class T> struct page {
  std::vector<T> items;
  int number = 0; // zero-based page index
  int size = 20;
  std::int64_t total_items = 0;

  std::int64_t total_pages() const { return size > 0 ? (total_items + size - 1) / size : 0; }
};

/// A listing page already rendered to JSON by the listing cache, shared by every reader.
struct rendered_page {
  std::shared_ptr<const std::string> body;
  std::string etag; // quoted strong ETag, e.g. "\"3f2a…\""
};

struct access_token {
  std::string token;
  std::int64_t expires_in = 0; // seconds, = exp - iat
  domain::role role = role::user;
};

/// The authenticated caller, established by the HTTP layer from a verified token.
struct principal {
  std::int64_t id = 0;
  domain::role role = role::user;
};

struct member_view {
  std::string node;   // "host:port" of a cluster member
  std::string status; // "UP" / "DOWN"
  bool self = false;
};

struct health_report {
  bool db_up = false;
  std::string db_detail;
  bool cluster_enabled = false;
  std::vector<member_view> members;
};

} // namespace eventhub::domain

namespace eventhub::domain {

/// A lifecycle notification other than a purchase confirmation (hold.expired,
/// purchase.cancelled): a row of the pending_notifications outbox.
struct notification {
  std::int64_t id = 0; // the outbox row
  std::string type;    // "hold.expired", "purchase.cancelled"
  std::int64_t event_id = 0;
  std::int64_t participant_id = 0;
  std::int64_t subject_id = 0; // the hold for hold.*, the purchase for purchase.*, the entry for
                               // waitlist.*, the ticket for ticket.*
  std::int32_t quantity = 0;
  int attempts = 0;
  // purchase.cancelled: this cancellation's refund, and the request that made it.
  std::int64_t refunded_cents = 0;
  std::string currency;
  std::string request_id;
  // waitlist.offered (subject_id is the entry): the offer's hold and when it expires.
  std::int64_t hold_id = 0;
  std::optional<timestamp> expires_at;
  // ticket.checked_in (subject_id is the ticket): its purchase, and when it was checked in.
  std::int64_t purchase_id = 0;
  std::optional<timestamp> checked_in_at;

  bool is_hold() const { return type.rfind("hold.", 0) == 0; }
  bool is_offer() const { return type == "waitlist.offered"; }
  bool is_check_in() const { return type == "ticket.checked_in"; }
};

/// A purchase confirmation event (a row of the transactional outbox, keyed by its purchase).
struct confirmation {
  std::int64_t purchase_id = 0;
  std::int64_t event_id = 0;
  std::int64_t participant_id = 0;
  std::int32_t quantity = 0;
  std::string request_id;
  int attempts = 0;
};

} // namespace eventhub::domain
