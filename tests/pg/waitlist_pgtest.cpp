// The waitlist against a real database: joins and leaves in the batch, freed tickets offered in
// the transaction that freed them (a cancellation, a release, an expiry by the batch or the
// sweep, an admin's raised capacity), first fit in arrival order, each offer made once however
// many writers race.
#include "persistence/event_repository.hpp"
#include "persistence/hold_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"
#include "persistence/waitlist_repository.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace eventhub;
using namespace eventhub::persistence;
using domain::order_kind;
using std::chrono::milliseconds;

namespace {

struct fixture {
  testing::pg_database db;
  session s{db.options()};
  std::vector<std::int64_t> users;
  std::int64_t event_id = 0;

  fixture(std::int64_t capacity, int people) {
    s.transact([&](tx& t) {
      for (int i = 0; i < people; ++i) {
        domain::new_participant p{"u" + std::to_string(i) + "@x.io", "", "U", domain::role::user};
        users.push_back(participants::insert(t, p, "$argon2id$fake").value().id);
      }
      event_id = events::insert(t, draft(capacity)).id;
    });
  }

  static domain::event_draft draft(std::int64_t capacity) {
    domain::event_draft d;
    d.name = "Show";
    d.venue = "Hall";
    d.starts_at = domain::now() + std::chrono::hours(48);
    d.capacity = capacity;
    return d;
  }

  domain::purchase_request command(order_kind kind, int user, int qty = 1) {
    return testing::order_command(kind, event_id, users[static_cast<std::size_t>(user)], qty,
                                  "req");
  }

  domain::purchase_request cancel(int user, std::int64_t purchase, int qty) {
    auto r = command(order_kind::cancel, user, qty);
    r.purchase_id = purchase;
    return r;
  }

  domain::purchase_request leave(int user, std::int64_t entry) {
    auto r = command(order_kind::leave, user, 0);
    r.entry_id = entry;
    return r;
  }

  purchases::batch_outcome batch(const std::vector<domain::purchase_request>& commands,
                                 milliseconds offer_ttl = milliseconds{60000}) {
    return purchases::commit_batch(s, event_id, commands, milliseconds{10000}, {}, true, offer_ttl);
  }

  /// Buys the whole capacity, one purchase of `each` per user from the first.
  std::vector<std::int64_t> sell_out(int buyers, int each) {
    std::vector<domain::purchase_request> buys;
    for (int i = 0; i < buyers; ++i)
      buys.push_back(command(order_kind::purchase, i, each));
    std::vector<std::int64_t> ids;
    for (auto& r : batch(buys).results)
      ids.push_back(r.value().purchase.id);
    return ids;
  }

  long long scalar(const std::string& sql) const { return db.scalar(sql); }
  std::string status_of(std::int64_t entry) const {
    return db.text("SELECT status FROM waitlist_entries WHERE id = " + std::to_string(entry));
  }
};

} // namespace

SCENARIO("a cancellation's tickets go to the first entries that fit, in the same transaction") {
  fixture f(4, 8);
  auto bought = f.sell_out(4, 1); // users 0..3
  auto joined = f.batch({f.command(order_kind::join, 4, 2), f.command(order_kind::join, 5, 1),
                         f.command(order_kind::join, 6, 1)});
  std::vector<std::int64_t> entries;
  for (auto& r : joined.results)
    entries.push_back(r.value().entry.value().id);
  CHECK(joined.results[1]->entry->position == 2);
  CHECK(f.scalar("SELECT count(*) FROM waitlist_entries WHERE status = 'WAITING'") == 3);

  // One ticket freed: the first entry (2) does not fit, the second (1) does; a buyer in the
  // same batch, after the cancellation, finds nothing.
  auto freed = f.batch({f.cancel(0, bought[0], 1), f.command(order_kind::purchase, 7, 1)});
  REQUIRE(freed.results[0].ok());
  CHECK(freed.results[1].err().code == domain::error_code::sold_out);
  CHECK(f.status_of(entries[0]) == "WAITING");
  CHECK(f.status_of(entries[1]) == "OFFERED");
  CHECK(f.status_of(entries[2]) == "WAITING");
  CHECK(f.scalar("SELECT count(*) FROM pending_notifications WHERE type = 'waitlist.offered'") ==
        1);
  CHECK(f.scalar("SELECT tickets_held FROM events") == 1);
  CHECK(f.scalar("SELECT count(*) FROM holds h JOIN waitlist_entries w ON w.hold_id = h.id "
                 "WHERE h.status = 'HELD' AND h.participant_id = w.participant_id") == 1);

  // Two more freed: the first entry takes both.
  f.batch({f.cancel(1, bought[1], 1), f.cancel(2, bought[2], 1)});
  CHECK(f.status_of(entries[0]) == "OFFERED");
  CHECK(f.status_of(entries[2]) == "WAITING");
  CHECK(f.scalar("SELECT tickets_sold + tickets_held FROM events") == 4);
}

SCENARIO("an offer released or confirmed settles its entry, and a release passes the tickets on") {
  fixture f(2, 5);
  auto bought = f.sell_out(2, 1);
  auto a = f.batch({f.command(order_kind::join, 2, 1)}).results[0].value().entry->id;
  auto b = f.batch({f.command(order_kind::join, 3, 1)}).results[0].value().entry->id;
  f.batch({f.cancel(0, bought[0], 1)});
  const auto offer_a =
      f.scalar("SELECT hold_id FROM waitlist_entries WHERE id = " + std::to_string(a));
  auto release = f.command(order_kind::release, 2);
  release.hold_id = offer_a;
  f.batch({release});
  CHECK(f.status_of(a) == "EXPIRED");
  CHECK(f.status_of(b) == "OFFERED"); // passed on in the release's transaction
  const auto offer_b =
      f.scalar("SELECT hold_id FROM waitlist_entries WHERE id = " + std::to_string(b));
  auto confirm = f.command(order_kind::confirm, 3);
  confirm.hold_id = offer_b;
  REQUIRE(f.batch({confirm}).results[0].ok());
  CHECK(f.status_of(b) == "CONFIRMED");
  // Leaving a confirmed entry is refused; leaving an offered one releases its hold.
  CHECK(f.batch({f.leave(3, b)}).results[0].err().code == domain::error_code::hold_confirmed);
  CHECK(f.scalar("SELECT tickets_sold FROM events") == 2);
}

SCENARIO("leaving an offer passes its tickets on; leaving twice changes nothing") {
  fixture f(1, 4);
  auto bought = f.sell_out(1, 1);
  auto a = f.batch({f.command(order_kind::join, 1, 1)}).results[0].value().entry->id;
  auto b = f.batch({f.command(order_kind::join, 2, 1)}).results[0].value().entry->id;
  f.batch({f.cancel(0, bought[0], 1)});
  auto left = f.batch({f.leave(1, a), f.leave(1, a), f.leave(2, a)});
  CHECK(left.results[0].value().entry->status == domain::waitlist_status::left);
  CHECK(left.results[1].value().entry->status == domain::waitlist_status::left);
  CHECK(left.results[2].err().code == domain::error_code::not_found); // someone else's
  CHECK(f.status_of(b) == "OFFERED");
  CHECK(f.scalar("SELECT count(*) FROM holds WHERE status = 'RELEASED'") == 1);
  CHECK(f.scalar("SELECT tickets_held FROM events") == 1);
}

SCENARIO("an expired offer passes on once, whoever expires it") {
  for (int round = 0; round < 3; ++round) {
    fixture f(1, 4);
    auto bought = f.sell_out(1, 1);
    auto a = f.batch({f.command(order_kind::join, 1, 1)}).results[0].value().entry->id;
    auto b = f.batch({f.command(order_kind::join, 2, 1)}).results[0].value().entry->id;
    auto made = f.batch({f.cancel(0, bought[0], 1)}, milliseconds{1000});
    REQUIRE(made.stock->next_expiry);
    while (domain::now() < *made.stock->next_expiry)
      std::this_thread::sleep_for(milliseconds{20});
    session other{f.db.options()};
    std::vector<domain::notification> swept;
    std::thread sweeper([&] { swept = holds::sweep(other, 10, {milliseconds{60000}, {}}); });
    auto batch = f.batch({});
    sweeper.join();
    CHECK(f.status_of(a) == "EXPIRED");
    CHECK(f.status_of(b) == "OFFERED");
    CHECK(f.scalar("SELECT count(*) FROM waitlist_entries WHERE hold_id IS NOT NULL") == 2);
    CHECK(f.scalar("SELECT count(*) FROM pending_notifications WHERE type = 'waitlist.offered'") ==
          2);
    CHECK(f.scalar("SELECT tickets_held FROM events") == 1);
  }
}

SCENARIO("a raised capacity is offered to the waitlist by the admin's transaction") {
  fixture f(1, 4);
  f.sell_out(1, 1);
  auto a = f.batch({f.command(order_kind::join, 1, 2)}).results[0].value().entry->id;
  f.s.transact([&](tx& t) {
    return events::update(t, f.event_id, fixture::draft(3), {milliseconds{60000}, {}});
  });
  CHECK(f.status_of(a) == "OFFERED");
  CHECK(f.scalar("SELECT tickets_held FROM ticket_types") == 2);
}

SCENARIO("batches racing on two sessions make each offer once and never offer more than freed") {
  for (int round = 0; round < 3; ++round) {
    fixture f(10, 30);
    auto bought = f.sell_out(10, 1);
    std::vector<domain::purchase_request> joins;
    for (int i = 10; i < 30; ++i)
      joins.push_back(f.command(order_kind::join, i, 1 + i % 3));
    f.batch(joins);
    session other{f.db.options()};
    std::thread second([&] {
      for (int i = 5; i < 10; ++i)
        purchases::commit_batch(other, f.event_id,
                                {f.cancel(i, bought[static_cast<std::size_t>(i)], 1)},
                                milliseconds{10000});
    });
    for (int i = 0; i < 5; ++i)
      f.batch({f.cancel(i, bought[static_cast<std::size_t>(i)], 1)});
    second.join();
    CHECK(f.scalar("SELECT sum(quantity) FROM waitlist_entries WHERE status = 'OFFERED'") <= 10);
    CHECK(f.scalar("SELECT tickets_sold + tickets_held FROM events") <= 10);
    CHECK(f.scalar("SELECT count(*) FROM holds") ==
          f.scalar("SELECT count(*) FROM waitlist_entries WHERE status = 'OFFERED'"));
    // No WAITING entry fits what is left free: every fitting one was offered.
    const auto free = f.scalar("SELECT capacity - tickets_sold - tickets_held FROM events");
    CHECK(f.scalar("SELECT count(*) FROM waitlist_entries WHERE status = 'WAITING' AND "
                   "quantity <= " +
                   std::to_string(free)) == 0);
  }
}
