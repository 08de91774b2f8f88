// Route matching, the security pipeline, and per-request metrics and access logs.
#include "http/router.hpp"

#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <algorithm>
#include <unordered_map>

namespace eventhub::http {
namespace {

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

/// The label of a request's method: unmatched requests may carry any method name, which must not
/// become a new metrics series each (a cardinality attack), so unknown ones read "OTHER".
const char* method_label(const std::string& method) {
  static const char* known[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
  for (const char* k : known)
    if (method == k)
      return k;
  return "OTHER";
}

struct http_series {
  metrics::counter* requests;
  metrics::histogram* latency;
};

/// (route label, method label, status): the labels are strings with a stable address (the
/// route table's patterns, literals), so the key needs no allocation.
struct series_key {
  const std::string* route;
  const char* method;
  int status;
  bool operator==(const series_key& o) const {
    return route == o.route && method == o.method && status == o.status;
  }
};

struct series_key_hash {
  std::size_t operator()(const series_key& k) const {
    return std::hash<const void*>()(k.route) ^ (std::hash<const void*>()(k.method) << 1) ^
           (static_cast<std::size_t>(k.status) << 3);
  }
};

/// The series of (method, route, status). Each I/O thread keeps the ones it has used (every
/// answer is made on one), so the registry's mutex is taken once per series and thread, not
/// per request.
const http_series& series_of(const char* method, const std::string& route, int status) {
  thread_local std::unordered_map<series_key, http_series, series_key_hash> cache;
  const series_key key{&route, method, status};
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;
  auto& registry = metrics::registry::global();
  const metrics::labels labels{
      {"method", method}, {"route", route}, {"status", std::to_string(status)}};
  http_series s{&registry.get_counter("eventhub_http_requests_total",
                                      "HTTP requests by route and status", labels),
                &registry.get_histogram("eventhub_http_request_duration_seconds",
                                        "HTTP request latency by route and status",
                                        metrics::latency_buckets(), labels)};
  return cache.emplace(key, s).first->second;
}

/// Wraps `respond` so that each answer is counted, timed and logged once, on the I/O thread that
/// answers. `route_label` must outlive the router (a pattern of the route table, or the static
/// "unmatched").
respond_fn observed(const request& req, const std::string& route_label, respond_fn respond) {
  return [respond = std::move(respond), route = &route_label, method = method_label(req.method),
          request_id = req.request_id, started = req.received_at](response res) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto& series = series_of(method, *route, res.status);
    series.requests->inc();
    series.latency->observe(seconds);
    if (log::enabled(log::level::info))
      log::info("http.request", {{"method", method},
                                 {"route", *route},
                                 {"status", res.status},
                                 {"duration_ms", seconds * 1000.0},
                                 {"request_id", request_id}});
    respond(std::move(res));
  };
}

} // namespace

const char* to_string(access a) {
  switch (a) {
  case access::anyone:
    return "anyone";
  case access::signed_in:
    return "signed-in";
  case access::user:
    return "USER";
  case access::admin:
    return "ADMIN";
  case access::user_or_admin:
    return "USER or ADMIN";
  case access::staff_or_admin:
    return "STAFF or ADMIN";
  }
  return "anyone";
}

std::vector<domain::role> roles_of(access a) {
  using domain::role;
  switch (a) {
  case access::user:
    return {role::user};
  case access::admin:
    return {role::admin};
  case access::user_or_admin:
    return {role::user, role::admin};
  case access::staff_or_admin:
    return {role::staff, role::admin};
  default:
    return {};
  }
}

bool allows(access a, domain::role role) {
  if (a == access::anyone || a == access::signed_in)
    return true;
  const auto roles = roles_of(a);
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (true) {
    auto slash = path.find('/', start);
    out.push_back(
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return out;
}

router::router(std::vector<route> routes, std::shared_ptr<authenticator> auth,
               std::vector<network> trusted_proxies)
    : routes_(std::move(routes)), auth_(std::move(auth)),
      trusted_proxies_(std::move(trusted_proxies)) {
  for (const auto& r : routes_)
    segments_.push_back(split_path(r.pattern));
}

router::match router::find(const std::string& method, const std::string& path) const {
  match m;
  const auto parts = split_path(path);
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& pattern = segments_[i];
    if (pattern.size() != parts.size())
      continue;
    std::vector<std::string> params;
    bool ok = true;
    for (std::size_t k = 0; k < parts.size() && ok; ++k) {
      if (is_param(pattern[k]))
        params.push_back(parts[k]);
      else
        ok = pattern[k] == parts[k];
    }
    if (!ok)
      continue;
    if (routes_[i].method == method && !m.found) {
      m.found = &routes_[i];
      m.params = std::move(params);
    }
    m.allowed.push_back(routes_[i].method);
  }
  std::sort(m.allowed.begin(), m.allowed.end());
  m.allowed.erase(std::unique(m.allowed.begin(), m.allowed.end()), m.allowed.end());
  return m;
}

void router::dispatch(request req, respond_fn respond, post_fn post) const {
  if (!trusted_proxies_.empty())
    req.remote_address =
        client_address(req.remote_address, req.header("x-forwarded-for"), trusted_proxies_);
  auto m = find(req.method, req.path);
  if (!m.found) {
    const bool known_path = !m.allowed.empty();
    static const std::string unmatched = "unmatched";
    auto answer = observed(req, unmatched, std::move(respond));
    if (!known_path)
      return answer(problem(404, "not-found", "No resource at this path.", req.path));
    std::string allow;
    for (const auto& method : m.allowed)
      allow += (allow.empty() ? "" : ", ") + method;
    return answer(problem(405, "method-not-allowed", "Allowed methods: " + allow + ".", req.path)
                      .with_header("Allow", allow));
  }
  const route& r = *m.found;
  auto shared = std::make_shared<const request>(std::move(req));
  call c{shared, std::move(m.params), std::nullopt,
         observed(*shared, r.pattern, std::move(respond)), std::move(post)};
  if (r.access == access::anyone)
    return r.handle(c);
  authorize(r, std::move(c));
}

void router::authorize(const route& r, call c) const {
  // The authenticator answers on this I/O thread: at once for a participant it knows, else
  // through on_io with its lookup's result. So the handler never runs on a DB worker.
  auth_->authenticate(*c.req, c.post, [&r, c](domain::result<domain::principal> who) mutable {
    if (!who.ok())
      return c.fail(who.err());
    if (!allows(r.access, who->role))
      return c.fail(domain::make_error(domain::error_code::forbidden,
                                       std::string("This operation requires the role ") +
                                           to_string(r.access) + "."));
    c.caller = *who;
    r.handle(c);
  });
}

} // namespace eventhub::http
