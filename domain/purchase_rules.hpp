// The rules that decide a batch of purchases of one event, as a pure function: arrival order,
// capacity, sales closing at startsAt, and Idempotency-Key replays. The database transaction
// (persistence/purchase_repository.cpp) feeds it the truth read under the row lock.
#pragma once

#include "domain/commands.hpp"
#include "domain/error.hpp"
#include "domain/model.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::domain {

/// An event's sales figures as read under `SELECT … FOR UPDATE`.
struct event_stock {
  std::int64_t capacity = 0;
  std::int64_t sold = 0;
  timestamp starts_at;
  timestamp now; // the database's clock

  std::int64_t available() const { return capacity - sold; }
};

/// A purchase already made with an Idempotency-Key.
struct keyed_purchase {
  std::string key;
  domain::purchase original;
};

/// `abandoned`: the requester stopped waiting (its HTTP answer was a 503) before the batch got the
/// row lock; it is not sold, so nobody is charged for a purchase they were told failed.
enum class verdict { confirm, replay, sold_out, sales_closed, key_mismatch, abandoned };

struct decision {
  domain::verdict verdict = verdict::confirm;
  /// For replay: the earlier purchase (index into `prior`), or the batch item it repeats.
  std::optional<std::size_t> prior_index;
  std::optional<std::size_t> batch_index;
  std::int64_t available = 0; // tickets left after this item was decided
};

/// Why `quantity` tickets cannot be sold now, if they cannot: sales closed at `now`, or fewer
/// than `quantity` left. The one rule for both the batch under the row lock (with the
/// database's clock) and the event actor's memo (with this node's).
std::optional<verdict> refusal_for(const event_stock& stock, std::int32_t quantity, timestamp now);

/// The error a refusing verdict answers with (sold_out carries `available`).
error refusal_error(verdict v, std::int64_t available);

/// Decides each request in order. `prior` holds the keyed purchases already in the database for
/// the requesters of this batch; `abandoned` (empty, or one flag per request) marks requests
/// nobody waits for any more. Sold tickets are added to `stock.sold`.
std::vector<decision> decide_batch(event_stock& stock, const std::vector<purchase_request>& batch,
                                   const std::vector<keyed_purchase>& prior,
                                   const std::vector<bool>& abandoned = {});

} // namespace eventhub::domain
