// The key table: one entry per setting, declared once with its type, range, default and help.
#include "config/options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>

namespace eventhub::config {
namespace {

using apply_fn = std::function<std::optional<std::string>(settings&, const std::string&)>;

std::optional<long long> parse_integer(const std::string& text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return value;
}

std::string quoted(const std::string& v) {
  return "'" + v + "'";
}

apply_fn integer(int settings::*field, long long min, long long max) {
  return [=](settings& s, const std::string& v) -> std::optional<std::string> {
    auto n = parse_integer(v);
    if (!n || *n < min || *n > max)
      return "must be an integer in " + std::to_string(min) + ".." + std::to_string(max) +
             " (got " + quoted(v) + ")";
    s.*field = static_cast<int>(*n);
    return std::nullopt;
  };
}

std::optional<milliseconds> parse_duration(const std::string& v) {
  static const std::pair<const char*, long long> units[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  for (const auto& [suffix, factor] : units) {
    const std::string s(suffix);
    if (v.size() > s.size() && v.compare(v.size() - s.size(), s.size(), s) == 0) {
      auto n = parse_integer(v.substr(0, v.size() - s.size()));
      if (n && *n >= 0)
        return milliseconds{*n * factor};
    }
  }
  return std::nullopt;
}

apply_fn duration(milliseconds settings::*field, milliseconds min, milliseconds max) {
  return [=](settings& s, const std::string& v) -> std::optional<std::string> {
    auto d = parse_duration(v);
    if (!d || *d < min || *d > max)
      return "must be a duration like 500ms, 5s, 15m, 1h or 7d between " +
             std::to_string(min.count()) + "ms and " + std::to_string(max.count()) + "ms (got " +
             quoted(v) + ")";
    s.*field = *d;
    return std::nullopt;
  };
}

apply_fn text(std::string settings::*field, std::size_t max_length = 4096) {
  return [=](settings& s, const std::string& v) -> std::optional<std::string> {
    if (v.size() > max_length)
      return "must be at most " + std::to_string(max_length) + " characters";
    s.*field = v;
    return std::nullopt;
  };
}

template <class E>
apply_fn choice(E settings::*field, std::initializer_list<std::pair<const char*, E>> values) {
  std::vector<std::pair<std::string, E>> table(values.begin(), values.end());
  return [=](settings& s, const std::string& v) -> std::optional<std::string> {
    for (const auto& [name, value] : table)
      if (v == name) {
        s.*field = value;
        return std::nullopt;
      }
    std::string names;
    for (const auto& entry : table)
      names += (names.empty() ? "" : "|") + entry.first;
    return "must be one of " + names + " (got " + quoted(v) + ")";
  };
}

apply_fn url(std::string settings::*field, std::initializer_list<const char*> schemes) {
  std::vector<std::string> allowed(schemes.begin(), schemes.end());
  return [=](settings& s, const std::string& v) -> std::optional<std::string> {
    if (!v.empty()) {
      bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const std::string& scheme) {
        return v.rfind(scheme + "://", 0) == 0 && v.size() > scheme.size() + 3;
      });
      if (!ok) {
        std::string names;
        for (const auto& a : allowed)
          names += (names.empty() ? "" : ", ") + a + "://";
        return "must be empty or a URL starting with " + names;
      }
    }
    s.*field = v;
    return std::nullopt;
  };
}

std::optional<std::string> apply_seeds(settings& s, const std::string& v) {
  std::vector<std::string> seeds;
  std::size_t start = 0;
  while (start <= v.size() && !v.empty()) {
    auto comma = v.find(',', start);
    std::string item =
        v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(std::remove_if(item.begin(), item.end(), ::isspace), item.end());
    if (!item.empty()) {
      auto colon = item.rfind(':');
      auto port = colon == std::string::npos ? std::nullopt : parse_integer(item.substr(colon + 1));
      if (colon == 0 || !port || *port < 1 || *port > 65535)
        return "must be a comma-separated list of host:port (got " + quoted(item) + ")";
      seeds.push_back(item);
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  s.cluster_seeds = std::move(seeds);
  return std::nullopt;
}

std::optional<std::string> apply_retry_schedule(settings& s, const std::string& v) {
  std::vector<milliseconds> schedule;
  std::size_t start = 0;
  while (start <= v.size()) {
    auto comma = v.find(',', start);
    auto item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(std::remove_if(item.begin(), item.end(), ::isspace), item.end());
    auto d = parse_duration(item);
    if (!d || *d < milliseconds{10} || *d > milliseconds{7LL * 24 * 3600 * 1000})
      return "must be a comma-separated list of durations like 5s,5m,2h, each 10ms..7d (got " +
             quoted(item) + ")";
    schedule.push_back(*d);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (schedule.empty() || schedule.size() > 20)
    return "must list 1..20 durations";
  s.notify_retry_schedule = std::move(schedule);
  return std::nullopt;
}

std::optional<std::string> apply_networks(settings& s, const std::string& v) {
  std::vector<network> out;
  std::size_t start = 0;
  while (start < v.size()) {
    auto comma = v.find(',', start);
    auto item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(std::remove_if(item.begin(), item.end(), ::isspace), item.end());
    if (!item.empty()) {
      auto n = network::parse(item);
      if (!n)
        return "must be a comma-separated list of IP addresses or networks like 10.0.0.0/8 (got " +
               quoted(item) + ")";
      out.push_back(*n);
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  s.http_trusted_proxies = std::move(out);
  return std::nullopt;
}

const milliseconds day{24LL * 3600 * 1000};

std::vector<option> make_options() {
  using S = settings;
  return {
      {"http.host", "0.0.0.0", "Address the HTTP server binds.", false, text(&S::http_host, 255)},
      {"http.port", "8080", "HTTP port; 0 picks a free port (see http.port-file).", false,
       integer(&S::http_port, 0, 65535)},
      {"http.port-file", "", "If set, the bound HTTP port is written to this file once listening.",
       false, text(&S::http_port_file)},
      {"http.threads", "1", "HTTP I/O threads (Asio). On 2 cores, 1 is fastest.", false,
       integer(&S::http_threads, 1, 64)},
      {"http.max-connections", "10000", "Open connections beyond this are closed at once.", false,
       integer(&S::http_max_connections, 1, 1000000)},
      {"http.read-timeout", "10s", "Time allowed to receive a request's headers and body.", false,
       duration(&S::http_read_timeout, milliseconds{100}, day)},
      {"http.idle-timeout", "60s", "A keep-alive connection idle this long is closed.", false,
       duration(&S::http_idle_timeout, milliseconds{100}, day)},
      {"http.request-timeout", "10s",
       "Longest wait for the core to answer a request; then 503 with Retry-After.", false,
       duration(&S::http_request_timeout, milliseconds{100}, day)},
      {"http.max-header-bytes", "16384", "Limit of request line plus headers; beyond it 431.",
       false, integer(&S::http_max_header_bytes, 1024, 1 << 20)},

      {"http.trusted-proxies", "",
       "Reverse proxies (IPs or networks) whose X-Forwarded-For names "
       "the client, e.g. the load balancer; used for per-address login throttling.",
       false, apply_networks},

      {"db.url", "", "PostgreSQL URL. Empty: a project-local PostgreSQL is started (embedded).",
       true, url(&S::db_url, {"postgresql", "postgres"})},
      {"db.embedded-dir", ".data",
       "Directory of the embedded PostgreSQL (used when db.url is empty).", false,
       text(&S::db_embedded_dir)},
      {"db.pool-size", "4", "Database connections, one per DB worker actor.", false,
       integer(&S::db_pool_size, 1, 256)},
      {"db.queue-max", "2000", "Database jobs waiting for a worker beyond this are refused (503).",
       false, integer(&S::db_queue_max, 1, 1000000)},
      {"db.connect-timeout", "3s", "Timeout of one connection attempt.", false,
       duration(&S::db_connect_timeout, milliseconds{100}, milliseconds{60000})},
      {"db.startup-wait", "30s", "At start, how long to wait for the database before giving up.",
       false, duration(&S::db_startup_wait, milliseconds{0}, day)},
      {"db.statement-timeout", "5s", "PostgreSQL statement_timeout for every connection.", false,
       duration(&S::db_statement_timeout, milliseconds{100}, day)},
      {"db.lock-timeout", "2s",
       "PostgreSQL lock_timeout: a purchase waiting this long for the "
       "event's row lock fails with 503.",
       false, duration(&S::db_lock_timeout, milliseconds{10}, day)},

      {"jwt.secret", "",
       "HS256 signing secret, at least 32 bytes. Required with db.url; with the "
       "embedded database it is generated once and kept in db.embedded-dir.",
       true, text(&S::jwt_secret, 1024)},
      {"jwt.ttl", "1h", "Lifetime of access tokens.", false,
       duration(&S::jwt_ttl, milliseconds{1000}, day * 30)},
      {"jwt.issuer", "eventhub", "The iss claim written and required.", false,
       text(&S::jwt_issuer, 255)},
      {"tickets.key-secret", "",
       "Seals the events' ticket-signing keys in the database, at least 32 bytes. Empty: derived "
       "from jwt.secret (then changing jwt.secret makes the stored keys unusable: set this first).",
       true, text(&S::tickets_key_secret, 1024)},
      {"admin.email", "",
       "Email of the first ADMIN, created at start if missing (with admin.password).", false,
       text(&S::admin_email, 254)},
      {"admin.password", "", "Password of the first ADMIN (8..128 characters). No default exists.",
       true, text(&S::admin_password, 128)},
      {"security.argon2-memory-kib", "19456", "argon2id memory cost in KiB (OWASP: 19456).", false,
       integer(&S::argon2_memory_kib, 8192, 4 * 1024 * 1024)},
      {"security.argon2-iterations", "2", "argon2id time cost (passes).", false,
       integer(&S::argon2_iterations, 1, 64)},
      {"security.hash-threads", "1",
       "Threads that hash and verify passwords, apart from the HTTP "
       "threads and the actors that sell tickets.",
       false, integer(&S::hash_threads, 1, 64)},
      {"login.max-failures", "5", "Consecutive failed logins for one email before it is throttled.",
       false, integer(&S::login_max_failures, 1, 1000)},
      {"login.failure-window", "15m", "Failures older than this are forgotten.", false,
       duration(&S::login_failure_window, milliseconds{1000}, day)},
      {"login.lockout", "60s", "How long a throttled email (or address) answers 429.", false,
       duration(&S::login_lockout, milliseconds{1000}, day)},
      {"login.max-failures-per-address", "50",
       "Failed logins from one client address within the window before it is throttled.", false,
       integer(&S::login_max_failures_per_address, 1, 1000000)},

      {"log.level", "info", "trace|debug|info|warn|error|off", false,
       [](S& s, const std::string& v) -> std::optional<std::string> {
         static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
         for (auto* l : levels)
           if (v == l) {
             s.log_level = v;
             return std::nullopt;
           }
         return "must be one of trace|debug|info|warn|error|off (got " + quoted(v) + ")";
       }},
      {"log.format", "text", "text|json (one JSON object per line).", false,
       choice(&S::log_format, {{"text", log_format::text}, {"json", log_format::json}})},

      {"purchase.mode", "actor",
       "actor: one actor per event with group commit; lock-per-request: "
       "the classic design, one FOR UPDATE transaction per request (for comparison).",
       false,
       choice(&S::purchase_mode, {{"actor", purchase_mode::actor},
                                  {"lock-per-request", purchase_mode::lock_per_request}})},
      {"purchase.max-per-order", "10", "Largest quantity of one purchase.", false,
       integer(&S::purchase_max_per_order, 1, 1000000)},
      {"event.default-currency", "EUR",
       "Currency of ticket types created without one (ISO 4217, three upper-case letters).", false,
       [](S& s, const std::string& v) -> std::optional<std::string> {
         const bool code = v.size() == 3 && std::all_of(v.begin(), v.end(), [](char c) {
                             return c >= 'A' && c <= 'Z';
                           });
         if (!code)
           return "must be three upper-case letters, e.g. EUR (got " + quoted(v) + ")";
         s.event_default_currency = v;
         return std::nullopt;
       }},
      {"purchase.batch-max", "512", "Most purchases one event actor commits in one transaction.",
       false, integer(&S::purchase_batch_max, 1, 100000)},
      {"purchase.idle-timeout", "60s", "An event actor idle this long is passivated.", false,
       duration(&S::purchase_idle_timeout, milliseconds{10}, day)},
      {"hold.ttl", "15m",
       "How long a hold keeps its tickets for the buyer (POST /api/events/{id}/holds); from its "
       "expiresAt on they are free again.",
       false, duration(&S::hold_ttl, milliseconds{1000}, day)},
      {"purchase.cancel-cutoff", "24h",
       "A buyer may cancel a purchase (POST /api/purchases/{id}/cancel) until this long before "
       "the event starts; an ADMIN until it starts.",
       false, duration(&S::purchase_cancel_cutoff, milliseconds{0}, 366 * day)},
      {"waitlist.offer-ttl", "12h",
       "How long a waitlist offer (a hold made for the next waiting buyer when tickets free up) "
       "keeps its tickets; unconfirmed by then, they go on to the next entries.",
       false, duration(&S::waitlist_offer_ttl, milliseconds{1000}, 366 * day)},
      {"hold.sweep-interval", "1s",
       "How often each node looks for expired holds no running event actor has released "
       "(passivated events, a lost node): the bound on how late an expiry is stored and announced.",
       false, duration(&S::hold_sweep_interval, milliseconds{50}, milliseconds{60000})},
      {"listing.max-age", "1s", "Availability figures in listings lag sales by at most this.",
       false, duration(&S::listing_max_age, milliseconds{10}, milliseconds{1000})},
      {"listing.max-memory-mib", "64",
       "Memory for cached listing pages (MiB); beyond it expired, then oldest pages are dropped.",
       false, integer(&S::listing_max_memory_mib, 1, 65536)},

      {"listing.max-queued-reads", "256",
       "Distinct listing queries waiting for a database read (listings use at most half of "
       "db.pool-size connections); a miss beyond them answers 503.",
       false, integer(&S::listing_max_queued_reads, 1, 1000000)},

      {"health.cache-ttl", "1s",
       "GET /actuator/health answers from a report at most this old "
       "(as Spring Boot's management.endpoint.health.cache.time-to-live); 0ms checks every time.",
       false, duration(&S::health_cache_ttl, milliseconds{0}, milliseconds{60000})},

      {"notify.webhook-url", "",
       "An endpoint kept in configuration: gets every notification type, signed with "
       "notify.webhook-secret, like the endpoints of POST /api/webhooks (docs/api.md, "
       "\"Webhooks\"). Rewritten (and enabled again) at every start; removed when unset.",
       false, url(&S::notify_webhook_url, {"http", "https"})},
      {"notify.webhook-secret", "",
       "The configured endpoint's signing secret: `whsec_` + base64 of at least 24 random bytes "
       "(e.g. `echo whsec_$(openssl rand -base64 32)`). Required with notify.webhook-url.",
       true, text(&S::notify_webhook_secret, 200)},
      {"notify.sweep-interval", "5s",
       "How often undelivered outbox rows, and each endpoint's due messages, are looked for.",
       false, duration(&S::notify_sweep_interval, milliseconds{50}, day)},
      {"notify.timeout", "15s",
       "A webhook attempt without a complete answer within this is a time-out (then retried).",
       false, duration(&S::notify_timeout, milliseconds{100}, milliseconds{300000})},
      {"notify.retry-schedule", "5s,5m,30m,2h,5h,10h,10h",
       "Pauses before each retry of a failed webhook attempt (±10 % jitter; a longer "
       "Retry-After is honoured); after the last one the message is failed.",
       false, apply_retry_schedule},
      {"notify.allow-private-targets", "false",
       "Allow webhook URLs whose host resolves to a loopback, private, link-local or multicast "
       "address (true for receivers on the same host or network).",
       false, choice(&S::notify_allow_private_targets, {{"false", false}, {"true", true}})},
      {"notify.endpoint-concurrency", "4",
       "Webhook attempts in flight per endpoint and node: a slow endpoint holds at most this "
       "many of its own connections, never the others'.",
       false, integer(&S::notify_endpoint_concurrency, 1, 64)},
      {"notify.endpoint-queue", "1000",
       "Messages each endpoint's deliverer holds in memory per node; the rest wait in "
       "PostgreSQL (webhook_messages).",
       false, integer(&S::notify_endpoint_queue, 1, 100000)},

      {"notify.redelivery-delay", "10s",
       "Confirmations not marked delivered this long after their "
       "purchase are delivered again by a sweep (e.g. after a crash).",
       false, duration(&S::notify_redelivery_delay, milliseconds{10}, day)},

      {"retention.interval", "10m",
       "How often each node deletes, in batches, the rows nothing needs any more (the kinds "
       "below; docs/operations.md, \"Retention\"). One node at a time: a node finding another "
       "at it skips its round.",
       false, duration(&S::retention_interval, milliseconds{100}, day)},
      {"retention.batch-size", "1000",
       "Rows deleted per transaction; a round repeats full batches until one comes back short.",
       false, integer(&S::retention_batch_size, 1, 100000)},
      {"retention.login-failures", "24h",
       "A run of failed logins (one email or client address) is deleted this long after it "
       "began, and never while it counts (login.failure-window) or its lockout runs.",
       false, duration(&S::retention_login_failures, milliseconds{1000}, 3650 * day)},
      {"retention.idempotency-keys", "7d",
       "How long a purchase's or hold's Idempotency-Key is remembered: a retry with it within "
       "this answers the original (200, Idempotent-Replayed); after it the key is a new request. "
       "The purchase itself is never deleted.",
       false, duration(&S::retention_idempotency_keys, milliseconds{1000}, 3650 * day)},
      {"retention.holds", "14d",
       "A RELEASED or EXPIRED hold is deleted this long after it ended (GET /api/holds/{id} is "
       "then 404), unless its key is still remembered or it was a waitlist offer. CONFIRMED holds "
       "are kept with their purchase.",
       false, duration(&S::retention_holds, milliseconds{1000}, 3650 * day)},
      {"retention.webhook-deliveries", "30d",
       "Attempts in a webhook's delivery log (GET /api/webhooks/{id}/deliveries) are deleted "
       "this long after they were made, once their message is delivered or failed; a pending "
       "message keeps all of its attempts.",
       false, duration(&S::retention_webhook_deliveries, milliseconds{1000}, 3650 * day)},

      {"actors.threads", "1", "CAF scheduler threads. On 2 cores, 1 is fastest.", false,
       integer(&S::actors_threads, 1, 64)},
      {"cluster.host", "127.0.0.1", "Address other nodes use to reach this node's cluster port.",
       false, text(&S::cluster_host, 255)},
      {"cluster.port", "0", "Port accepting cluster members (0: no cluster unless seeds are set).",
       false, integer(&S::cluster_port, 0, 65535)},
      {"cluster.bind", "0.0.0.0",
       "Address the cluster port listens on (keep it on a private network: members are "
       "authenticated by certificate, but any member may act for the whole cluster).",
       false, text(&S::cluster_bind, 255)},
      {"cluster.seeds", "",
       "Comma-separated host:port of members to join (this node's own address "
       "may be listed: it is skipped).",
       false, apply_seeds},
      {"cluster.heartbeat-interval", "500ms", "Heartbeats between members.", false,
       duration(&S::cluster_heartbeat_interval, milliseconds{10}, milliseconds{60000})},
      {"cluster.connection-timeout", "2s", "A member silent this long is considered down.", false,
       duration(&S::cluster_connection_timeout, milliseconds{100}, milliseconds{600000})},
      {"cluster.forward-timeout", "3s", "Wait for an owner node before selling locally.", false,
       duration(&S::cluster_forward_timeout, milliseconds{10}, milliseconds{600000})},
      {"cluster.tls-ca", "",
       "PEM file of the cluster CA: only members with a certificate it signed may connect "
       "(scripts/cluster-certs makes one).",
       false, text(&S::cluster_tls_ca)},
      {"cluster.tls-certificate", "",
       "PEM file of this node's certificate (chain), signed by the cluster CA.", false,
       text(&S::cluster_tls_certificate)},
      {"cluster.tls-key", "", "PEM file of this node's private key (unencrypted; keep it 0600).",
       false, text(&S::cluster_tls_key)},
      {"cluster.insecure", "false",
       "true: run a cluster without TLS, where anyone who reaches cluster.port can join and act "
       "as a member. Only for a trusted network or a test.",
       false, choice(&S::cluster_insecure, {{"false", false}, {"true", true}})},

      {"docs.swagger-ui-dir", default_swagger_ui_dir(),
       "Directory of the npm package swagger-ui-dist served at /swagger-ui/ (the build installs "
       "it here; without it /swagger-ui/ answers 404).",
       false, text(&S::docs_swagger_ui_dir)},
  };
}

} // namespace

std::string default_swagger_ui_dir() {
  return EVENTHUB_SWAGGER_UI_DIR; // set by config/CMakeLists.txt
}

const std::vector<option>& options() {
  static const std::vector<option> table = make_options();
  return table;
}

const option* find_option(const std::string& key) {
  for (const auto& o : options())
    if (o.key == key)
      return &o;
  return nullptr;
}

std::string env_name(const std::string& key) {
  std::string name = "EVENTHUB_";
  for (char c : key)
    name += (c == '.' || c == '-') ? '_'
                                   : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

} // namespace eventhub::config
