// The waitlist: the batch's joins and leaves, the offer step that hands freed tickets to WAITING
// entries in arrival order, and the entry reads. Every function but the reads runs with the
// event's row locked FOR UPDATE by its writer (the event actor's batch, the expiry sweep, an
// admin edit). SQL in queries/waitlist_queries.hpp, rules in domain/purchase_rules.cpp.
#pragma once

#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/purchase_rules.hpp"
#include "persistence/session.hpp"

#include <chrono>
#include <optional>
#include <vector>

namespace eventhub::persistence::waitlist {

/// How offers are made: the hold's lifetime (waitlist.offer-ttl), and how long the outbox sweeper
/// leaves a fresh waitlist.offered row to the writer's own delivery.
struct offer_settings {
  std::chrono::milliseconds ttl{std::chrono::hours{12}};
  std::chrono::milliseconds redelivery_delay{0};
};

/// The WAITING or OFFERED entries of the batch's joiners.
std::vector<domain::active_entry> active_of(tx& t, std::int64_t event_id,
                                            const std::vector<domain::purchase_request>& batch);

/// The entries the batch's leaves name (call once the due holds expired).
std::vector<domain::waitlist_entry> targets(tx& t, std::int64_t event_id,
                                            const std::vector<domain::purchase_request>& batch);

/// Writes the batch's leaves (`left`: context.leave_targets indexes) and joins (`joined`: batch
/// indexes, with the type each joins) before its other writes; returns the new entries' ids by
/// position in `joined`.
std::vector<std::int64_t> write(tx& t, std::int64_t event_id, domain::timestamp at,
                                const std::vector<domain::purchase_request>& batch,
                                const std::vector<std::pair<std::size_t, std::int64_t>>& joined,
                                const std::vector<std::int64_t>& left);

/// The offer step, with `stock` the event's figures as they stand in this transaction: when
/// tickets are free and entries wait (domain::offerable), visits the queue in arrival order and
/// offers each entry that fits (domain::decide_offers), writing the offers in one statement.
/// `stock` moves with them (its `bought` is replaced by the queue's buyers'). Returns the
/// waitlist.offered notifications, and the earliest offer expiry through `earliest`.
std::vector<domain::notification> make_offers(tx& t, std::int64_t event_id,
                                              domain::event_stock& stock,
                                              const offer_settings& settings,
                                              std::optional<domain::timestamp>* earliest = nullptr);

/// The offer step for a writer that has not read the stock (the sweep, admin edits): reads the
/// event's figures under its row lock first.
std::vector<domain::notification> offer_freed(tx& t, std::int64_t event_id,
                                              const offer_settings& settings);

std::optional<domain::waitlist_entry> find(tx& t, std::int64_t id);

/// A participant's entries, newest first.
domain::page<domain::waitlist_entry> list_of(tx& t, std::int64_t participant_id,
                                             const domain::page_request& paging);

/// An event's entries in arrival order; nullopt for an unknown event.
std::optional<domain::page<domain::waitlist_entry>>
list_of_event(tx& t, std::int64_t event_id, const domain::page_request& paging);

} // namespace eventhub::persistence::waitlist
