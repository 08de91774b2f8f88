// Settings to component options, one named assignment per option.
#include "actors/options.hpp"

#include "security/webhook_signing.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace eventhub::actors {
namespace {

db_pool_options db_pool_from(const config::settings& s, const std::string& conninfo) {
  db_pool_options o;
  o.connection.conninfo = conninfo;
  o.connection.connect_timeout = s.db_connect_timeout;
  o.connection.statement_timeout = s.db_statement_timeout;
  o.connection.lock_timeout = s.db_lock_timeout;
  o.connection.recovery = std::make_shared<persistence::recovery_signal>();
  o.size = s.db_pool_size;
  o.queue_max = s.db_queue_max;
  return o;
}

event_actor_options event_actor_from(const config::settings& s) {
  event_actor_options o;
  o.batch_max = s.purchase_batch_max;
  o.idle_timeout = s.purchase_idle_timeout;
  o.redelivery_delay = s.notify_redelivery_delay;
  o.offer_ttl = s.waitlist_offer_ttl;
  return o;
}

registry_options registry_from(const config::settings& s) {
  registry_options o;
  o.cluster = s.cluster_enabled();
  o.forward_timeout = s.cluster_forward_timeout;
  return o;
}

listing_cache_options listing_cache_from(const config::settings& s) {
  listing_cache_options o;
  o.max_age = s.listing_max_age;
  o.fill_timeout = s.http_request_timeout;
  o.max_bytes = static_cast<std::size_t>(s.listing_max_memory_mib) << 20;
  o.max_fills = static_cast<std::size_t>(std::max(1, s.db_pool_size / 2));
  o.max_queued_fills = static_cast<std::size_t>(s.listing_max_queued_reads);
  return o;
}

notifier_options notifier_from(const config::settings& s) {
  notifier_options o;
  o.webhook_url = s.notify_webhook_url;
  if (!s.notify_webhook_url.empty()) {
    auto secret = security::parse_webhook_secret(s.notify_webhook_secret);
    if (!secret)
      throw std::invalid_argument(
          "notify.webhook-secret must be whsec_ followed by base64 of at least 24 bytes");
    o.webhook_secret = std::move(*secret);
  }
  o.sweep_interval = s.notify_sweep_interval;
  auto& d = o.delivery;
  d.timeout = s.notify_timeout;
  d.retry_schedule = s.notify_retry_schedule;
  d.allow_private_targets = s.notify_allow_private_targets;
  d.concurrency = s.notify_endpoint_concurrency;
  d.queue = s.notify_endpoint_queue;
  d.sweep_interval = s.notify_sweep_interval;
  return o;
}

cluster_options cluster_from(const config::settings& s) {
  cluster_options o;
  o.enabled = s.cluster_enabled();
  o.host = s.cluster_host;
  o.port = s.cluster_port;
  o.bind = s.cluster_bind;
  o.seeds = s.cluster_seeds;
  o.tls = s.cluster_tls();
  o.broadcast_timeout = s.cluster_connection_timeout;
  o.forwarded_answer_within = s.cluster_forward_timeout;
  return o;
}

credential_options credentials_from(const config::settings& s) {
  credential_options o;
  o.workers = s.hash_threads;
  o.cost.iterations = static_cast<unsigned long long>(s.argon2_iterations);
  o.cost.memory_kib = static_cast<std::size_t>(s.argon2_memory_kib);
  return o;
}

service_options services_from(const config::settings& s) {
  service_options o;
  o.request_timeout = s.http_request_timeout;
  o.health_ttl = s.health_cache_ttl;
  o.health_check_timeout = std::min(s.http_request_timeout, milliseconds{3000});
  o.mode = s.purchase_mode;
  o.redelivery_delay = s.notify_redelivery_delay;
  o.throttle.max_failures_per_email = s.login_max_failures;
  o.throttle.max_failures_per_address = s.login_max_failures_per_address;
  o.throttle.window = s.login_failure_window;
  o.throttle.lockout = s.login_lockout;
  o.cluster_enabled = s.cluster_enabled();
  o.hold_ttl = s.hold_ttl;
  o.cancel_cutoff = s.purchase_cancel_cutoff;
  o.offer_ttl = s.waitlist_offer_ttl;
  return o;
}

retention_options retention_from(const config::settings& s) {
  retention_options o;
  o.interval = s.retention_interval;
  o.batch_timeout = s.http_request_timeout;
  auto& p = o.policy;
  p.login_failures = s.retention_login_failures;
  p.login_window = s.login_failure_window;
  p.idempotency_keys = s.retention_idempotency_keys;
  p.holds = s.retention_holds;
  p.webhook_deliveries = s.retention_webhook_deliveries;
  p.batch_size = s.retention_batch_size;
  return o;
}

} // namespace

std::string cluster_options::self_name() const {
  return host + ":" + std::to_string(port);
}

core_options options_from(const config::settings& s, const std::string& conninfo) {
  core_options o;
  o.db_pool = db_pool_from(s, conninfo);
  o.event_actor = event_actor_from(s);
  o.registry = registry_from(s);
  o.listing_cache = listing_cache_from(s);
  o.notifier = notifier_from(s);
  o.cluster = cluster_from(s);
  o.credentials = credentials_from(s);
  o.services = services_from(s);
  o.hold_sweeper.interval = s.hold_sweep_interval;
  o.audit.request_timeout = o.services.request_timeout;
  o.hold_sweeper.offer_ttl = s.waitlist_offer_ttl;
  o.retention = retention_from(s);
  o.key_secret = s.tickets_key_secret.empty() ? s.jwt_secret : s.tickets_key_secret;
  return o;
}

} // namespace eventhub::actors
