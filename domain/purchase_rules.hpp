// The rules that decide a batch of purchases of one event, as a pure function: arrival order,
// the type's quota and the event's capacity, the sales window, the per-buyer limit, and
// Idempotency-Key replays. The database transaction
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

  std::int64_t available() const { return capacity - sold; }
  /// What may still be sold of one type: its quota and the event's capacity both bound it.
  std::int64_t available(const type_stock& t) const;
};

/// A purchase already made with an Idempotency-Key.
struct keyed_purchase {
  std::string key;
  domain::purchase original;
};

/// `abandoned`: the requester stopped waiting (its HTTP answer was a 503) before the batch got the
/// row lock; it is not sold, so nobody is charged for a purchase they were told failed.
enum class verdict {
  confirm,
  replay,
  type_required, // no ticketTypeId, and the event has several types
  unknown_type,  // a ticketTypeId that is not one of the event's types
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
  std::int64_t available = 0; // sold_out: tickets of the type left
  std::int64_t allowed = 0;   // buyer_limit: tickets this buyer may still get
};

struct decision {
  domain::verdict verdict = verdict::confirm;
  /// For replay: the earlier purchase (index into `prior`), or the batch item it repeats.
  std::optional<std::size_t> prior_index;
  std::optional<std::size_t> batch_index;
  std::optional<std::size_t> type_index; // into stock.types, for confirm
  std::int64_t available = 0;            // tickets of the type left after this item was decided
  std::int64_t allowed = 0;              // for buyer_limit
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

/// Decides each request in order. `prior` holds the keyed purchases already in the database for
/// the requesters of this batch; `abandoned` (empty, or one flag per request) marks requests
/// nobody waits for any more. Sold tickets are added to `stock.sold`, their type's `sold` and
/// the buyer's `bought`.
std::vector<decision> decide_batch(event_stock& stock, const std::vector<purchase_request>& batch,
                                   const std::vector<keyed_purchase>& prior,
                                   const std::vector<bool>& abandoned = {});

} // namespace eventhub::domain
