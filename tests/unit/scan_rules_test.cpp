// The scan rules (domain::decide_scans): who checks a ticket in when scans compete, what a
// remembered or repeated scan id answers, and what cancelled or unknown tickets get.
#include "domain/tickets.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::domain;

namespace {

const timestamp t0 = from_micros(1900000000LL * 1000000);

timestamp at(int seconds) {
  return t0 + std::chrono::seconds(seconds);
}

ticket valid_ticket(std::int64_t id) {
  ticket t;
  t.id = id;
  t.purchase_id = 1;
  t.event_id = 1;
  t.nonce = "nonce-" + std::to_string(id);
  return t;
}

scan scan_of(std::int64_t id, std::string scan_id, int seconds) {
  return {"code-" + std::to_string(id), std::move(scan_id), at(seconds)};
}

struct fixture {
  std::vector<scan> scans;
  std::vector<verified_scan> verified;
  std::map<std::int64_t, ticket> tickets;
  std::map<std::string, remembered_scan> remembered;

  /// A genuine scan of ticket `id`.
  void add(std::int64_t id, std::string scan_id, int seconds) {
    verified.push_back({scans.size(), id, "nonce-" + std::to_string(id)});
    scans.push_back(scan_of(id, std::move(scan_id), seconds));
    tickets.emplace(id, valid_ticket(id));
  }
  scan_decisions decide() const { return decide_scans(scans, verified, tickets, remembered, t0); }
};

} // namespace

SCENARIO("of several scans of one ticket the earliest scannedAt checks it in") {
  fixture f;
  f.add(1, "a", 30);
  f.add(1, "b", 10);
  f.add(1, "c", 20);
  f.add(2, "d", 5);
  auto d = f.decide();
  CHECK(d.outcomes[0].result == scan_result::already_checked_in);
  CHECK(d.outcomes[1].result == scan_result::checked_in);
  CHECK(d.outcomes[1].checked_in_at == at(10));
  CHECK(d.outcomes[2].result == scan_result::already_checked_in);
  CHECK(d.outcomes[2].checked_in_at == at(10)); // the check-in that won
  CHECK(d.outcomes[3].result == scan_result::checked_in);
  REQUIRE(d.writes.size() == 2);
  CHECK(d.writes[0].ticket_id == 1);
  CHECK(d.writes[0].at == at(10));
  CHECK(d.writes[0].scan_id == "b");
}

SCENARIO("a check-in recorded before stands, and cancelled tickets stay cancelled") {
  fixture f;
  f.add(1, "a", 1);
  f.add(2, "b", 1);
  f.tickets[1].status = ticket_status::checked_in;
  f.tickets[1].checked_in_at = at(100); // later than this scan: it still stands
  f.tickets[2].status = ticket_status::cancelled;
  auto d = f.decide();
  CHECK(d.outcomes[0].result == scan_result::already_checked_in);
  CHECK(d.outcomes[0].checked_in_at == at(100));
  CHECK(d.outcomes[1].result == scan_result::ticket_cancelled);
  CHECK(d.writes.empty());
}

SCENARIO("codes not verified, of unknown tickets or with another nonce are unknown") {
  fixture f;
  f.scans.push_back({"garbage", std::string("a"), at(1)}); // not verified
  f.add(5, "b", 1);
  f.tickets.erase(5); // no such ticket of this event
  f.add(6, "c", 1);
  f.verified.back().nonce = "another";
  auto d = f.decide();
  for (const auto& o : d.outcomes) {
    CHECK(o.result == scan_result::unknown_ticket);
    CHECK_FALSE(o.target);
  }
  CHECK(d.writes.empty());
}

SCENARIO("a remembered scan id answers its check-in; a repeated one its first scan's") {
  fixture f;
  f.add(1, "old", 50);
  f.tickets[1].status = ticket_status::checked_in;
  f.tickets[1].checked_in_at = at(3);
  f.remembered["old"] = {1, at(3)};
  f.add(2, "x", 9);
  f.add(3, "x", 1); // the same scan id again: not a scan of its own
  f.add(4, "y", 1);
  f.verified.back().nonce = "forged";
  f.add(4, "y", 2); // repeats an unknown scan: answers the same
  auto d = f.decide();
  CHECK(d.outcomes[0].result == scan_result::replayed);
  CHECK(d.outcomes[0].checked_in_at == at(3));
  CHECK(d.outcomes[1].result == scan_result::checked_in);
  CHECK(d.outcomes[2].result == scan_result::replayed);
  CHECK(d.outcomes[2].target->id == 2);
  CHECK(d.outcomes[2].checked_in_at == at(9));
  CHECK(d.outcomes[3].result == scan_result::unknown_ticket);
  CHECK(d.outcomes[4].result == scan_result::unknown_ticket);
  REQUIRE(d.writes.size() == 1); // ticket 3 was not checked in by the repeat
  CHECK(d.writes[0].ticket_id == 2);
}

SCENARIO("a single scan without scan id is checked in now") {
  fixture f;
  f.add(1, "", 0);
  f.scans[0].scan_id.reset();
  f.scans[0].scanned_at.reset();
  auto d = f.decide();
  CHECK(d.outcomes[0].result == scan_result::checked_in);
  CHECK(d.outcomes[0].checked_in_at == t0);
  CHECK(d.outcomes[0].target->status == ticket_status::checked_in);
}

SCENARIO("statuses and results have the contract's names") {
  CHECK(std::string(to_string(ticket_status::checked_in)) == "CHECKED_IN");
  CHECK(parse_ticket_status("CANCELLED") == ticket_status::cancelled);
  CHECK_FALSE(parse_ticket_status("valid"));
  CHECK(std::string(to_string(scan_result::already_checked_in)) == "ALREADY_CHECKED_IN");
  CHECK(std::string(to_string(scan_result::replayed)) == "REPLAYED");
}
