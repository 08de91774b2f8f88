// Tickets against a real database: the purchase batch creates one per unit in its own
// transaction and cancels the highest-id VALID ones, a check-in happens exactly once however
// many sessions race for a ticket (or race a cancellation of its purchase), codes verify only
// with their event's key, and an event's key opens only with its secret and for its event.
#include "actors/services/ticket_work.hpp"
#include "persistence/event_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"
#include "persistence/ticket_repository.hpp"
#include "security/ticket_codes.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

using namespace eventhub;
using namespace eventhub::persistence;
using domain::order_kind;
using domain::scan_result;
using std::chrono::milliseconds;

namespace {

const std::string secret = "a tickets.key-secret of more than 32 bytes";

struct fixture {
  testing::pg_database db;
  session s{db.options()};
  security::key_sealer sealer{secret};
  std::vector<std::int64_t> users;
  std::int64_t event_id = 0;

  explicit fixture(std::int64_t capacity = 10, int people = 4) {
    s.transact([&](tx& t) {
      for (int i = 0; i < people; ++i) {
        domain::new_participant p{"u" + std::to_string(i) + "@x.io", "", "U", domain::role::user};
        users.push_back(participants::insert(t, p, "$argon2id$fake").value().id);
      }
    });
    event_id = add_event(capacity);
  }

  std::int64_t add_event(std::int64_t capacity) {
    return s.transact([&](tx& t) {
      domain::event_draft d;
      d.name = "Show";
      d.venue = "Hall";
      d.starts_at = domain::now() + std::chrono::hours(48);
      d.capacity = capacity;
      return events::insert(t, d).id;
    });
  }

  domain::purchase_request command(order_kind kind, int user, int qty = 0) const {
    return testing::order_command(kind, event_id, users[static_cast<std::size_t>(user)], qty,
                                  "req-" + std::to_string(user));
  }
  domain::purchase_request buy(int user, int qty) const {
    return command(order_kind::purchase, user, qty);
  }
  domain::purchase_request cancel(int user, std::int64_t purchase, int qty) const {
    auto r = command(order_kind::cancel, user, qty);
    r.purchase_id = purchase;
    return r;
  }
  domain::purchase_request confirm(int user, std::int64_t hold) const {
    auto r = command(order_kind::confirm, user);
    r.hold_id = hold;
    return r;
  }

  purchases::batch_outcome batch(const std::vector<domain::purchase_request>& commands) {
    return purchases::commit_batch(s, event_id, commands, milliseconds{10000});
  }
  /// The purchase one buyer's batch made.
  std::int64_t bought(int user, int qty) { return batch({buy(user, qty)}).results[0]->purchase.id; }

  std::vector<domain::ticket> tickets_of(std::int64_t purchase) {
    return s.transact([&](tx& t) { return tickets::of_purchase(t, purchase); });
  }
  std::vector<std::int64_t> ids_of(std::int64_t purchase) {
    std::vector<std::int64_t> ids;
    for (const auto& t : tickets_of(purchase))
      ids.push_back(t.id);
    return ids;
  }
  /// The statuses of a purchase's tickets in id order, comma separated.
  std::string statuses(std::int64_t purchase) const {
    return db.text("SELECT coalesce(string_agg(status, ',' ORDER BY id), '') FROM tickets "
                   "WHERE purchase_id = " +
                   std::to_string(purchase));
  }
  std::string status_of(std::int64_t ticket) const {
    return db.text("SELECT status FROM tickets WHERE id = " + std::to_string(ticket));
  }
  long long scalar(const std::string& sql) const { return db.scalar(sql); }

  security::signing_key key(std::int64_t event) {
    return s.transact([&](tx& t) { return *actors::ticket_work::key_for(t, event, sealer); });
  }
  std::string code_of(const domain::ticket& t) {
    return security::sign_ticket_code(t.event_id, t.id, t.nonce, key(t.event_id));
  }
};

/// What one check-in transaction answered, or the exception it ended with.
struct scan_answer {
  std::vector<domain::scan_outcome> outcomes;
  std::vector<domain::notification> notifications;
  std::string error;
};

/// ticket_work::check_in in a transaction of `s`, retried on a scan id stored meanwhile as the
/// tickets service does (actors/services/tickets.cpp, check_in_retrying).
scan_answer check_in(session& s, std::int64_t event_id, const std::vector<domain::scan>& scans,
                     const security::key_sealer& sealer) {
  scan_answer a;
  for (int attempt = 1;; ++attempt) {
    try {
      auto r = s.transact([&](tx& t) {
        return actors::ticket_work::check_in(t, event_id, scans, sealer, milliseconds{10000},
                                             domain::now());
      });
      a.outcomes = std::move(r.outcomes);
      a.notifications = std::move(r.notifications);
      return a;
    } catch (const pqxx::unique_violation& e) {
      if (attempt == 3) {
        a.error = e.what();
        return a;
      }
    } catch (const std::exception& e) {
      a.error = e.what();
      return a;
    }
  }
}

domain::scan scan_of(std::string code, std::optional<std::string> scan_id = std::nullopt) {
  return {std::move(code), std::move(scan_id), std::nullopt};
}

/// Lets threads start their transactions together.
class start_gate {
 public:
  explicit start_gate(int parties) : parties_(parties) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(m_);
    if (++arrived_ == parties_)
      cv_.notify_all();
    else
      cv_.wait(lock, [&] { return arrived_ >= parties_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int parties_;
};

long long micros_of(const domain::timestamp& t) {
  return static_cast<long long>(domain::to_micros(t));
}

} // namespace

SCENARIO("a batch creates exactly quantity tickets per purchase, with distinct 16-byte nonces") {
  fixture f(10);
  // A hold makes no tickets; its confirmation does.
  auto held = f.batch({f.command(order_kind::hold, 3, 2)});
  REQUIRE(held.results[0].ok());
  const auto hold = held.results[0]->hold->id;
  CHECK(f.scalar("SELECT count(*) FROM tickets") == 0);

  // 2 + 3 + 2 (the hold's) + 1 sold; the 5 asked for in between find only 2 left.
  auto out = f.batch(
      {f.buy(0, 2), f.buy(1, 3), f.confirm(3, hold), f.buy(2, 5), f.buy(2, 1), f.buy(0, 4)});
  REQUIRE(out.results.size() == 6);
  REQUIRE(out.results[0].ok());
  REQUIRE(out.results[1].ok());
  REQUIRE(out.results[2].ok());
  CHECK(out.results[3].err().code == domain::error_code::sold_out);
  REQUIRE(out.results[4].ok());
  CHECK(out.results[5].err().code == domain::error_code::sold_out);

  const std::vector<std::pair<std::size_t, int>> sold{{0, 2}, {1, 3}, {2, 2}, {4, 1}};
  std::set<std::string> nonces;
  std::set<std::int64_t> ids;
  for (const auto& [index, qty] : sold) {
    const auto& p = out.results[index]->purchase;
    const auto tickets = f.tickets_of(p.id);
    CHECK(tickets.size() == static_cast<std::size_t>(qty));
    for (const auto& t : tickets) {
      CHECK(t.purchase_id == p.id);
      CHECK(t.event_id == f.event_id);
      CHECK(t.participant_id == p.participant_id);
      CHECK(t.ticket_type_id == p.ticket_type_id);
      CHECK(t.status == domain::ticket_status::valid);
      CHECK_FALSE(t.checked_in_at);
      CHECK(t.nonce.size() == security::ticket_nonce_bytes);
      nonces.insert(t.nonce);
      ids.insert(t.id);
    }
  }
  CHECK(out.results[2]->purchase.participant_id == f.users[3]);
  CHECK(out.results[2]->purchase.quantity == 2);
  CHECK(nonces.size() == 8);
  CHECK(ids.size() == 8);
  // Nothing for the refused requests: every ticket belongs to a purchase, as many as sold.
  CHECK(f.scalar("SELECT count(*) FROM tickets") == 8);
  CHECK(f.scalar("SELECT sum(quantity) FROM purchases") == 8);
  CHECK(f.scalar("SELECT tickets_sold FROM events") == 8);
  CHECK(f.scalar("SELECT count(DISTINCT nonce) FROM tickets WHERE length(nonce) = 16") == 8);

  // A batch that only refuses (sold out) writes no ticket.
  auto refused = f.batch({f.buy(1, 3), f.buy(2, 5)});
  CHECK(refused.results[0].err().code == domain::error_code::sold_out);
  CHECK(refused.results[1].err().code == domain::error_code::sold_out);
  CHECK(f.scalar("SELECT count(*) FROM tickets") == 8);
  // The last 2 sell, once however often their key comes back.
  auto keyed = f.buy(1, 2);
  keyed.idempotency_key = "k";
  auto last = f.batch({keyed, keyed});
  REQUIRE(last.results[0].ok());
  REQUIRE(last.results[1].ok());
  CHECK(last.results[1]->replayed);
  CHECK(last.results[1]->purchase.id == last.results[0]->purchase.id);
  auto replayed = f.batch({keyed});
  REQUIRE(replayed.results[0].ok());
  CHECK(replayed.results[0]->replayed);
  CHECK(f.tickets_of(last.results[0]->purchase.id).size() == 2);
  CHECK(f.scalar("SELECT count(*) FROM tickets") == 10);
  CHECK(f.scalar("SELECT count(DISTINCT nonce) FROM tickets") == 10);
}

SCENARIO("a batch refused at commit leaves no ticket of its purchases") {
  fixture f(10);
  const auto p = f.bought(0, 3);
  // A writer that skipped the rules (the trigger off) cancelled a ticket but not its purchase:
  // the next batch cancelling one of that purchase fails the deferred check at its commit.
  f.db.exec("ALTER TABLE tickets DISABLE TRIGGER tickets_cancelled_purchase; "
            "UPDATE tickets SET status = 'CANCELLED', cancelled_at = now() WHERE id = " +
            std::to_string(f.ids_of(p).front()) +
            "; ALTER TABLE tickets ENABLE TRIGGER tickets_cancelled_purchase");
  CHECK_THROWS_AS(f.batch({f.buy(1, 2), f.cancel(0, p, 1), f.buy(2, 1)}), pqxx::check_violation);
  CHECK(f.scalar("SELECT count(*) FROM purchases") == 1);
  CHECK(f.scalar("SELECT count(*) FROM tickets") == 3);
  CHECK(f.statuses(p) == "CANCELLED,VALID,VALID");
  CHECK(f.scalar("SELECT cancelled_quantity FROM purchases") == 0);
  CHECK(f.scalar("SELECT tickets_sold FROM events") == 3);
  CHECK(f.scalar("SELECT count(*) FROM pending_confirmations") == 1);
  CHECK(f.scalar("SELECT count(*) FROM purchase_cancellations") == 0);
}

SCENARIO("a cancellation cancels the highest-id VALID tickets and leaves checked-in ones") {
  fixture f(10);
  const auto p = f.bought(0, 4);
  const auto tickets = f.tickets_of(p);
  REQUIRE(tickets.size() == 4);
  // The highest id is checked in at the door.
  auto door = check_in(f.s, f.event_id, {scan_of(f.code_of(tickets[3]))}, f.sealer);
  REQUIRE(door.error.empty());
  REQUIRE(door.outcomes.size() == 1);
  CHECK(door.outcomes[0].result == scan_result::checked_in);
  CHECK(f.statuses(p) == "VALID,VALID,VALID,CHECKED_IN");

  auto two = f.batch({f.cancel(0, p, 2)});
  REQUIRE(two.results[0].ok());
  CHECK(two.results[0]->purchase.cancelled_quantity == 2);
  CHECK(f.statuses(p) == "VALID,CANCELLED,CANCELLED,CHECKED_IN");
  CHECK(f.scalar("SELECT count(*) FROM tickets WHERE status = 'CANCELLED' AND "
                 "cancelled_at IS NOT NULL") == 2);
  auto stats = f.s.transact([&](tx& t) { return *tickets::stats(t, f.event_id); });
  CHECK(stats.valid == 1);
  CHECK(stats.checked_in == 1);
  CHECK(stats.cancelled == 2);

  GIVEN("one VALID ticket left of the 2 not cancelled") {
    const auto sold_before = f.scalar("SELECT tickets_sold FROM events");
    WHEN("a cancel asks for 2") {
      auto out = f.batch({f.cancel(0, p, 2)});
      THEN("it answers checked_in and changes nothing") {
        CHECK(out.results[0].err().code == domain::error_code::checked_in);
        CHECK(out.notifications.empty());
        CHECK(f.statuses(p) == "VALID,CANCELLED,CANCELLED,CHECKED_IN");
        CHECK(f.scalar("SELECT cancelled_quantity FROM purchases") == 2);
        CHECK(f.scalar("SELECT refunded_cents FROM purchases") ==
              2 * f.scalar("SELECT unit_price_cents FROM purchases"));
        CHECK(f.scalar("SELECT count(*) FROM purchase_cancellations") == 1);
        CHECK(f.scalar("SELECT count(*) FROM pending_notifications WHERE "
                       "type = 'purchase.cancelled'") == 1);
        CHECK(f.scalar("SELECT tickets_sold FROM events") == sold_before);
        CHECK(f.scalar("SELECT tickets_sold FROM ticket_types") == sold_before);
      }
    }
    WHEN("a cancel asks for all that is left (0)") {
      auto out = f.batch({f.cancel(0, p, 0)});
      THEN("only the VALID ticket is cancelled, and then nothing more can be") {
        REQUIRE(out.results[0].ok());
        CHECK(out.results[0]->purchase.cancelled_quantity == 3);
        CHECK(f.statuses(p) == "CANCELLED,CANCELLED,CANCELLED,CHECKED_IN");
        CHECK(f.scalar("SELECT tickets_sold FROM events") == sold_before - 1);
        CHECK(f.batch({f.cancel(0, p, 0)}).results[0].err().code == domain::error_code::checked_in);
        CHECK(f.batch({f.cancel(0, p, 1)}).results[0].err().code == domain::error_code::checked_in);
        CHECK(f.scalar("SELECT cancelled_quantity FROM purchases") == 3);
        CHECK(f.status_of(tickets[3].id) == "CHECKED_IN");
      }
    }
  }
}

SCENARIO("cancellations of one purchase in one batch take its VALID tickets from the top") {
  fixture f(10);
  const auto p = f.bought(0, 3);
  const auto q = f.bought(1, 2);
  auto out = f.batch({f.cancel(0, p, 1), f.buy(2, 2), f.cancel(0, p, 1), f.cancel(1, q, 0)});
  REQUIRE(out.results[0].ok());
  REQUIRE(out.results[1].ok());
  REQUIRE(out.results[2].ok());
  REQUIRE(out.results[3].ok());
  CHECK(out.results[2]->purchase.cancelled_quantity == 2);
  CHECK(f.statuses(p) == "VALID,CANCELLED,CANCELLED");
  CHECK(f.statuses(q) == "CANCELLED,CANCELLED");
  CHECK(f.statuses(out.results[1]->purchase.id) == "VALID,VALID");
  CHECK(f.scalar("SELECT count(*) FROM purchases p WHERE p.cancelled_quantity = (SELECT count(*) "
                 "FROM tickets t WHERE t.purchase_id = p.id AND t.status = 'CANCELLED')") == 3);
  CHECK(f.scalar("SELECT tickets_sold FROM events") == 3);
  // A cancelled ticket's scan answers TICKET_CANCELLED and stays cancelled.
  const auto cancelled = f.tickets_of(q).front();
  auto scan = check_in(f.s, f.event_id, {scan_of(f.code_of(cancelled))}, f.sealer);
  REQUIRE(scan.error.empty());
  CHECK(scan.outcomes[0].result == scan_result::ticket_cancelled);
  CHECK(scan.notifications.empty());
  CHECK(f.status_of(cancelled.id) == "CANCELLED");
}

SCENARIO("sessions racing to check in one ticket: exactly one checks it in, once") {
  fixture f(40);
  const int rounds = 6, sessions = 4;
  const auto p = f.bought(0, rounds + 2);
  const auto tickets = f.tickets_of(p);
  std::vector<std::string> codes;
  for (const auto& t : tickets)
    codes.push_back(f.code_of(t));
  std::vector<std::unique_ptr<session>> pool;
  for (int i = 0; i < sessions; ++i) {
    pool.push_back(std::make_unique<session>(f.db.options()));
    REQUIRE(pool.back()->try_connect());
  }
  auto race = [&](const std::vector<std::vector<domain::scan>>& requests) {
    std::vector<scan_answer> answers(requests.size());
    start_gate gate(static_cast<int>(requests.size()));
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < requests.size(); ++i)
      threads.emplace_back([&, i] {
        gate.arrive_and_wait();
        answers[i] = check_in(*pool[i], f.event_id, requests[i], f.sealer);
      });
    for (auto& t : threads)
      t.join();
    return answers;
  };
  const auto ticket_sql = [](std::int64_t id) { return " = " + std::to_string(id); };

  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    const auto& ticket = tickets[static_cast<std::size_t>(round)];
    // Odd rounds: every device sends its own scan id; even rounds: none.
    std::vector<std::vector<domain::scan>> requests;
    for (int i = 0; i < sessions; ++i)
      requests.push_back({scan_of(
          codes[static_cast<std::size_t>(round)],
          round % 2
              ? std::optional<std::string>("dev-" + std::to_string(i) + "-" + std::to_string(round))
              : std::nullopt)});
    const auto answers = race(requests);
    int checked_in = 0, already = 0;
    std::size_t notifications = 0;
    std::optional<domain::scan_outcome> winner;
    for (const auto& a : answers) {
      REQUIRE(a.error.empty());
      REQUIRE(a.outcomes.size() == 1);
      notifications += a.notifications.size();
      if (a.outcomes[0].result == scan_result::checked_in) {
        ++checked_in;
        winner = a.outcomes[0];
      } else if (a.outcomes[0].result == scan_result::already_checked_in) {
        ++already;
      }
    }
    CHECK(checked_in == 1);
    CHECK(already == sessions - 1);
    CHECK(notifications == 1);
    REQUIRE(winner);
    REQUIRE(winner->checked_in_at);
    // The losers name the winner's check-in; the row and its one outbox row agree.
    for (const auto& a : answers) {
      REQUIRE(a.outcomes[0].checked_in_at);
      CHECK(micros_of(*a.outcomes[0].checked_in_at) == micros_of(*winner->checked_in_at));
    }
    CHECK(f.status_of(ticket.id) == "CHECKED_IN");
    CHECK(f.scalar("SELECT (extract(epoch FROM checked_in_at) * 1000000)::bigint FROM tickets "
                   "WHERE id" +
                   ticket_sql(ticket.id)) == micros_of(*winner->checked_in_at));
    CHECK(f.scalar("SELECT count(*) FROM pending_notifications WHERE type = 'ticket.checked_in' "
                   "AND subject_id" +
                   ticket_sql(ticket.id) + " AND purchase_id = " + std::to_string(p) +
                   " AND participant_id = " + std::to_string(f.users[0]) +
                   " AND checked_in_at = (SELECT checked_in_at FROM tickets WHERE id" +
                   ticket_sql(ticket.id) + ")") == 1);
    if (round % 2)
      CHECK(f.db.text("SELECT scan_id FROM tickets WHERE id" + ticket_sql(ticket.id)) ==
            *winner->scan_id);
  }
  CHECK(f.scalar("SELECT count(*) FROM pending_notifications WHERE type = 'ticket.checked_in'") ==
        rounds);
  CHECK(f.scalar("SELECT count(*) FROM tickets WHERE status = 'CHECKED_IN'") == rounds);

  WHEN("the devices send one scan id (a retried request)") {
    const auto& ticket = tickets[rounds];
    std::vector<std::vector<domain::scan>> requests(
        sessions, {scan_of(codes[rounds], std::string("same-scan"))});
    const auto answers = race(requests);
    THEN("one checks in and the others answer it again as REPLAYED") {
      int checked_in = 0, replayed = 0;
      for (const auto& a : answers) {
        REQUIRE(a.error.empty());
        checked_in += a.outcomes[0].result == scan_result::checked_in;
        replayed += a.outcomes[0].result == scan_result::replayed;
      }
      CHECK(checked_in == 1);
      CHECK(replayed == sessions - 1);
      CHECK(f.scalar("SELECT count(*) FROM pending_notifications WHERE subject_id" +
                     ticket_sql(ticket.id) + " AND type = 'ticket.checked_in'") == 1);
    }
  }
  WHEN("each device scans two tickets, in opposite orders") {
    const auto &a = tickets[rounds], &b = tickets[rounds + 1];
    std::vector<std::vector<domain::scan>> requests;
    for (int i = 0; i < sessions; ++i)
      requests.push_back(
          i % 2 ? std::vector<domain::scan>{scan_of(codes[rounds]), scan_of(codes[rounds + 1])}
                : std::vector<domain::scan>{scan_of(codes[rounds + 1]), scan_of(codes[rounds])});
    const auto answers = race(requests);
    THEN("no deadlock, and each ticket is checked in once") {
      std::map<std::int64_t, int> checked_in;
      std::size_t notifications = 0;
      for (const auto& r : answers) {
        REQUIRE(r.error.empty());
        REQUIRE(r.outcomes.size() == 2);
        notifications += r.notifications.size();
        for (const auto& o : r.outcomes) {
          REQUIRE(o.target);
          if (o.result == scan_result::checked_in)
            ++checked_in[o.target->id];
          else
            CHECK(o.result == scan_result::already_checked_in);
        }
      }
      CHECK(checked_in[a.id] == 1);
      CHECK(checked_in[b.id] == 1);
      CHECK(notifications == 2);
      CHECK(f.statuses(p).find("VALID") == std::string::npos);
      CHECK(f.scalar("SELECT count(*) FROM pending_notifications WHERE type = "
                     "'ticket.checked_in'") == rounds + 2);
    }
  }
}

SCENARIO("a check-in racing a cancellation of its purchase: checked in or cancelled, never both") {
  fixture f(60, 2);
  session door{f.db.options()}, seller{f.db.options()};
  REQUIRE(door.try_connect());
  REQUIRE(seller.try_connect());
  int checked_first = 0, cancelled_first = 0;
  const int rounds = 12;
  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    // 1 (another ticket is left to cancel), 3 (all, so none if one is checked in), 0 (all VALID).
    const int asked = std::vector<int>{1, 3, 0}[static_cast<std::size_t>(round % 3)];
    // Rounds 3..5 give the scan a head start, 6..8 the cancellation; the others race freely.
    const int phase = round / 3;
    const auto p = f.bought(1, 3);
    const auto tickets = f.tickets_of(p);
    const auto& ticket = tickets.back(); // the one a cancellation takes first
    const auto code = f.code_of(ticket);
    scan_answer scanned;
    std::optional<domain::result<domain::purchase_outcome>> cancelled;
    std::string cancel_error;
    start_gate gate(2);
    std::thread scanner([&] {
      gate.arrive_and_wait();
      if (phase == 2)
        std::this_thread::sleep_for(milliseconds{150});
      scanned = check_in(door, f.event_id, {scan_of(code)}, f.sealer);
    });
    std::thread canceller([&] {
      gate.arrive_and_wait();
      if (phase == 1)
        std::this_thread::sleep_for(milliseconds{150});
      try {
        cancelled = purchases::commit_batch(seller, f.event_id, {f.cancel(1, p, asked)},
                                            milliseconds{10000})
                        .results.at(0);
      } catch (const std::exception& e) {
        cancel_error = e.what();
      }
    });
    scanner.join();
    canceller.join();
    REQUIRE(scanned.error.empty());
    REQUIRE(cancel_error.empty());
    REQUIRE(scanned.outcomes.size() == 1);
    REQUIRE(cancelled);

    const auto status = f.status_of(ticket.id);
    const auto cancelled_quantity =
        f.scalar("SELECT cancelled_quantity FROM purchases WHERE id = " + std::to_string(p));
    const auto notified =
        f.scalar("SELECT count(*) FROM pending_notifications WHERE type = 'ticket.checked_in' "
                 "AND subject_id = " +
                 std::to_string(ticket.id));
    const auto now_statuses = f.statuses(p);
    CAPTURE(asked, status, now_statuses);
    if (status == "CHECKED_IN") {
      ++checked_first;
      CHECK(scanned.outcomes[0].result == scan_result::checked_in);
      CHECK(notified == 1);
      if (asked == 3) {
        REQUIRE_FALSE(cancelled->ok());
        CHECK(cancelled->err().code == domain::error_code::checked_in);
        CHECK(f.statuses(p) == "VALID,VALID,CHECKED_IN");
      } else {
        REQUIRE(cancelled->ok());
        CHECK(f.statuses(p) ==
              (asked == 1 ? "VALID,CANCELLED,CHECKED_IN" : "CANCELLED,CANCELLED,CHECKED_IN"));
      }
    } else {
      ++cancelled_first;
      CHECK(status == "CANCELLED");
      CHECK(scanned.outcomes[0].result == scan_result::ticket_cancelled);
      CHECK(scanned.notifications.empty());
      CHECK(notified == 0);
      REQUIRE(cancelled->ok());
      CHECK(f.statuses(p) ==
            (asked == 1 ? "VALID,VALID,CANCELLED" : "CANCELLED,CANCELLED,CANCELLED"));
    }
    CHECK(cancelled_quantity ==
          f.scalar("SELECT count(*) FROM tickets WHERE status = 'CANCELLED' AND purchase_id = " +
                   std::to_string(p)));
    CHECK(f.scalar("SELECT tickets_sold FROM events WHERE id = " + std::to_string(f.event_id)) ==
          f.scalar("SELECT count(*) FROM tickets WHERE status <> 'CANCELLED'"));
  }
  // The head starts make both orders happen.
  CHECK(checked_first > 0);
  CHECK(cancelled_first > 0);
}

SCENARIO("a ticket code verifies with its event's key only, and any altered byte fails") {
  fixture f(10);
  const auto other_event = f.add_event(10);
  const auto ticket = f.tickets_of(f.bought(0, 1)).front();
  const auto key = f.key(f.event_id);
  const auto other_key = f.key(other_event);
  // The key is made once, stored sealed, and the same on every use.
  CHECK(f.key(f.event_id).public_key == key.public_key);
  CHECK(f.key(f.event_id).secret_key == key.secret_key);
  CHECK(key.public_key != other_key.public_key);
  CHECK(key.public_key.size() == 32);
  CHECK(f.scalar("SELECT count(*) FROM event_signing_keys WHERE length(sealed_secret) = 72") == 2);
  auto stored = f.s.transact([&](tx& t) { return *tickets::key_of(t, f.event_id); });
  CHECK(stored.public_key == key.public_key);
  CHECK(stored.sealed_secret.find(key.secret_key.substr(0, 32)) == std::string::npos);

  const auto code = security::sign_ticket_code(f.event_id, ticket.id, ticket.nonce, key);
  CHECK(code == f.code_of(ticket)); // Ed25519 is deterministic
  auto parsed = security::parse_ticket_code(code);
  REQUIRE(parsed);
  CHECK(parsed->event_id == f.event_id);
  CHECK(parsed->ticket_id == ticket.id);
  CHECK(parsed->nonce == ticket.nonce);
  CHECK(security::verify_ticket_code(*parsed, key.public_key));
  CHECK_FALSE(security::verify_ticket_code(*parsed, other_key.public_key));

  // The same ticket signed by the other event's key, or claiming the other event.
  auto foreign = security::parse_ticket_code(
      security::sign_ticket_code(f.event_id, ticket.id, ticket.nonce, other_key));
  REQUIRE(foreign);
  CHECK_FALSE(security::verify_ticket_code(*foreign, key.public_key));
  auto moved = security::parse_ticket_code(
      security::sign_ticket_code(other_event, ticket.id, ticket.nonce, other_key));
  REQUIRE(moved);
  CHECK(security::verify_ticket_code(*moved, other_key.public_key));

  // Every single altered character: unparsable or not verified.
  int altered = 0;
  for (std::size_t i = 0; i < code.size(); ++i) {
    auto bad = code;
    bad[i] = bad[i] == 'A' ? 'B' : (bad[i] == '.' ? '_' : 'A');
    if (bad[i] == code[i])
      continue;
    ++altered;
    auto p = security::parse_ticket_code(bad);
    CAPTURE(i, bad);
    CHECK_FALSE((p && security::verify_ticket_code(*p, key.public_key)));
  }
  CHECK(altered == static_cast<int>(code.size()));

  WHEN("the check-in is shown those codes") {
    auto nonce = ticket.nonce;
    nonce[0] = static_cast<char>(nonce[0] ^ 1);
    auto bad_sig = code;
    bad_sig[bad_sig.size() - 3] = bad_sig[bad_sig.size() - 3] == 'A' ? 'B' : 'A';
    const std::vector<std::string> refused{
        security::sign_ticket_code(f.event_id, ticket.id, ticket.nonce, other_key),
        security::sign_ticket_code(other_event, ticket.id, ticket.nonce, other_key),
        security::sign_ticket_code(f.event_id, ticket.id, nonce, key), // another nonce
        bad_sig, "EH1.garbage"};
    THEN("each is UNKNOWN_TICKET and the ticket stays VALID; the genuine one checks it in") {
      for (const auto& c : refused) {
        CAPTURE(c);
        auto a = check_in(f.s, f.event_id, {scan_of(c)}, f.sealer);
        REQUIRE(a.error.empty());
        CHECK(a.outcomes[0].result == scan_result::unknown_ticket);
        CHECK(a.notifications.empty());
      }
      CHECK(f.status_of(ticket.id) == "VALID");
      // The other event's check-in does not know this event's ticket either.
      auto elsewhere = check_in(f.s, other_event, {scan_of(code)}, f.sealer);
      CHECK(elsewhere.outcomes[0].result == scan_result::unknown_ticket);
      auto genuine = check_in(f.s, f.event_id, {scan_of(code)}, f.sealer);
      CHECK(genuine.outcomes[0].result == scan_result::checked_in);
      REQUIRE(genuine.outcomes[0].target);
      CHECK(genuine.outcomes[0].target->code == code);
      CHECK(f.status_of(ticket.id) == "CHECKED_IN");
    }
  }
}

SCENARIO("sessions making an event's key at once all get the one key stored") {
  fixture f(10);
  const int sessions = 4;
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    const auto event = f.add_event(10);
    std::vector<std::unique_ptr<session>> pool;
    for (int i = 0; i < sessions; ++i) {
      pool.push_back(std::make_unique<session>(f.db.options()));
      REQUIRE(pool.back()->try_connect());
    }
    std::vector<std::string> keys(sessions), errors(sessions);
    start_gate gate(sessions);
    std::vector<std::thread> threads;
    for (int i = 0; i < sessions; ++i)
      threads.emplace_back([&, i] {
        gate.arrive_and_wait();
        try {
          keys[i] = pool[i]->transact(
              [&](tx& t) { return actors::ticket_work::key_for(t, event, f.sealer)->public_key; });
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    for (auto& t : threads)
      t.join();
    for (int i = 0; i < sessions; ++i) {
      CHECK(errors[i].empty());
      CHECK(keys[i] == keys[0]);
    }
    CHECK(keys[0].size() == 32);
    CHECK(f.scalar("SELECT count(*) FROM event_signing_keys WHERE event_id = " +
                   std::to_string(event)) == 1);
    CHECK(f.key(event).public_key == keys[0]);
  }
}

SCENARIO("a sealed event key opens only with the same secret and for the same event") {
  fixture f(10);
  const auto other_event = f.add_event(10);
  const auto key = security::generate_signing_key();
  const security::key_sealer same(secret), different("another secret of more than 32 bytes!");
  const auto sealed = f.sealer.seal(key, f.event_id);
  CHECK(sealed.size() == 24 + 32 + 16);
  CHECK(f.sealer.seal(key, f.event_id) != sealed); // a fresh nonce each time

  auto opened = same.open(sealed, f.event_id);
  REQUIRE(opened);
  CHECK(opened->public_key == key.public_key);
  CHECK(opened->secret_key == key.secret_key);
  CHECK_FALSE(different.open(sealed, f.event_id));
  CHECK_FALSE(same.open(sealed, other_event));
  CHECK_FALSE(same.open(sealed.substr(0, sealed.size() - 1), f.event_id));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    CAPTURE(i);
    CHECK_FALSE(same.open(bad, f.event_id));
  }
  CHECK_THROWS_AS(security::key_sealer("too short"), std::invalid_argument);

  WHEN("an event's stored key meets another secret, or is moved to another event") {
    const auto stored_key = f.key(f.event_id);
    f.key(other_event);
    THEN("it does not open: the node refuses to sign rather than use another key") {
      CHECK_THROWS_AS(f.s.transact([&](tx& t) {
        return actors::ticket_work::key_for(t, f.event_id, different);
      }),
                      std::runtime_error);
      f.db.exec("UPDATE event_signing_keys SET (public_key, sealed_secret) = "
                "(SELECT public_key, sealed_secret FROM event_signing_keys WHERE event_id = " +
                std::to_string(f.event_id) + ") WHERE event_id = " + std::to_string(other_event));
      CHECK_THROWS_AS(f.s.transact([&](tx& t) {
        return actors::ticket_work::key_for(t, other_event, f.sealer);
      }),
                      std::runtime_error);
      // With the right secret the stored key is the one it was.
      CHECK(f.key(f.event_id).public_key == stored_key.public_key);
    }
  }
}
