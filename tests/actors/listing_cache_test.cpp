// The listing cache, step by step: single flight, the fill cap and its bounded queue,
// generations across an invalidation, and the byte budget. Pages come from an in-memory reader.
#include "actors/listing_board.hpp"
#include "actors/listing_cache.hpp"
#include "tests/actors/actor_fixture.hpp"

#include <caf/send.hpp>
#include <catch2/catch.hpp>

using namespace eventhub;
using namespace eventhub::actors;
using eventhub::test::deterministic_system;

namespace {

domain::event_query query(const std::string& text) {
  domain::event_query q;
  q.text = text;
  return q;
}

/// Reads pages whose single event is named after the query text (and the read's number), with a
/// description of `padding` bytes.
struct fake_catalog {
  int reads = 0;
  std::size_t padding = 0;

  domain::page<domain::event> read(const domain::event_query& q) {
    ++reads;
    domain::page<domain::event> page;
    domain::event e;
    e.id = reads;
    e.name = q.text.value_or("") + " #" + std::to_string(reads);
    e.venue = "Hall";
    e.description = std::string(padding, 'x');
    page.items.push_back(e);
    page.total_items = 1;
    return page;
  }
};

struct cache_fixture {
  deterministic_system t;
  test::fake_pool_actor pool = t.spawn_fake_pool();
  std::shared_ptr<fake_catalog> catalog = std::make_shared<fake_catalog>();
  std::shared_ptr<listing_board> board;
  listing_cache_actor cache;

  explicit cache_fixture(listing_cache_options o = {}) {
    board = std::make_shared<listing_board>(o.max_age);
    auto reader = [c = catalog](persistence::session&, const domain::event_query& q) {
      return c->read(q);
    };
    cache = t.keep(spawn_listing_cache(t.sys(), pool, o, board, reader));
    t.run();
  }

  auto list(const std::string& text) {
    return t.ask<listing_answer>(cache, list_atom::value, query(text));
  }
  std::size_t jobs_held() { return t.pool_state(pool).held.size(); }
};

std::string body_of(const std::shared_ptr<std::optional<listing_answer>>& a) {
  REQUIRE(a->has_value());
  REQUIRE((*a)->ok());
  return *(**a)->body;
}

listing_cache_options long_lived(std::size_t max_fills = 2, std::size_t max_queued = 256) {
  listing_cache_options o;
  o.max_age = std::chrono::hours(1);
  o.max_fills = max_fills;
  o.max_queued_fills = max_queued;
  return o;
}

} // namespace

SCENARIO("misses of one page share one database read") {
  cache_fixture f(long_lived());
  auto a = f.list("jazz");
  auto b = f.list("jazz");
  auto c = f.list("jazz");
  f.t.run();
  CHECK(f.jobs_held() == 1);
  f.t.release(f.pool);
  CHECK(f.catalog->reads == 1);
  CHECK(body_of(a) == body_of(b));
  CHECK(body_of(b) == body_of(c));
  AND_THEN("the page is kept: the next request reads nothing") {
    auto d = f.list("jazz");
    f.t.run();
    CHECK(body_of(d) == body_of(a));
    CHECK(f.jobs_held() == 0);
    f.t.fire_timers(); // the snapshot is published a moment after a fill
    bool refresh = false;
    CHECK(f.board->lookup(query("jazz").cache_key(), refresh).has_value());
  }
}

SCENARIO(
    "listing reads never take more than max_fills connections; beyond the queue, 503 at once") {
  cache_fixture f(long_lived(1, 1));
  auto first = f.list("a");
  auto queued = f.list("b");
  auto refused = f.list("c");
  f.t.run();
  THEN("one read runs, one waits, and the third is refused without waiting") {
    CHECK(f.jobs_held() == 1);
    REQUIRE(refused->has_value());
    REQUIRE_FALSE((*refused)->ok());
    CHECK((*refused)->err().code == domain::error_code::unavailable);
    CHECK_FALSE(queued->has_value());
  }
  AND_THEN("the waiting read starts when the first finishes") {
    f.t.release(f.pool);
    CHECK(body_of(first).find("\"name\":\"a #1\"") != std::string::npos);
    CHECK(f.jobs_held() == 1);
    f.t.release(f.pool);
    CHECK(body_of(queued).find("b #2") != std::string::npos);
  }
}

SCENARIO("a read that started before an invalidation answers its waiters but is not kept") {
  cache_fixture f(long_lived());
  auto before = f.list("rock");
  f.t.run();
  auto done = f.t.ask<invalidated_atom>(invalidation_handler{f.cache}, invalidate_atom::value);
  f.t.run();
  REQUIRE(done->has_value());
  f.t.release(f.pool);
  CHECK(body_of(before).find("rock #1") != std::string::npos);
  auto after = f.list("rock");
  f.t.run();
  THEN("the next request reads again, after the write") {
    REQUIRE(f.jobs_held() == 1);
    f.t.release(f.pool);
    CHECK(body_of(after).find("rock #2") != std::string::npos);
  }
}

SCENARIO("kept pages stay within the byte budget, and a page too big to keep is still served") {
  auto o = long_lived();
  o.max_bytes = 20000;
  cache_fixture f(o);
  f.catalog->padding = 6000;
  for (const char* text : {"p1", "p2", "p3", "p4"}) {
    auto a = f.list(text);
    f.t.run();
    f.t.release(f.pool);
    CHECK(body_of(a).size() > 6000);
  }
  f.t.fire_timers();
  bool refresh = false;
  const bool oldest_kept = f.board->lookup(query("p1").cache_key(), refresh).has_value();
  auto kept = 0;
  for (const char* text : {"p1", "p2", "p3", "p4"})
    kept += f.board->lookup(query(text).cache_key(), refresh).has_value() ? 1 : 0;
  CHECK(kept < 4);
  CHECK(kept >= 1);
  CHECK_FALSE(oldest_kept); // the oldest read went first
  f.catalog->padding = 30000;
  auto huge = f.list("huge");
  f.t.run();
  f.t.release(f.pool);
  CHECK(body_of(huge).size() > 30000);
  f.t.fire_timers();
  CHECK_FALSE(f.board->lookup(query("huge").cache_key(), refresh).has_value());
}

TEST_CASE("a page is served while younger than max-age and refreshed ahead past half of it") {
  const auto t0 = std::chrono::steady_clock::now();
  const std::chrono::milliseconds max_age{1000};
  CHECK(servable(t0, t0 + std::chrono::milliseconds(999), max_age));
  CHECK_FALSE(servable(t0, t0 + max_age, max_age));
  CHECK_FALSE(due_for_refresh(t0, t0 + std::chrono::milliseconds(499), max_age));
  CHECK(due_for_refresh(t0, t0 + std::chrono::milliseconds(500), max_age));
}
