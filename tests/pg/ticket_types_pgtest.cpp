// Ticket types against a real database: the batch keeps every type within its quota and the event
// within its capacity, the database refuses an oversold type and a buyer past maxPerBuyer on its
// own, and admin changes of types are all or nothing.
#include "persistence/event_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"
#include "persistence/ticket_type_repository.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

using namespace eventhub;
using namespace eventhub::persistence;
using std::chrono::milliseconds;

namespace {

domain::ticket_type_draft type(std::string name, std::int64_t price, std::int64_t quota) {
  return {std::nullopt, std::move(name), price, "EUR", quota};
}

domain::event_draft show(std::int64_t capacity) {
  return {"Show",       std::nullopt, "Hall", domain::now() + std::chrono::hours(24),
          std::nullopt, capacity};
}

struct fixture {
  testing::pg_database db;
  session s{db.options()};
  std::vector<std::int64_t> users;

  fixture() {
    s.transact([&](tx& t) {
      for (int i = 0; i < 4; ++i) {
        domain::new_participant p{"u" + std::to_string(i) + "@x.io", "", "U", domain::role::user};
        users.push_back(participants::insert(t, p, "$argon2id$fake").value().id);
      }
    });
  }

  domain::event create(domain::event_draft d) {
    return s.transact([&](tx& t) { return events::insert(t, d); });
  }

  domain::purchase_request buy(const domain::event& e, int user, int qty,
                               std::optional<std::int64_t> type = {}) const {
    domain::purchase_request r{e.id, users[static_cast<std::size_t>(user)], qty, std::nullopt,
                               "req"};
    r.ticket_type_id = type;
    return r;
  }

  template <class T, class F> domain::result<T> write(F f) { return transact_refusable<T>(s, f); }

  /// The SQLSTATE `sql` fails with, or "" when it succeeds.
  std::string sqlstate_of(const std::string& sql) const {
    pqxx::connection c(db.conninfo());
    pqxx::work w(c);
    try {
      w.exec(sql);
      w.commit();
      return "";
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate();
    }
  }
};

const std::string check_violation = "23514";

} // namespace

SCENARIO("a batch keeps each type within its quota and the event within its capacity") {
  fixture f;
  auto d = show(10);
  d.ticket_types = {{type("Early", 1500, 6), type("Late", 4000, 6)}};
  const auto e = f.create(d);
  REQUIRE(e.ticket_types.size() == 2);
  const auto early = e.ticket_types[0].id, late = e.ticket_types[1].id;

  auto out = purchases::commit_batch(
      f.s, e.id,
      {f.buy(e, 0, 5, early), f.buy(e, 1, 2, early), f.buy(e, 2, 5, late), f.buy(e, 3, 1, late)},
      milliseconds{1000});
  REQUIRE(out.results[0].ok());
  CHECK(out.results[0]->purchase.ticket_type_id == early);
  CHECK(out.results[0]->purchase.unit_price_cents == 1500);
  CHECK(out.results[0]->purchase.total_cents() == 7500);
  CHECK(out.results[1].err().code == domain::error_code::sold_out); // Early has 1 left
  CHECK(out.results[1].err().tickets_available == 1);
  CHECK(out.results[2].ok());
  CHECK(out.results[3].err().code == domain::error_code::sold_out); // the event is full
  CHECK(f.db.scalar("SELECT tickets_sold FROM events") == 10);
  CHECK(f.db.scalar("SELECT tickets_sold FROM ticket_types WHERE id = " + std::to_string(early)) ==
        5);
  CHECK(f.db.scalar("SELECT tickets_sold FROM ticket_types WHERE id = " + std::to_string(late)) ==
        5);
  CHECK(f.db.scalar("SELECT sum(total_cents) FROM purchases") == 5 * 1500 + 5 * 4000);

  auto missing = purchases::commit_batch(f.s, e.id, {f.buy(e, 0, 1)}, milliseconds{1000});
  CHECK(missing.results[0].err().field_errors.at(0).field == "ticketTypeId");
}

SCENARIO("the database refuses an oversold type and a buyer past the limit by itself") {
  fixture f;
  auto d = show(10);
  d.max_per_buyer = std::optional<std::int64_t>(2);
  const auto e = f.create(d);
  const auto ga = std::to_string(e.ticket_types.at(0).id), id = std::to_string(e.id);
  CHECK(f.sqlstate_of("UPDATE ticket_types SET tickets_sold = 11 WHERE id = " + ga) ==
        check_violation);
  const auto insert = [&](int user, int qty) {
    return f.sqlstate_of("INSERT INTO purchases (event_id, participant_id, quantity, "
                         "ticket_type_id, unit_price_cents, currency, total_cents) VALUES (" +
                         id + ", " + std::to_string(f.users[static_cast<std::size_t>(user)]) +
                         ", " + std::to_string(qty) + ", " + ga + ", 0, 'EUR', 0)");
  };
  CHECK(insert(0, 2).empty());
  CHECK(insert(0, 1) == check_violation); // a third ticket for one buyer
  CHECK(insert(1, 3) == check_violation);
  CHECK(f.db.scalar("SELECT count(*) FROM purchases") == 1);

  auto out = purchases::commit_batch(f.s, e.id, {f.buy(e, 0, 1), f.buy(e, 1, 2), f.buy(e, 1, 1)},
                                     milliseconds{1000});
  CHECK(out.results[0].err().code == domain::error_code::buyer_limit);
  CHECK(out.results[0].err().tickets_allowed == 0);
  CHECK(out.results[1].ok());
  CHECK(out.results[2].err().tickets_allowed == 0);
}

SCENARIO("sales open at salesStartAt") {
  fixture f;
  auto d = show(10);
  d.sales_start_at = std::optional<domain::timestamp>(domain::now() + std::chrono::hours(1));
  const auto e = f.create(d);
  auto out = purchases::commit_batch(f.s, e.id, {f.buy(e, 0, 1)}, milliseconds{1000});
  CHECK(out.results[0].err().code == domain::error_code::sales_not_open);
  CHECK(f.sqlstate_of("UPDATE events SET sales_start_at = starts_at") == check_violation);
}

SCENARIO("type changes are checked under the event's lock and change nothing when refused") {
  fixture f;
  auto d = show(10);
  d.ticket_types = {{type("A", 100, 5), type("B", 200, 5)}};
  auto e = f.create(d);
  const auto a = e.ticket_types[0].id, b = e.ticket_types[1].id;
  purchases::commit_batch(f.s, e.id, {f.buy(e, 0, 3, a)}, milliseconds{1000});

  GIVEN("a quota below what is sold") {
    auto r = f.write<domain::ticket_type_view>(
        [&](tx& t) { return ticket_types::update(t, e.id, a, type("A", 100, 2), {}); });
    CHECK(r.err().code == domain::error_code::conflict);
    CHECK(f.db.scalar("SELECT quota FROM ticket_types WHERE id = " + std::to_string(a)) == 5);
  }
  GIVEN("deleting a type with sales, the last type, and an unsold type") {
    CHECK(f.write<domain::unit>([&](tx& t) { return ticket_types::remove(t, e.id, a, {}); })
              .err()
              .code == domain::error_code::conflict);
    CHECK(f.write<domain::unit>([&](tx& t) { return ticket_types::remove(t, e.id, b, {}); }).ok());
    CHECK(f.write<domain::unit>([&](tx& t) { return ticket_types::remove(t, e.id, a, {}); })
              .err()
              .code == domain::error_code::conflict);
  }
  GIVEN("a 21st type") {
    for (int i = 2; i < 20; ++i)
      REQUIRE(f.write<domain::ticket_type_view>([&](tx& t) {
                 return ticket_types::create(t, e.id, type("T" + std::to_string(i), 0, 1), {});
               }).ok());
    auto r = f.write<domain::ticket_type_view>(
        [&](tx& t) { return ticket_types::create(t, e.id, type("T21", 0, 1), {}); });
    CHECK(r.err().code == domain::error_code::conflict);
    CHECK(f.db.scalar("SELECT count(*) FROM ticket_types") == 20);
  }
  GIVEN("an event PUT that renames the event and leaves out the type with sales") {
    auto put = show(10);
    put.name = "Renamed";
    put.ticket_types = {{domain::ticket_type_draft{b, "B", 200, "EUR", 5}}};
    auto r = f.write<domain::event>([&](tx& t) { return events::update(t, e.id, put, {}); });
    THEN("it is refused and nothing of it is written") {
      CHECK(r.err().code == domain::error_code::conflict);
      CHECK(f.db.scalar("SELECT count(*) FROM events WHERE name = 'Show'") == 1);
      CHECK(f.db.scalar("SELECT count(*) FROM ticket_types") == 2);
    }
  }
  GIVEN("an event PUT naming another event's type") {
    auto other = f.create(show(5));
    auto put = show(10);
    put.ticket_types = {{domain::ticket_type_draft{other.ticket_types[0].id, "X", 0, "EUR", 1},
                         domain::ticket_type_draft{a, "A", 100, "EUR", 5}}};
    auto r = f.write<domain::event>([&](tx& t) { return events::update(t, e.id, put, {}); });
    CHECK(r.err().field_errors.at(0).field == "ticketTypes[0].id");
  }
  GIVEN("an event PUT that updates one type, adds one and drops the unsold one") {
    auto put = show(12);
    put.ticket_types = {{domain::ticket_type_draft{a, "A+", 150, "USD", 8}, type("C", 300, 4)}};
    auto r = f.write<domain::event>([&](tx& t) { return events::update(t, e.id, put, {}); });
    REQUIRE(r.ok());
    REQUIRE(r->ticket_types.size() == 2);
    CHECK(r->ticket_types[0].id == a);
    CHECK(r->ticket_types[0].name == "A+");
    CHECK(r->ticket_types[0].currency == "USD");
    CHECK(r->ticket_types[0].tickets_sold == 3);
    CHECK(r->ticket_types[1].name == "C");
    CHECK(r->tickets_available(r->ticket_types[0]) == 5);
  }
}

SCENARIO("the implicit type's quota follows the capacity until the type is edited") {
  fixture f;
  auto e = f.create(show(10));
  const auto ga = e.ticket_types.at(0).id;
  CHECK(e.ticket_types[0].name == "General admission");
  auto raised =
      f.write<domain::event>([&](tx& t) { return events::update(t, e.id, show(25), {}); });
  CHECK(raised->ticket_types.at(0).quota == 25);
  REQUIRE(f.write<domain::ticket_type_view>([&](tx& t) {
             return ticket_types::update(t, e.id, ga, type("General admission", 0, 25), {});
           }).ok());
  auto again = f.write<domain::event>([&](tx& t) { return events::update(t, e.id, show(40), {}); });
  CHECK(again->ticket_types.at(0).quota == 25);
}
