// Answers are made on the connection's I/O thread: a core that answers from its own threads
// only hands the result back (on_io), and rendering, the handler's next step and the response
// happen when the I/O thread runs the posted step (router.hpp).
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"
#include "http/router.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <mutex>
#include <thread>

using namespace eventhub;
using namespace eventhub::http;

namespace {

/// The test's "I/O thread" is the test thread: a step posted from it runs at once (as
/// net::dispatch does), one posted from any other thread waits in the queue until drain().
class io_queue {
 public:
  post_fn post() {
    return [this](std::function<void()> step) {
      if (std::this_thread::get_id() == io_thread)
        return step();
      std::lock_guard<std::mutex> guard(mutex_);
      steps_.push_back(std::move(step));
    };
  }

  std::size_t waiting() {
    std::lock_guard<std::mutex> guard(mutex_);
    return steps_.size();
  }

  /// Runs the queued steps on this thread; returns how many ran.
  std::size_t drain() {
    std::deque<std::function<void()>> now;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      now.swap(steps_);
    }
    for (auto& step : now)
      step();
    return now.size();
  }

  const std::thread::id io_thread = std::this_thread::get_id();

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> steps_;
};

/// A core that answers every call from a thread of its own, like a DB worker or an actor.
class core_threads {
 public:
  ~core_threads() { join(); }

  template <class T> void answer(domain::reply<T> done, domain::result<T> r) {
    threads_.emplace_back([this, done = std::move(done), r = std::move(r)]() mutable {
      {
        std::lock_guard<std::mutex> guard(mutex_);
        answered_on_.push_back(std::this_thread::get_id());
      }
      done(std::move(r));
    });
  }

  /// Waits until every answer has been handed to its reply.
  void join() {
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  std::vector<std::thread::id> answered_on() {
    std::lock_guard<std::mutex> guard(mutex_);
    return answered_on_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> answered_on_;
};

class fake_participants final : public domain::participant_service {
 public:
  explicit fake_participants(core_threads& core) : core_(core) {}
  void register_participant(domain::new_participant, domain::origin,
                            domain::reply<domain::participant>) override {}
  void login(domain::login_request, domain::reply<domain::access_token>) override {}
  void find_participant(std::int64_t id, domain::reply<domain::participant> done) override {
    domain::participant p;
    p.id = id;
    core_.answer<domain::participant>(std::move(done), p);
  }
  void list_participants(domain::page_request,
                         domain::reply<domain::page<domain::participant>>) override {}

 private:
  core_threads& core_;
};

class fake_events final : public domain::event_service {
 public:
  explicit fake_events(core_threads& core) : core_(core) {}
  std::optional<domain::rendered_page> fresh_listing(const domain::event_query&) override {
    return std::nullopt;
  }
  void list_events(domain::event_query, domain::reply<domain::rendered_page>) override {}
  void find_event(std::int64_t id, domain::reply<domain::event> done) override {
    domain::event e;
    e.id = id;
    e.name = "Concert";
    core_.answer<domain::event>(std::move(done), e);
  }
  void create_event(domain::event_draft, domain::origin, domain::reply<domain::event>) override {}
  void update_event(std::int64_t, domain::event_draft, domain::origin,
                    domain::reply<domain::event>) override {}
  void delete_event(std::int64_t, domain::origin, domain::reply<domain::unit>) override {}
  void list_attendees(std::int64_t, domain::page_request,
                      domain::reply<domain::page<domain::attendee>>) override {}
  void create_ticket_type(std::int64_t, domain::ticket_type_draft, domain::origin,
                          domain::reply<domain::ticket_type_view>) override {}
  void find_ticket_type(std::int64_t, std::int64_t,
                        domain::reply<domain::ticket_type_view>) override {}
  void update_ticket_type(std::int64_t, std::int64_t, domain::ticket_type_draft, domain::origin,
                          domain::reply<domain::ticket_type_view>) override {}
  void delete_ticket_type(std::int64_t, std::int64_t, domain::origin,
                          domain::reply<domain::unit>) override {}

 private:
  core_threads& core_;
};

class no_purchases final : public domain::purchase_service,
                           public domain::hold_service,
                           public domain::waitlist_service,
                           public domain::ticket_service,
                           public domain::webhook_service,
                           public domain::audit_service {
 public:
  void purchase(domain::purchase_request, domain::reply<domain::purchase_outcome>) override {}
  void find_purchase(std::int64_t, domain::principal, domain::reply<domain::purchase>) override {}
  void list_purchases(std::int64_t, domain::page_request,
                      domain::reply<domain::page<domain::purchase>>) override {}
  void cancel_purchase(domain::purchase_request, domain::principal,
                       domain::reply<domain::purchase_outcome>) override {}
  void create_hold(domain::purchase_request, domain::reply<domain::purchase_outcome>) override {}
  void settle_hold(domain::purchase_request, domain::principal,
                   domain::reply<domain::purchase_outcome>) override {}
  void find_hold(std::int64_t, domain::principal, domain::reply<domain::hold>) override {}
  void list_holds(std::int64_t, domain::page_request,
                  domain::reply<domain::page<domain::hold>>) override {}
  void join_waitlist(domain::purchase_request, domain::reply<domain::purchase_outcome>) override {}
  void leave_waitlist(domain::purchase_request, domain::principal,
                      domain::reply<domain::purchase_outcome>) override {}
  void find_entry(std::int64_t, domain::principal, domain::reply<domain::waitlist_entry>) override {
  }
  void list_entries_of(std::int64_t, domain::page_request,
                       domain::reply<domain::page<domain::waitlist_entry>>) override {}
  void list_event_entries(std::int64_t, domain::page_request,
                          domain::reply<domain::page<domain::waitlist_entry>>) override {}
  void purchase_tickets(std::int64_t, domain::principal,
                        domain::reply<std::vector<domain::ticket>>) override {}
  void list_tickets(std::int64_t, std::optional<std::int64_t>, domain::page_request,
                    domain::reply<domain::page<domain::ticket>>) override {}
  void find_ticket(std::int64_t, domain::principal, domain::reply<domain::ticket>) override {}
  void checkin_key(std::int64_t, domain::reply<domain::checkin_key>) override {}
  void check_in(std::int64_t, std::vector<domain::scan>, domain::origin,
                domain::reply<std::vector<domain::scan_outcome>>) override {}
  void checkin_stats(std::int64_t, domain::reply<domain::checkin_stats>) override {}
  void create_webhook(domain::webhook_draft, domain::origin,
                      domain::reply<domain::webhook_endpoint>) override {}
  void list_webhooks(domain::page_request,
                     domain::reply<domain::page<domain::webhook_endpoint>>) override {}
  void find_webhook(std::int64_t, domain::reply<domain::webhook_endpoint>) override {}
  void delete_webhook(std::int64_t, domain::origin, domain::reply<domain::unit>) override {}
  void list_deliveries(std::int64_t, domain::page_request,
                       domain::reply<domain::page<domain::delivery_attempt>>) override {}
  void list_audit(domain::audit_query, domain::reply<domain::page<domain::audit_entry>>) override {}
};

class fake_operations final : public domain::operations_service {
 public:
  explicit fake_operations(core_threads& core) : core_(core) {}
  std::optional<domain::health_report> fresh_health() override { return std::nullopt; }
  void health(domain::reply<domain::health_report> done) override {
    domain::health_report r;
    r.db_up = true;
    core_.answer<domain::health_report>(std::move(done), r);
  }

 private:
  core_threads& core_;
};

/// What reached the client, and on which thread.
struct answered {
  std::optional<response> res;
  std::thread::id on;
};

struct fixture {
  io_queue io;
  core_threads core;
  fake_participants participants{core};
  fake_events events{core};
  no_purchases purchases;
  fake_operations operations{core};
  handler_context ctx{{participants, events, purchases, purchases, purchases, purchases, purchases,
                       purchases, operations},
                      10,
                      nullptr};
  std::shared_ptr<const security::token_service> tokens = std::make_shared<security::token_service>(
      std::string(40, 's'), "eventhub", std::chrono::seconds(60));

  router make(std::vector<route> routes) {
    return router(std::move(routes), std::make_shared<authenticator>(tokens, participants));
  }

  void send(const router& r, std::string path, answered& out, std::string token = "") {
    request req;
    req.method = "GET";
    req.path = std::move(path);
    if (!token.empty())
      req.headers.emplace_back("authorization", "Bearer " + token);
    r.dispatch(
        std::move(req),
        [&out](response res) {
          out.on = std::this_thread::get_id();
          out.res = std::move(res);
        },
        io.post());
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a result from a core thread is rendered on the I/O thread") {
  std::optional<std::thread::id> rendered_on;
  auto r = make({{"GET", "/api/events/{id}", access::anyone,
                  [this, &rendered_on](const call& c) {
                    events.find_event(7, answer<domain::event>(c, [&](const domain::event& e) {
                                        rendered_on = std::this_thread::get_id();
                                        return json_response(200, domain::to_json(e));
                                      }));
                  },
                  ""}});
  answered out;
  send(r, "/api/events/7", out);
  core.join(); // the core has answered, from its own thread
  REQUIRE(core.answered_on().size() == 1);
  CHECK(core.answered_on()[0] != io.io_thread);
  CHECK_FALSE(rendered_on); // nothing rendered on the core's thread
  CHECK_FALSE(out.res);
  CHECK(io.waiting() == 1); // only the result, waiting for the I/O thread

  CHECK(io.drain() == 1);
  REQUIRE(rendered_on);
  CHECK(*rendered_on == io.io_thread);
  REQUIRE(out.res);
  CHECK(out.on == io.io_thread);
  CHECK(out.res->status == 200);
  CHECK(out.res->body.find("\"name\":\"Concert\"") != std::string::npos);
}

TEST_CASE_METHOD(fixture, "the real handlers answer on the I/O thread, errors included") {
  auto r = make({{"GET", "/api/events/{id}", access::anyone, handlers::get_event(ctx), ""},
                 {"GET", "/actuator/health", access::anyone, handlers::health(ctx), ""}});
  answered event, health, bad_id;
  send(r, "/api/events/3", event);
  send(r, "/actuator/health", health);
  send(r, "/api/events/x", bad_id); // refused by the handler itself, on the I/O thread
  REQUIRE(bad_id.res);
  CHECK(bad_id.res->status == 400);
  core.join();
  CHECK(core.answered_on().size() == 2);
  CHECK_FALSE(event.res);
  CHECK_FALSE(health.res);

  CHECK(io.drain() == 2);
  REQUIRE(event.res);
  REQUIRE(health.res);
  CHECK(event.on == io.io_thread);
  CHECK(health.on == io.io_thread);
  CHECK(event.res->status == 200);
  CHECK(event.res->body.rfind("{\"id\":3,", 0) == 0);
  CHECK(health.res->status == 200);
  CHECK(health.res->body.rfind("{\"status\":\"UP\"", 0) == 0);
}

TEST_CASE_METHOD(
    fixture, "a participant looked up on a DB thread is handled on the I/O thread, then known") {
  std::vector<std::thread::id> handled_on;
  auto r = make({{"GET", "/api/me", access::signed_in,
                  [&handled_on](const call& c) {
                    handled_on.push_back(std::this_thread::get_id());
                    c.respond(json_response(200, "{}"));
                  },
                  ""}});
  const auto token = tokens->issue(5, domain::role::user, domain::now()).token;
  answered first;
  send(r, "/api/me", first, token);
  core.join();               // the lookup has answered, from a "DB worker"
  CHECK(handled_on.empty()); // the handler did not run inside the lookup's reply
  CHECK_FALSE(first.res);

  CHECK(io.drain() == 1);
  REQUIRE(handled_on.size() == 1);
  CHECK(handled_on[0] == io.io_thread);
  REQUIRE(first.res);
  CHECK(first.res->status == 200);
  CHECK(first.on == io.io_thread);

  answered second; // the participant is known now: handled at once, nothing queued
  send(r, "/api/me", second, token);
  REQUIRE(second.res);
  CHECK(second.res->status == 200);
  CHECK(handled_on.size() == 2);
  CHECK(io.waiting() == 0);
  CHECK(core.answered_on().size() == 1);
}
