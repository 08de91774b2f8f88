// Health: the database checked with a real round trip, plus the cluster node's view, cached for
// health.cache-ttl (like Spring Boot's management.endpoint.health.cache.time-to-live): a load
// balancer polling every node many times a second costs one database round trip per ttl.
//
// Protocol (health_actor):
//   (health_atom, reply<health_report>)   answered from a report younger than the ttl, else
//                                         after the one check in flight
// The actor owns the cache; it publishes each report on a health_board that HTTP threads read
// without a message (a fresh hit costs no thread hop).
#pragma once

#include "actors/cluster.hpp"
#include "actors/db_pool.hpp"
#include "actors/options.hpp"
#include "actors/services/boundary.hpp"
#include "domain/services.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <mutex>
#include <optional>

namespace eventhub::actors {

using health_actor =
    caf::typed_actor<caf::reacts_to<health_atom, domain::reply<domain::health_report>>>;

/// The last report and when it was taken; written only by the health actor.
class health_board {
 public:
  explicit health_board(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  /// The last report if younger than the ttl.
  std::optional<domain::health_report> fresh() const;
  void publish(domain::health_report report);

 private:
  struct snapshot {
    domain::health_report report;
    std::chrono::steady_clock::time_point taken;
  };
  std::chrono::milliseconds ttl_;
  mutable std::mutex mutex_; // guards only the pointer: readers copy it, the actor swaps it
  std::shared_ptr<const snapshot> last_;
};

struct health_deps {
  db_pool_actor db_pool;
  broadcaster cluster;
  std::shared_ptr<health_board> board;
};

health_actor spawn_health(caf::actor_system& sys, health_deps deps, const service_options& options);

/// domain::operations_service: fresh reports from the board, checks through the health actor.
class health_service final : public domain::operations_service {
 public:
  health_service(health_actor actor, std::shared_ptr<const health_board> board)
      : actor_(std::move(actor)), board_(std::move(board)) {}

  std::optional<domain::health_report> fresh_health() override { return board_->fresh(); }
  void health(domain::reply<domain::health_report> done) override;

 private:
  health_actor actor_;
  std::shared_ptr<const health_board> board_;
};

} // namespace eventhub::actors
