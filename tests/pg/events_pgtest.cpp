// Admin rules enforced in the database transaction: capacity vs sold, delete with sales.
#include "persistence/event_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>

using namespace eventhub;
using namespace eventhub::persistence;

namespace {

domain::event_draft draft(std::int64_t capacity) {
  return {"Show",       std::string("desc"),
          "Hall",       domain::now() + std::chrono::hours(48),
          std::nullopt, capacity};
}

} // namespace

SCENARIO("capacity cannot drop below tickets sold, and sold events cannot be deleted") {
  testing::pg_database db;
  session s(db.options());
  auto ev = s.transact([&](tx& t) { return events::insert(t, draft(10)); });
  db.exec("UPDATE events SET tickets_sold = 4");

  auto update = [&](std::int64_t id, const domain::event_draft& d) {
    return transact_refusable<domain::event>(s,
                                             [&](tx& t) { return events::update(t, id, d, {}); });
  };
  CHECK(update(ev.id, draft(3)).err().code == domain::error_code::conflict);
  auto lowered = update(ev.id, draft(4));
  REQUIRE(lowered.ok());
  CHECK(lowered->capacity == 4);
  CHECK(s.transact([&](tx& t) { return events::remove(t, ev.id); }).err().code ==
        domain::error_code::conflict);
  CHECK(db.scalar("SELECT count(*) FROM events") == 1);

  CHECK(update(424242, draft(4)).err().code == domain::error_code::not_found);
  CHECK(s.transact([&](tx& t) { return events::remove(t, 424242); }).err().code ==
        domain::error_code::not_found);

  auto unsold = s.transact([&](tx& t) { return events::insert(t, draft(5)); });
  CHECK(s.transact([&](tx& t) { return events::remove(t, unsold.id); }).ok());
  CHECK(db.scalar("SELECT count(*) FROM events") == 1);
}

SCENARIO("listings filter and order in the database") {
  testing::pg_database db;
  session s(db.options());
  const auto base = domain::now() + std::chrono::hours(24);
  s.transact([&](tx& t) {
    for (int i = 0; i < 5; ++i) {
      auto d = draft(10);
      d.name = i % 2 ? "Jazz night" : "Rock 100% live";
      d.venue = i == 4 ? "Arena_X" : "Club";
      d.starts_at = base + std::chrono::hours(5 - i);
      events::insert(t, d);
    }
  });
  auto page = s.transact([&](tx& t) {
    domain::event_query q;
    q.paging = {0, 2};
    return events::list(t, q);
  });
  CHECK(page.total_items == 5);
  CHECK(page.items.size() == 2);
  CHECK(page.items[0].starts_at < page.items[1].starts_at);
  auto search = [&](std::string text) {
    return s.transact([&](tx& t) {
      domain::event_query q;
      q.text = text;
      return events::list(t, q).total_items;
    });
  };
  CHECK(search("JAZZ") == 2);
  CHECK(search("100%") == 3); // no wildcard meaning
  CHECK(search("%") == 3);
  CHECK(search("arena_") == 1);
  CHECK(search("_") == 1);
}
