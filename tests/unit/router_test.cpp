// Route matching: 404, 405 + Allow before authentication, path parameters, roles.
#include "http/router.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace eventhub;
using namespace eventhub::http;

namespace {

/// Participants lookup for the authenticator: every id exists.
class everyone_exists final : public domain::participant_service {
 public:
  void register_participant(domain::new_participant, domain::origin,
                            domain::reply<domain::participant>) override {}
  void login(domain::login_request, domain::reply<domain::access_token>) override {}
  void find_participant(std::int64_t id, domain::reply<domain::participant> done) override {
    domain::participant p;
    p.id = id;
    done(p);
  }
  void list_participants(domain::page_request,
                         domain::reply<domain::page<domain::participant>>) override {}
};

struct fixture {
  std::shared_ptr<const security::token_service> tokens = std::make_shared<security::token_service>(
      std::string(40, 's'), "eventhub", std::chrono::seconds(60));
  everyone_exists participants;
  std::vector<std::string> handled;

  router make() {
    auto mark = [this](std::string name) {
      return [this, name](const call& c) {
        std::string params;
        for (const auto& p : c.params)
          params += "/" + p;
        handled.push_back(name + params);
        c.respond(json_response(200, "{}"));
      };
    };
    return router({{"GET", "/api/events", access::anyone, mark("list"), ""},
                   {"POST", "/api/events", access::admin, mark("create"), ""},
                   {"GET", "/api/events/{id}", access::anyone, mark("get"), ""},
                   {"POST", "/api/events/{id}/purchases", access::user, mark("buy"), ""},
                   {"GET", "/api/me", access::signed_in, mark("me"), ""},
                   {"GET", "/api/purchases/{id}", access::user_or_admin, mark("read"), ""},
                   {"POST", "/api/events/{id}/checkins", access::staff_or_admin, mark("scan"), ""}},
                  std::make_shared<authenticator>(tokens, participants));
  }

  response send(const router& r, std::string method, std::string path, std::string token = "") {
    request req;
    req.method = std::move(method);
    req.path = std::move(path);
    if (!token.empty())
      req.headers.emplace_back("authorization", "Bearer " + token);
    response out;
    r.dispatch(
        std::move(req), [&out](response res) { out = std::move(res); },
        [](std::function<void()> step) { step(); }); // already on the "I/O thread"
    return out;
  }

  std::string token(domain::role role) { return tokens->issue(5, role, domain::now()).token; }
};

std::string header(const response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name)
      return v;
  return {};
}

} // namespace

TEST_CASE_METHOD(fixture, "unknown paths are 404, known paths with a wrong method 405 + Allow") {
  auto r = make();
  CHECK(send(r, "GET", "/api/nothing").status == 404);
  CHECK(send(r, "GET", "/api/events/1/unknown").status == 404);
  auto not_allowed = send(r, "DELETE", "/api/events");
  CHECK(not_allowed.status == 405);
  CHECK(header(not_allowed, "Allow") == "GET, POST");
  CHECK(not_allowed.content_type == "application/problem+json");
  // before authentication: no token needed to learn the allowed methods
  CHECK(send(r, "PUT", "/api/events/1/purchases").status == 405);
  CHECK(handled.empty());
}

TEST_CASE_METHOD(fixture, "path parameters are passed in order") {
  auto r = make();
  CHECK(send(r, "GET", "/api/events/42").status == 200);
  CHECK(send(r, "GET", "/api/events").status == 200);
  CHECK(handled == std::vector<std::string>{"get/42", "list"});
}

TEST_CASE_METHOD(fixture, "401 without or with a bad token, 403 with the wrong role") {
  auto r = make();
  auto missing = send(r, "POST", "/api/events");
  CHECK(missing.status == 401);
  CHECK(header(missing, "WWW-Authenticate") == "Bearer");
  CHECK(send(r, "POST", "/api/events", "garbage").status == 401);
  CHECK(send(r, "POST", "/api/events", token(domain::role::user)).status == 403);
  CHECK(send(r, "POST", "/api/events/1/purchases", token(domain::role::admin)).status == 403);
  CHECK(handled.empty());
  CHECK(send(r, "POST", "/api/events", token(domain::role::admin)).status == 200);
  CHECK(send(r, "POST", "/api/events/3/purchases", token(domain::role::user)).status == 200);
  CHECK(send(r, "GET", "/api/me", token(domain::role::user)).status == 200);
  CHECK(send(r, "GET", "/api/me", token(domain::role::admin)).status == 200);
  CHECK(handled == std::vector<std::string>{"create", "buy/3", "me", "me"});
}

TEST_CASE_METHOD(fixture, "STAFF may sign in and scan, and nothing else") {
  auto r = make();
  const auto staff = token(domain::role::staff);
  CHECK(send(r, "GET", "/api/me", staff).status == 200);
  CHECK(send(r, "POST", "/api/events/1/checkins", staff).status == 200);
  CHECK(send(r, "POST", "/api/events", staff).status == 403);
  CHECK(send(r, "POST", "/api/events/1/purchases", staff).status == 403);
  CHECK(send(r, "GET", "/api/purchases/1", staff).status == 403);
  CHECK(send(r, "GET", "/api/purchases/1", token(domain::role::user)).status == 200);
  CHECK(send(r, "GET", "/api/purchases/2", token(domain::role::admin)).status == 200);
  CHECK(send(r, "POST", "/api/events/1/checkins", token(domain::role::user)).status == 403);
  CHECK(handled == std::vector<std::string>{"me", "scan/1", "read/1", "read/2"});
  CHECK(allows(access::staff_or_admin, domain::role::admin));
  CHECK_FALSE(allows(access::user, domain::role::staff));
}

TEST_CASE_METHOD(fixture,
                 "a token verified once is not trusted by an authenticator with another key") {
  auto first = make();
  const auto admin = token(domain::role::admin);
  CHECK(send(first, "POST", "/api/events", admin).status == 200); // verified and cached
  tokens = std::make_shared<security::token_service>(std::string(40, 'k'), "eventhub",
                                                     std::chrono::seconds(60));
  auto second = make();
  CHECK(send(second, "POST", "/api/events", admin).status == 401);
  CHECK(send(first, "POST", "/api/events", admin).status == 200);
}

TEST_CASE_METHOD(fixture, "a cached token stops working when it expires") {
  auto r = make();
  // issued 59 s ago with a 60 s lifetime: valid now, expired two seconds from now
  const auto issued = domain::now() - std::chrono::seconds(59);
  const auto soon_expired = tokens->issue(5, domain::role::admin, issued).token;
  CHECK(send(r, "POST", "/api/events", soon_expired).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  CHECK(send(r, "POST", "/api/events", soon_expired).status == 401);
}
