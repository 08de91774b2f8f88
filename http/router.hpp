// The route table and the request pipeline: match (404/405 + Allow, for anyone), authenticate
// (401), check the role (403), then hand the request to the route's handler.
//
// Where an answer is made: on the connection's I/O thread, always. The core answers on whatever
// thread it is on (a DB worker, an event actor), so every reply the HTTP layer hands to it is
// made by on_io(), which only moves the typed result onto the connection's executor; the
// handler's next step, rendering (domain/json), the access log and the metrics run there. So
// the core never spends its threads on HTTP, the per-thread caches (metrics series, verified
// tokens) live on the I/O threads only, and a late reply (after the timeout's 503) is dropped
// by the session before it does any work. docs/architecture.md, "Where an answer is made".
#pragma once

#include "domain/model.hpp"
#include "domain/result.hpp"
#include "http/authenticator.hpp"
#include "http/client_address.hpp"
#include "http/message.hpp"
#include "http/problem.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::http {

/// Who may call a route. signed_in is any role, STAFF included; the others name the roles
/// allowed (STAFF may only sign in and check tickets in: every other protected route is 403).
enum class access { anyone, signed_in, user, admin, user_or_admin, staff_or_admin };
const char* to_string(access a);

/// Whether a signed-in caller of `role` may call a route of `a`.
bool allows(access a, domain::role role);

/// The roles `a` allows, for documentation; empty for anyone and signed_in.
std::vector<domain::role> roles_of(access a);

/// One request as a handler sees it.
struct call {
  std::shared_ptr<const request> req;
  std::vector<std::string> params; // path parameters, in pattern order
  std::optional<domain::principal> caller;
  respond_fn respond;
  post_fn post; // runs a step on this request's I/O thread: see on_io

  void fail(const domain::error& e) const { respond(problem(e, req->path)); }
};

/// The reply for a service call made while handling `c`: `then(domain::result<T>)` runs on
/// `c`'s I/O thread, never on the core's (see the top of this file).
template <class T, class F> domain::reply<T> on_io(const call& c, F then) {
  return on_io<T>(c.post, std::move(then));
}

using handler_fn = std::function<void(const call&)>;

struct route {
  std::string method;
  std::string pattern; // "/api/events/{id}"; a final "{file}" matches one segment
  http::access access;
  handler_fn handle;
  std::string summary; // for the OpenAPI document and logs
};

class router {
 public:
  /// `trusted_proxies`: peers whose X-Forwarded-For names the client (http.trusted-proxies).
  router(std::vector<route> routes, std::shared_ptr<authenticator> auth,
         std::vector<network> trusted_proxies = {});

  /// Runs the pipeline on the connection's I/O thread; `respond` is called exactly once, on that
  /// thread, and `post` brings every later step of the request back to it.
  void dispatch(request req, respond_fn respond, post_fn post) const;

  const std::vector<route>& routes() const { return routes_; }

 private:
  struct match {
    const route* found = nullptr;
    std::vector<std::string> params;
    std::vector<std::string> allowed; // methods of the path, for 405
  };
  match find(const std::string& method, const std::string& path) const;
  void authorize(const route& r, call c) const;

  std::vector<route> routes_;
  std::vector<std::vector<std::string>> segments_; // split patterns, parallel to routes_
  std::shared_ptr<authenticator> auth_;
  std::vector<network> trusted_proxies_;
};

/// Splits "/a/b/c" into {"a","b","c"}; a trailing slash yields an empty last segment.
std::vector<std::string> split_path(const std::string& path);

} // namespace eventhub::http
