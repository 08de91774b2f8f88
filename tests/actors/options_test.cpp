// Every setting reaches the option it names: each setting gets a value no other setting has,
// so a setting wired to the wrong field (as cluster.forward-timeout once reached
// http.request-timeout's) fails here.
#include "actors/options.hpp"

#include <catch2/catch.hpp>

using namespace eventhub;
using std::chrono::milliseconds;

namespace {

config::settings distinct_settings() {
  config::settings s;
  s.http_request_timeout = milliseconds{1001};
  s.db_connect_timeout = milliseconds{1002};
  s.db_statement_timeout = milliseconds{1003};
  s.db_lock_timeout = milliseconds{1004};
  s.db_pool_size = 6;
  s.db_queue_max = 1005;
  s.purchase_batch_max = 1006;
  s.purchase_idle_timeout = milliseconds{1007};
  s.notify_redelivery_delay = milliseconds{1008};
  s.listing_max_age = milliseconds{1009};
  s.listing_max_memory_mib = 3;
  s.listing_max_queued_reads = 1010;
  s.notify_webhook_url = "http://hooks.example/x";
  s.notify_sweep_interval = milliseconds{1011};
  s.notify_webhook_secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes
  s.notify_timeout = milliseconds{1012};
  s.notify_retry_schedule = {milliseconds{1017}, milliseconds{1018}};
  s.notify_allow_private_targets = true;
  s.notify_endpoint_concurrency = 7;
  s.notify_endpoint_queue = 1019;
  s.cluster_host = "10.1.2.3";
  s.cluster_port = 1013;
  s.cluster_bind = "10.1.2.4";
  s.cluster_seeds = {"10.1.2.5:1014"};
  s.cluster_connection_timeout = milliseconds{1015};
  s.cluster_forward_timeout = milliseconds{1016};
  s.hash_threads = 7;
  s.argon2_iterations = 8;
  s.argon2_memory_kib = 1017;
  s.health_cache_ttl = milliseconds{1018};
  s.purchase_mode = config::purchase_mode::lock_per_request;
  s.login_max_failures = 9;
  s.login_max_failures_per_address = 1019;
  s.login_failure_window = milliseconds{1020};
  s.login_lockout = milliseconds{1021};
  s.hold_ttl = milliseconds{1022};
  s.purchase_cancel_cutoff = milliseconds{1023};
  s.hold_sweep_interval = milliseconds{1024};
  s.waitlist_offer_ttl = milliseconds{1025};
  s.retention_interval = milliseconds{1026};
  s.retention_batch_size = 1027;
  s.retention_login_failures = milliseconds{1028};
  s.retention_idempotency_keys = milliseconds{1029};
  s.retention_holds = milliseconds{1030};
  s.retention_webhook_deliveries = milliseconds{1031};
  return s;
}

} // namespace

TEST_CASE("each component's options come from the settings of the same name") {
  const auto s = distinct_settings();
  const auto o = actors::options_from(s, "dbname=x");

  CHECK(o.db_pool.connection.conninfo == "dbname=x");
  CHECK(o.db_pool.connection.connect_timeout == s.db_connect_timeout);
  CHECK(o.db_pool.connection.statement_timeout == s.db_statement_timeout);
  CHECK(o.db_pool.connection.lock_timeout == s.db_lock_timeout);
  CHECK(o.db_pool.connection.recovery != nullptr);
  CHECK(o.db_pool.size == s.db_pool_size);
  CHECK(o.db_pool.queue_max == s.db_queue_max);
  CHECK(o.db_pool.detached_workers);

  CHECK(o.event_actor.batch_max == s.purchase_batch_max);
  CHECK(o.event_actor.idle_timeout == s.purchase_idle_timeout);
  CHECK(o.event_actor.redelivery_delay == s.notify_redelivery_delay);
  CHECK(o.event_actor.offer_ttl == s.waitlist_offer_ttl);

  CHECK(o.hold_sweeper.interval == s.hold_sweep_interval);
  CHECK(o.hold_sweeper.offer_ttl == s.waitlist_offer_ttl);

  CHECK(o.registry.cluster);
  CHECK(o.registry.forward_timeout == s.cluster_forward_timeout);

  CHECK(o.listing_cache.max_age == s.listing_max_age);
  CHECK(o.listing_cache.fill_timeout == s.http_request_timeout);
  CHECK(o.listing_cache.max_bytes == std::size_t{3} << 20);
  CHECK(o.listing_cache.max_fills == 3); // half the pool
  CHECK(o.listing_cache.max_queued_fills == 1010);

  CHECK(o.notifier.webhook_url == s.notify_webhook_url);
  CHECK(o.notifier.sweep_interval == s.notify_sweep_interval);
  CHECK(o.notifier.webhook_secret == "0123456789abcdef0123456789abcdef");
  CHECK(o.notifier.delivery.timeout == s.notify_timeout);
  CHECK(o.notifier.delivery.retry_schedule == s.notify_retry_schedule);
  CHECK(o.notifier.delivery.allow_private_targets);
  CHECK(o.notifier.delivery.concurrency == 7);
  CHECK(o.notifier.delivery.queue == 1019);
  CHECK(o.notifier.delivery.sweep_interval == s.notify_sweep_interval);

  CHECK(o.cluster.enabled);
  CHECK(o.cluster.host == s.cluster_host);
  CHECK(o.cluster.port == s.cluster_port);
  CHECK(o.cluster.bind == s.cluster_bind);
  CHECK(o.cluster.seeds == s.cluster_seeds);
  CHECK(o.cluster.self_name() == "10.1.2.3:1013");
  CHECK(o.cluster.broadcast_timeout == s.cluster_connection_timeout);
  CHECK(o.cluster.forwarded_answer_within == s.cluster_forward_timeout);

  CHECK(o.credentials.workers == s.hash_threads);
  CHECK(o.credentials.cost.iterations == 8);
  CHECK(o.credentials.cost.memory_kib == 1017);

  CHECK(o.services.request_timeout == s.http_request_timeout);
  CHECK(o.services.health_ttl == s.health_cache_ttl);
  CHECK(o.services.health_check_timeout == s.http_request_timeout); // below the 3 s cap
  CHECK(o.services.mode == config::purchase_mode::lock_per_request);
  CHECK(o.services.redelivery_delay == s.notify_redelivery_delay);
  CHECK(o.services.throttle.max_failures_per_email == s.login_max_failures);
  CHECK(o.services.throttle.max_failures_per_address == s.login_max_failures_per_address);
  CHECK(o.services.throttle.window == s.login_failure_window);
  CHECK(o.services.throttle.lockout == s.login_lockout);
  CHECK(o.services.cluster_enabled);
  CHECK(o.services.hold_ttl == s.hold_ttl);
  CHECK(o.services.cancel_cutoff == s.purchase_cancel_cutoff);
  CHECK(o.services.offer_ttl == s.waitlist_offer_ttl);

  CHECK(o.retention.interval == s.retention_interval);
  CHECK(o.retention.batch_timeout == s.http_request_timeout);
  CHECK(o.retention.policy.batch_size == s.retention_batch_size);
  CHECK(o.retention.policy.login_failures == s.retention_login_failures);
  CHECK(o.retention.policy.login_window == s.login_failure_window);
  CHECK(o.retention.policy.idempotency_keys == s.retention_idempotency_keys);
  CHECK(o.retention.policy.holds == s.retention_holds);
  CHECK(o.retention.policy.webhook_deliveries == s.retention_webhook_deliveries);
}

TEST_CASE("a node without cluster settings is a cluster of one") {
  const auto o = actors::options_from(config::settings{}, "dbname=x");
  CHECK_FALSE(o.cluster.enabled);
  CHECK_FALSE(o.registry.cluster);
  CHECK_FALSE(o.services.cluster_enabled);
  CHECK(o.cluster.forwarded_answer_within == milliseconds{3000}); // the documented default
}
