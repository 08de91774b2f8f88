// The DB pool's bounds, step by step: jobs beyond the queue are refused at once, a job whose
// deadline passed is failed instead of run, and a job that throws answers 500 without taking
// its worker down. Workers run on the test's thread here (no database: the jobs touch none).
#include "actors/db_request.hpp"
#include "tests/actors/actor_fixture.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace eventhub;
using namespace eventhub::actors;
using eventhub::test::deterministic_system;

namespace {

db_job job_returning(int value, std::chrono::milliseconds due_in = std::chrono::seconds(10)) {
  return make_db_job<int>(std::chrono::steady_clock::now() + due_in,
                          [value](persistence::session&) { return value; });
}

db_pool_actor spawn_pool(deterministic_system& t, int size, int queue_max) {
  db_pool_options o;
  o.size = size;
  o.queue_max = queue_max;
  o.detached_workers = false;
  auto pool = t.keep(spawn_db_pool(t.sys(), o));
  t.run(); // the workers report idle
  return pool;
}

domain::result<int> value_of(const std::shared_ptr<std::optional<db_answer>>& a) {
  REQUIRE(a->has_value());
  return (*a)->take<int>();
}

} // namespace

SCENARIO("jobs beyond the pool's queue are refused at once") {
  deterministic_system t;
  auto pool = spawn_pool(t, 1, 1);
  auto running = t.ask<db_answer>(pool, run_atom::value, job_returning(1));
  auto waiting = t.ask<db_answer>(pool, run_atom::value, job_returning(2));
  auto refused = t.ask<db_answer>(pool, run_atom::value, job_returning(3));
  t.run();
  CHECK(*value_of(running) == 1);
  CHECK(*value_of(waiting) == 2);
  auto r = value_of(refused);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == domain::error_code::unavailable);
}

SCENARIO("a job whose deadline passed is failed, not run") {
  deterministic_system t;
  auto pool = spawn_pool(t, 1, 10);
  bool ran = false;
  auto job = make_db_job<int>(std::chrono::steady_clock::now() - std::chrono::milliseconds(1),
                              [&ran](persistence::session&) {
                                ran = true;
                                return 1;
                              });
  auto late = t.ask<db_answer>(pool, run_atom::value, job);
  t.run();
  auto r = value_of(late);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == domain::error_code::unavailable);
  CHECK_FALSE(ran);
}

SCENARIO("a job that throws answers an internal error and its worker serves the next job") {
  deterministic_system t;
  auto pool = spawn_pool(t, 1, 10);
  auto bad =
      make_db_job<int>(std::chrono::steady_clock::now() + std::chrono::seconds(1),
                       [](persistence::session&) -> int { throw std::runtime_error("boom"); });
  auto failed = t.ask<db_answer>(pool, run_atom::value, bad);
  auto next = t.ask<db_answer>(pool, run_atom::value, job_returning(5));
  t.run();
  auto r = value_of(failed);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == domain::error_code::internal);
  CHECK(r.err().detail == "Internal error.");
  CHECK(*value_of(next) == 5);
}
