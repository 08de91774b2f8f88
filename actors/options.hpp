// The options of every component of the actor core, each built from the settings by name in
// options.cpp (never by position: a positional aggregate once wired cluster.forward-timeout to
// http.request-timeout). CAF-free, so unit tests check the wiring without an actor system.
#pragma once

#include "config/settings.hpp"
#include "persistence/login_repository.hpp"
#include "persistence/retention_repository.hpp"
#include "persistence/session.hpp"
#include "security/password.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace eventhub::actors {

using std::chrono::milliseconds;

struct db_pool_options {
  persistence::connection_options connection;
  int size = 4;
  int queue_max = 2000;
  bool detached_workers = true; // false only in deterministic tests (no database work)
};

struct event_actor_options {
  int batch_max = 512;
  milliseconds idle_timeout{60000};
  milliseconds redelivery_delay{10000}; // the outbox sweeper leaves fresh rows alone this long
  milliseconds offer_ttl{12 * 60 * 60 * 1000}; // waitlist.offer-ttl
};

struct hold_sweeper_options {
  milliseconds interval{1000};                 // hold.sweep-interval
  milliseconds offer_ttl{12 * 60 * 60 * 1000}; // waitlist.offer-ttl: offers of what it frees
};

struct registry_options {
  bool cluster = false;
  milliseconds forward_timeout{3000}; // then the purchase is served here
  milliseconds internal_key_sweep{600000};
};

struct listing_cache_options {
  milliseconds max_age{1000};                    // a page older than this is never served
  milliseconds fill_timeout{10000};              // deadline of one database read
  std::size_t max_bytes = std::size_t{64} << 20; // kept pages beyond this are evicted
  std::size_t max_fills = 2;                     // database reads in flight (half the pool)
  std::size_t max_queued_fills = 256; // distinct keys waiting; a miss beyond them answers 503
};

/// How each endpoint's deliverer works (notify.*).
struct delivery_options {
  milliseconds timeout{15000};
  std::vector<milliseconds> retry_schedule{milliseconds{5000}};
  bool allow_private_targets = false;
  int concurrency = 4; // attempts in flight per endpoint
  int queue = 1000;    // messages held in memory per endpoint
  milliseconds sweep_interval{5000};
};

struct notifier_options {
  std::string webhook_url;    // the configured endpoint; empty: none
  std::string webhook_secret; // its secret's bytes
  milliseconds sweep_interval{5000};
  delivery_options delivery;
};

struct cluster_options {
  bool enabled = false;
  std::string host = "127.0.0.1"; // how others reach this node
  int port = 0;                   // 0: not accepting members
  std::string bind = "0.0.0.0";   // where the cluster port listens
  std::vector<std::string> seeds; // host:port of members to join
  bool tls = false;               // members connect through CAF's OpenSSL module (mutual TLS)
  milliseconds broadcast_timeout{3000};
  /// How long a forwarding node waits for this owner (cluster.forward-timeout, the same on every
  /// node): a forwarded purchase not decided within it is not sold here (the sender sells it).
  milliseconds forwarded_answer_within{3000};

  std::string self_name() const;
};

struct credential_options {
  int workers = 1;
  security::argon2_cost cost;
};

/// What the service actors (accounts, events, purchases, health) need besides handles.
struct service_options {
  milliseconds request_timeout{10000}; // an answer is due within this (http.request-timeout)
  milliseconds health_ttl{1000};       // health.cache-ttl
  milliseconds health_check_timeout{3000};
  config::purchase_mode mode = config::purchase_mode::actor;
  milliseconds redelivery_delay{10000}; // lock-per-request writes outbox rows like a batch
  persistence::logins::throttle_policy throttle;
  bool cluster_enabled = false;
  milliseconds hold_ttl{15 * 60 * 1000};           // hold.ttl
  milliseconds cancel_cutoff{24 * 60 * 60 * 1000}; // purchase.cancel-cutoff
  milliseconds offer_ttl{12 * 60 * 60 * 1000};     // waitlist.offer-ttl (admin edits offer too)
};

/// The audit actor: its reads' deadline, and how often and how far ahead it makes partitions.
struct audit_options {
  milliseconds request_timeout{5000};
  milliseconds partition_check{60 * 60 * 1000};
  int months_ahead = 3;
};

/// The retention actor: how often it runs a round, each batch's deadline, and what it keeps.
struct retention_options {
  milliseconds interval{10 * 60 * 1000}; // retention.interval
  milliseconds batch_timeout{10000};     // a batch still queued in the pool this long is dropped
  persistence::retention::policy policy; // retention.* ages and batch-size, login.failure-window
};

struct core_options {
  db_pool_options db_pool;
  event_actor_options event_actor;
  registry_options registry;
  listing_cache_options listing_cache;
  notifier_options notifier;
  cluster_options cluster;
  credential_options credentials;
  service_options services;
  hold_sweeper_options hold_sweeper;
  audit_options audit;
  retention_options retention;
  /// Seals the events' ticket-signing keys: tickets.key-secret, else jwt.secret.
  std::string key_secret;
};

/// Every option from its setting, by name. `conninfo` is the database the node uses.
core_options options_from(const config::settings& s, const std::string& conninfo);

} // namespace eventhub::actors
