// Every setting of the service with its default; docs/configuration.md describes each key.
#pragma once

#include "config/network.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace eventhub::config {

using std::chrono::milliseconds;

enum class log_format { text, json };
enum class purchase_mode { actor, lock_per_request };

/// Where the build installs Swagger UI (swagger-ui-dist), the default of docs.swagger-ui-dir.
std::string default_swagger_ui_dir();

struct settings {
  // http
  std::string http_host = "0.0.0.0";
  int http_port = 8080;
  std::string http_port_file;
  int http_threads = 1;
  int http_max_connections = 10000;
  milliseconds http_read_timeout{10000};
  milliseconds http_idle_timeout{60000};
  milliseconds http_request_timeout{10000};
  int http_max_header_bytes = 16384;
  std::vector<network> http_trusted_proxies;

  // database
  std::string db_url;
  std::string db_embedded_dir = ".data";
  int db_pool_size = 4;
  int db_queue_max = 2000;
  milliseconds db_connect_timeout{3000};
  milliseconds db_startup_wait{30000};
  milliseconds db_statement_timeout{5000};
  milliseconds db_lock_timeout{2000};

  // security
  std::string jwt_secret;
  milliseconds jwt_ttl{3600000};
  std::string jwt_issuer = "eventhub";
  std::string tickets_key_secret; // empty: jwt_secret seals the ticket-signing keys
  std::string admin_email;
  std::string admin_password;
  int argon2_memory_kib = 19456;
  int argon2_iterations = 2;
  int hash_threads = 1;
  int login_max_failures = 5;
  milliseconds login_failure_window{15 * 60000};
  milliseconds login_lockout{60000};
  int login_max_failures_per_address = 50;

  // logging
  std::string log_level = "info";
  config::log_format log_format = log_format::text;

  // purchases and events
  config::purchase_mode purchase_mode = purchase_mode::actor;
  int purchase_max_per_order = 10;
  std::string event_default_currency = "EUR";
  int purchase_batch_max = 512;
  milliseconds purchase_idle_timeout{60000};
  milliseconds hold_ttl{15 * 60 * 1000};
  milliseconds purchase_cancel_cutoff{24 * 60 * 60 * 1000};
  milliseconds waitlist_offer_ttl{12 * 60 * 60 * 1000};
  milliseconds hold_sweep_interval{1000};
  milliseconds listing_max_age{1000};
  milliseconds health_cache_ttl{1000};
  int listing_max_queued_reads = 256;
  int listing_max_memory_mib = 64;

  // notifier
  std::string notify_webhook_url;
  std::string notify_webhook_secret; // whsec_…: required with the url
  milliseconds notify_sweep_interval{5000};
  milliseconds notify_timeout{15000};
  std::vector<milliseconds> notify_retry_schedule{std::chrono::seconds{5},  std::chrono::minutes{5},
                                                  std::chrono::minutes{30}, std::chrono::hours{2},
                                                  std::chrono::hours{5},    std::chrono::hours{10},
                                                  std::chrono::hours{10}};
  bool notify_allow_private_targets = false;
  int notify_endpoint_concurrency = 4;
  int notify_endpoint_queue = 1000;
  milliseconds notify_redelivery_delay{10000};

  // retention (docs/operations.md, "Retention")
  milliseconds retention_interval{10 * 60000};
  int retention_batch_size = 1000;
  milliseconds retention_login_failures{24LL * 3600000};
  milliseconds retention_idempotency_keys{7LL * 24 * 3600000};
  milliseconds retention_holds{14LL * 24 * 3600000};
  milliseconds retention_webhook_deliveries{30LL * 24 * 3600000};

  // actors and cluster
  int actors_threads = 1;
  std::string cluster_host = "127.0.0.1";
  int cluster_port = 0;
  std::string cluster_bind = "0.0.0.0";
  std::vector<std::string> cluster_seeds;
  milliseconds cluster_heartbeat_interval{500};
  milliseconds cluster_connection_timeout{2000};
  milliseconds cluster_forward_timeout{3000};
  // Mutual TLS between members (cluster.tls-*): PEM files of the cluster CA, this node's
  // certificate (chain) and its private key. Required for a cluster unless cluster.insecure.
  std::string cluster_tls_ca;
  std::string cluster_tls_certificate;
  std::string cluster_tls_key;
  bool cluster_insecure = false;

  // documentation
  std::string docs_swagger_ui_dir = default_swagger_ui_dir();

  bool embedded_database() const { return db_url.empty(); }
  bool cluster_enabled() const { return cluster_port > 0 || !cluster_seeds.empty(); }
  bool cluster_tls() const {
    return !cluster_tls_ca.empty() || !cluster_tls_certificate.empty() || !cluster_tls_key.empty();
  }
};

} // namespace eventhub::config
