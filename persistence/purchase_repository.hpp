// Purchases: the group-commit batch transaction and the purchase reads.
#pragma once

#include "domain/commands.hpp"
#include "domain/purchase_rules.hpp"
#include "domain/result.hpp"
#include "persistence/session.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <vector>

namespace eventhub::persistence::purchases {

struct batch_outcome {
  std::optional<domain::event_stock> stock; // nullopt: the event does not exist
  std::vector<domain::result<domain::purchase_outcome>> results; // one per request, same order
  std::vector<domain::confirmation> confirmations;               // outbox rows written
  std::vector<domain::notification> notifications; // hold.expired, purchase.cancelled and
                                                   // waitlist.offered rows written
  /// Whether stock->next_expiry is the event's (read after expiring) or only the earliest of
  /// the holds this batch made (when it skipped the expiry step: see commit_batch).
  bool next_expiry_exact = true;
};

/// One transaction for all `batch` commands of `event_id` (every command must name it):
/// lock the event row, expire its due holds, decide each command in order against what is
/// really left, write the waitlist's joins and leaves, confirm and release holds, insert the
/// purchases (their idempotency keys and outbox rows) and the new holds, move the sold and held
/// counters, then, when the batch freed tickets (an expiry, a release, a cancellation, an offer
/// left), offer them to the waitlist in arrival order (offers live `offer_ttl`), commit. An
/// empty batch only expires the due holds and offers what they freed. The outcome's stock
/// carries the next hold expiry.
/// `expire_first` false: the caller knows no hold of the event is due (its next expiry is
/// later), so the expiry step, which walks the index of HELD holds, is skipped unless a hold
/// the batch confirms or releases is due after all.
/// `redelivery_delay` postpones the outbox sweeper for the fresh delivery path. `answer_by`
/// (empty, or one per request) is when each requester stops waiting: a request whose time is
/// (almost) up once the row lock is held is not sold (503), so no one is charged for a purchase
/// they were told failed.
batch_outcome commit_batch(session& s, std::int64_t event_id,
                           const std::vector<domain::purchase_request>& batch,
                           std::chrono::milliseconds redelivery_delay,
                           const std::vector<std::chrono::steady_clock::time_point>& answer_by = {},
                           bool expire_first = true,
                           std::chrono::milliseconds offer_ttl = std::chrono::hours{
                               12}); // the contract's default

/// The event's figures and its types', under its row lock (taken here unless held already);
/// nullopt for an unknown event.
std::optional<domain::event_stock> locked_stock(tx& t, std::int64_t event_id);

/// What each of `buyers` already has of the event: bought and not cancelled, or HELD.
std::map<std::int64_t, std::int64_t> tickets_of(tx& t, std::int64_t event_id,
                                                const std::vector<std::int64_t>& buyers);

std::optional<domain::purchase> find(tx& t, std::int64_t id);

domain::page<domain::purchase> list_of(tx& t, std::int64_t participant_id,
                                       const domain::page_request& paging);

/// Deletes the internal keys of forwarded purchases older than `age`.
void forget_internal_keys(tx& t, std::chrono::milliseconds age);

} // namespace eventhub::persistence::purchases
