// The hub: implements the domain service interfaces by sending messages to the actors.
// Called on HTTP I/O threads; it never blocks: every call returns after sending a message.
#pragma once

#include "actors/listing_board.hpp"
#include "config/settings.hpp"
#include "domain/services.hpp"
#include "persistence/login_repository.hpp"
#include "security/tokens.hpp"

#include <caf/actor.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace eventhub::actors {

/// The last health report, shared by the HTTP I/O threads that call hub::health (the mutex is held
/// only to copy the report in or out); at most one check of the database runs at a time.
struct health_cache {
  std::mutex mutex;
  std::optional<domain::health_report> report;
  std::chrono::steady_clock::time_point checked_at;
  bool refreshing = false;
};

struct hub_context {
  caf::actor db_pool, registry, cache, cluster, notifier;
  std::vector<caf::actor> hashers;
  std::shared_ptr<const security::token_service> tokens;
  std::shared_ptr<const listing_board> listings; // fresh pages, read without a message
  config::purchase_mode mode = config::purchase_mode::actor;
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds redelivery_delay{10000};
  persistence::logins::throttle_policy throttle;
  bool cluster_enabled = false;
  std::chrono::milliseconds health_ttl{1000};
  mutable health_cache health;
  mutable std::atomic<std::size_t> next_hasher{0};

  const caf::actor& hasher() const;
};

class hub final : public domain::participant_service,
                  public domain::event_service,
                  public domain::purchase_service,
                  public domain::operations_service {
 public:
  explicit hub(std::shared_ptr<const hub_context> ctx) : ctx_(std::move(ctx)) {}

  void register_participant(domain::new_participant p,
                            domain::reply<domain::participant> done) override;
  void login(domain::login_request req, domain::reply<domain::access_token> done) override;
  void find_participant(std::int64_t id, domain::reply<domain::participant> done) override;
  void list_participants(domain::page_request paging,
                         domain::reply<domain::page<domain::participant>> done) override;

  void list_events(domain::event_query query, domain::reply<domain::rendered_page> done) override;
  void find_event(std::int64_t id, domain::reply<domain::event> done) override;
  void create_event(domain::event_draft draft, domain::reply<domain::event> done) override;
  void update_event(std::int64_t id, domain::event_draft draft,
                    domain::reply<domain::event> done) override;
  void delete_event(std::int64_t id, domain::reply<domain::unit> done) override;
  void list_attendees(std::int64_t event_id, domain::page_request paging,
                      domain::reply<domain::page<domain::attendee>> done) override;

  void purchase(domain::purchase_request req,
                domain::reply<domain::purchase_outcome> done) override;
  void find_purchase(std::int64_t id, domain::principal caller,
                     domain::reply<domain::purchase> done) override;
  void list_purchases(std::int64_t participant_id, domain::page_request paging,
                      domain::reply<domain::page<domain::purchase>> done) override;

  void health(domain::reply<domain::health_report> done) override;

  domain::services services() { return {*this, *this, *this, *this}; }

 private:
  std::shared_ptr<const hub_context> ctx_; // shared with callbacks that may outlive a call
};

} // namespace eventhub::actors
