// The rules that decide a batch of commands on one event's inventory (purchases, holds, their
// confirmations and releases, cancellations, waitlist joins and leaves) and the offers to the
// waitlist after it, as pure functions: arrival order, the type's quota and the event's capacity
// (both net of what is sold, held and waited for), the sales window, the per-buyer limit, a
// hold's status, and Idempotency-Key replays. The database transaction
// (persistence/purchase_repository.cpp) feeds it the truth read under the row lock.
#pragma once

#include "domain/commands.hpp"
#include "domain/error.hpp"
#include "domain/model.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace eventhub::domain {

/// A ticket type's figures and price as read under the event's row lock.
struct type_stock {
  std::int64_t id = 0;
  std::int64_t quota = 0;
  std::int64_t sold = 0;
  std::int64_t price_cents = 0;
  std::string currency;
  std::int64_t held = 0;    // in HELD holds not yet expired
  std::int64_t waiting = 0; // in WAITING waitlist entries
};

/// An event's sales figures as read under `SELECT … FOR UPDATE`.
struct event_stock {
  std::int64_t capacity = 0;
  std::int64_t sold = 0;
  timestamp starts_at;
  timestamp now; // the database's clock
  std::optional<timestamp> sales_start_at;
  std::optional<std::int64_t> max_per_buyer;
  std::vector<type_stock> types; // by id
  /// With max_per_buyer: the tickets each buyer of the batch already has (absent: none). Unset
  /// where unknown (the event actor's memo): the limit, and sold-out after it, are then left to
  /// the batch.
  std::optional<std::map<std::int64_t, std::int64_t>> bought;
  std::int64_t held = 0; // in HELD holds not yet expired
  /// The earliest expiry of a HELD hold: from then on these figures overstate what is held.
  std::optional<timestamp> next_expiry;

  /// The WAITING quantities of all types.
  std::int64_t waiting() const;
  /// What the public may still buy or hold: WAITING quantities are kept for the waitlist.
  std::int64_t available() const { return capacity - sold - held - waiting(); }
  /// What the public may still buy or hold of one type: its quota and the event's capacity bound
  /// it, both net of what waits.
  std::int64_t available(const type_stock& t) const;
  /// What an offer to the waitlist may take: the tickets neither sold nor held (the contract's
  /// "fit": WAITING quantities not subtracted).
  std::int64_t free() const { return capacity - sold - held; }
  std::int64_t free(const type_stock& t) const;
};

/// A purchase already made with an Idempotency-Key.
struct keyed_purchase {
  std::string key;
  domain::purchase original;
};

/// A hold already made with an Idempotency-Key (hold keys are apart from purchase keys).
struct keyed_hold {
  std::string key;
  domain::hold original;
};

/// A hold named by a confirm or release of the batch, as read under the row lock once the
/// event's due holds were expired, with the purchase that confirmed it, if any.
struct target_hold {
  domain::hold hold;
  std::optional<domain::purchase> purchase;
};

/// A cancellation already made with an Idempotency-Key (its own kind of key).
struct keyed_cancellation {
  std::string key;
  std::int64_t participant_id = 0; // who asked (the owner or an ADMIN)
  std::int64_t purchase_id = 0;
  std::int32_t asked = 0; // the quantity asked for; 0: all that was left
};

/// A WAITING or OFFERED entry of a participant the batch's joins name.
struct active_entry {
  std::int64_t participant_id = 0;
  std::int64_t ticket_type_id = 0;
};

/// What the batch knows beyond the stock: earlier keyed requests, the holds it names, the
/// purchases it cancels (read under the row lock, so their cancelled figures are current) with
/// their VALID tickets, the joiners' active waitlist entries and the entries it leaves (read once
/// due holds expired).
struct batch_context {
  std::vector<keyed_purchase> purchases;
  std::vector<keyed_hold> holds;
  std::vector<target_hold> targets;
  std::vector<keyed_cancellation> cancellations;
  std::vector<domain::purchase> cancel_targets;
  /// The VALID tickets of the cancel targets, by purchase, ascending (locked by the batch);
  /// decided cancellations take theirs from the end.
  std::map<std::int64_t, std::vector<std::int64_t>> valid_tickets;
  std::vector<active_entry> active_entries;
  std::vector<waitlist_entry> leave_targets;
};

/// `abandoned`: the requester stopped waiting (its HTTP answer was a 503) before the batch got the
/// row lock; it is not sold, so nobody is charged for a purchase they were told failed.
enum class verdict {
  confirm,      // a purchase sold
  hold,         // a hold made
  confirm_hold, // a HELD hold turned into a purchase
  release,      // a HELD hold released
  already_free, // a release of a hold released or expired before: nothing to do
  replay,       // an earlier answer again: a repeated key, a confirm of a confirmed hold
  hold_not_found,
  hold_expired,
  hold_released,
  hold_confirmed, // a release of a confirmed hold
  cancel,         // tickets of a purchase given back
  purchase_not_found,
  already_cancelled,
  checked_in, // a cancel of more tickets than are VALID (the others are checked in)
  cancellation_closed,
  cancel_too_many, // more than the purchase has left
  join,            // a waitlist entry made
  leave,           // a WAITING or OFFERED entry left (an offer's hold released)
  entry_not_found,
  already_waiting,
  tickets_available, // a join for what the public could buy now
  type_required,     // no ticketTypeId, and the event has several types
  unknown_type,      // a ticketTypeId that is not one of the event's types
  sales_closed,
  sales_not_open,
  buyer_limit,
  sold_out,
  key_mismatch,
  abandoned
};

/// Why a request cannot be sold, with the figures its answer carries.
struct refusal {
  domain::verdict verdict = verdict::sold_out;
  std::int64_t available = 0; // sold_out, tickets_available: tickets of the type left;
                              // cancel_too_many: of the purchase
  std::int64_t allowed = 0;   // buyer_limit: tickets this buyer may still get
};

struct decision {
  domain::verdict verdict = verdict::confirm;
  /// For replay: the earlier answer (into the context's purchases or holds, by the request's
  /// kind), or the batch item it repeats.
  std::optional<std::size_t> prior_index;
  std::optional<std::size_t> batch_index;
  std::optional<std::size_t> type_index;   // into stock.types, for confirm, hold, confirm_hold
  std::optional<std::size_t> target_index; // into the context's targets (confirm, release),
                                           // cancel_targets (cancel, its replay) or
                                           // leave_targets (leave)
  std::int32_t cancelled = 0;              // cancel: the tickets this cancellation gave back
  std::int32_t cancelled_total = 0;        // cancel, its replay: the purchase's cancelled tickets
                                           // once this item was decided
  std::vector<std::int64_t> tickets;       // cancel: the tickets it cancels
  std::int64_t available = 0;              // tickets of the type left after this item was decided
  std::int64_t allowed = 0;                // for buyer_limit
};

/// The index of the type `req` buys: its ticketTypeId, or the event's only type.
std::variant<std::size_t, verdict> type_of(const event_stock& stock, const purchase_request& req);

/// Why `req` cannot be sold now, if it cannot, in the contract's order: the type, sales closed
/// or not open at `now`, the buyer's limit, then fewer tickets left than asked for. The one rule
/// for both the batch under the row lock (with the database's clock) and the event actor's memo
/// (with this node's).
std::optional<refusal> refusal_for(const event_stock& stock, const purchase_request& req,
                                   timestamp now);

/// The error a refusing verdict answers with.
error refusal_error(const refusal& r);

/// Decides each request in order. `context` holds the keyed purchases and holds already in the
/// database for the requesters of this batch and the holds it names; `abandoned` (empty, or one
/// flag per request) marks requests nobody waits for any more. Sold and held tickets move
/// `stock`'s figures (event, type, buyer) as they are decided, and the targets' statuses change
/// as confirmations and releases are decided.
std::vector<decision> decide_batch(event_stock& stock, const std::vector<purchase_request>& batch,
                                   batch_context& context, const std::vector<bool>& abandoned = {});

/// A WAITING entry in the queue an offer step visits (arrival order).
struct queued_entry {
  std::int64_t id = 0;
  std::int64_t participant_id = 0;
  std::int64_t ticket_type_id = 0;
  std::int32_t quantity = 0;
};

/// An offer decided: the queue's entry and its type (into stock.types).
struct offer {
  std::size_t entry_index = 0;
  std::size_t type_index = 0;
};

/// The most tickets an offer could take now (0: no offer step is needed): sales still open, and
/// a type with WAITING entries has free tickets.
std::int64_t offerable(const event_stock& stock);

/// Visits `queue` in order and offers each entry whose quantity fits what is free of its type
/// and the event (first fit: one that does not fit is passed over, a later smaller one may fit)
/// and, with a maxPerBuyer, its buyer's limit (`stock.bought` then holds the queue's buyers).
/// Offered tickets move from the type's waiting to held in `stock`.
std::vector<offer> decide_offers(event_stock& stock, const std::vector<queued_entry>& queue);

/// As above for a batch of purchases only.
std::vector<decision> decide_batch(event_stock& stock, const std::vector<purchase_request>& batch,
                                   const std::vector<keyed_purchase>& prior,
                                   const std::vector<bool>& abandoned = {});

} // namespace eventhub::domain
