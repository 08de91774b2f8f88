// The tickets service's database work; see ticket_work.hpp.
#include "actors/services/ticket_work.hpp"

#include "persistence/ticket_repository.hpp"

#include <map>
#include <stdexcept>

namespace eventhub::actors::ticket_work {
namespace {

namespace tickets_db = persistence::tickets;

/// The verified scans: genuine codes of this event, with the tickets they name.
std::vector<domain::verified_scan> verify(const std::vector<domain::scan>& scans,
                                          std::int64_t event_id, const std::string& public_key) {
  std::vector<domain::verified_scan> out;
  for (std::size_t i = 0; i < scans.size(); ++i) {
    auto code = security::parse_ticket_code(scans[i].code);
    if (code && code->event_id == event_id && security::verify_ticket_code(*code, public_key))
      out.push_back({i, code->ticket_id, std::move(code->nonce)});
  }
  return out;
}

std::vector<std::string> scan_ids_of(const std::vector<domain::scan>& scans) {
  std::vector<std::string> out;
  for (const auto& s : scans)
    if (s.scan_id)
      out.push_back(*s.scan_id);
  return out;
}

} // namespace

std::optional<security::signing_key> key_for(persistence::tx& t, std::int64_t event_id,
                                             const security::key_sealer& sealer) {
  auto stored = tickets_db::key_of(t, event_id);
  if (!stored) {
    const auto fresh = security::generate_signing_key();
    if (!tickets_db::store_key(t, event_id, {fresh.public_key, sealer.seal(fresh, event_id)}))
      return std::nullopt;
    stored = tickets_db::key_of(t, event_id); // ours, or one stored meanwhile by another node
  }
  if (!stored)
    throw std::logic_error("an event's signing key vanished");
  auto key = sealer.open(stored->sealed_secret, event_id);
  if (!key || key->public_key != stored->public_key)
    throw std::runtime_error("an event's signing key does not open with this node's "
                             "tickets.key-secret");
  return key;
}

void sign(persistence::tx& t, std::vector<domain::ticket>& tickets,
          const security::key_sealer& sealer) {
  std::map<std::int64_t, security::signing_key> keys;
  for (auto& ticket : tickets) {
    auto it = keys.find(ticket.event_id);
    if (it == keys.end())
      it = keys.emplace(ticket.event_id, *key_for(t, ticket.event_id, sealer)).first;
    ticket.code = security::sign_ticket_code(ticket.event_id, ticket.id, ticket.nonce, it->second);
  }
}

checkin_result check_in(persistence::tx& t, std::int64_t event_id,
                        const std::vector<domain::scan>& scans, const security::key_sealer& sealer,
                        std::chrono::milliseconds redelivery_delay, domain::timestamp now,
                        const domain::origin& by) {
  const auto key = key_for(t, event_id, sealer);
  if (!key)
    throw persistence::refused{
        domain::make_error(domain::error_code::not_found, "No event with this id.")};
  const auto verified = verify(scans, event_id, key->public_key);
  std::vector<std::int64_t> ids;
  for (const auto& v : verified)
    ids.push_back(v.ticket_id);
  auto locked = tickets_db::lock_for_scans(t, event_id, ids);
  // Read once the tickets are locked: a scan id stored by a check-in this one waited for is seen.
  const auto remembered = tickets_db::remembered(t, event_id, scan_ids_of(scans));
  std::vector<std::int64_t> more;
  for (const auto& [scan_id, r] : remembered)
    if (!locked.count(r.ticket_id))
      more.push_back(r.ticket_id);
  locked.merge(tickets_db::read_for_scans(t, event_id, more)); // checked in: never change

  auto decided = domain::decide_scans(scans, verified, locked, remembered, now);
  checkin_result out;
  out.notifications =
      tickets_db::write_checkins(t, event_id, decided.writes, locked, redelivery_delay, by);
  out.outcomes = std::move(decided.outcomes);
  if (scans.size() == 1 && out.outcomes[0].target) {
    std::vector<domain::ticket> shown{*out.outcomes[0].target};
    sign(t, shown, sealer);
    out.outcomes[0].target = std::move(shown[0]);
  }
  return out;
}

} // namespace eventhub::actors::ticket_work
