// The route table and the request pipeline: match (404/405 + Allow, for anyone), authenticate
// (401), check the role (403), then hand the request to the route's handler.
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

/// Who may call a route.
enum class access { anyone, signed_in, user, admin };
const char* to_string(access a);

/// One request as a handler sees it.
struct call {
  std::shared_ptr<const request> req;
  std::vector<std::string> params; // path parameters, in pattern order
  std::optional<domain::principal> caller;
  respond_fn respond;

  void fail(const domain::error& e) const { respond(problem(e, req->path)); }
};

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

  /// Runs the pipeline; `respond` is called exactly once (possibly on another thread).
  void dispatch(request req, respond_fn respond) const;

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
