// Tickets; see ticket_repository.hpp.
#include "persistence/ticket_repository.hpp"

#include "domain/json.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/queries/ticket_queries.hpp"
#include "persistence/rows.hpp"
#include "security/random.hpp"

#include <stdexcept>

namespace eventhub::persistence::tickets {
std::optional<stored_key> key_of(tx& t, std::int64_t event_id) {
  auto rows = t.exec(sql::find_signing_key, event_id);
  if (rows.empty())
    return std::nullopt;
  return stored_key{pqxx::binarystring(rows[0][0]).str(), pqxx::binarystring(rows[0][1]).str()};
}

bool store_key(tx& t, std::int64_t event_id, const stored_key& key) {
  t.exec(sql::insert_signing_key, event_id, bytea_param(t.raw(), key.public_key),
         bytea_param(t.raw(), key.sealed_secret));
  return !t.exec(sql::event_exists, event_id).empty();
}

std::vector<domain::ticket> of_purchase(tx& t, std::int64_t purchase_id) {
  std::vector<domain::ticket> out;
  for (const auto& r : t.exec(sql::tickets_of_purchase, purchase_id))
    out.push_back(read_ticket(r));
  return out;
}

domain::page<domain::ticket> of_participant(tx& t, std::int64_t participant_id,
                                            std::optional<std::int64_t> event_id,
                                            const domain::page_request& paging) {
  domain::page<domain::ticket> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r :
       t.exec(sql::tickets_of_participant, participant_id, event_id, paging.size, paging.offset()))
    page.items.push_back(read_ticket(r));
  page.total_items =
      t.exec(sql::count_tickets_of_participant, participant_id, event_id)[0][0].as<std::int64_t>();
  return page;
}

std::optional<domain::ticket> find(tx& t, std::int64_t id) {
  auto rows = t.exec(sql::find_ticket, id);
  if (rows.empty())
    return std::nullopt;
  return read_ticket(rows[0]);
}

namespace {

std::map<std::int64_t, domain::ticket> tickets_by_id(tx& t, const statement& query,
                                                     std::int64_t event_id,
                                                     const std::vector<std::int64_t>& ids) {
  std::map<std::int64_t, domain::ticket> out;
  if (ids.empty())
    return out;
  for (const auto& r : t.exec(query, event_id, int_array(ids))) {
    auto ticket = read_ticket(r);
    out.emplace(ticket.id, std::move(ticket));
  }
  return out;
}

} // namespace

std::map<std::int64_t, domain::ticket> lock_for_scans(tx& t, std::int64_t event_id,
                                                      const std::vector<std::int64_t>& ids) {
  return tickets_by_id(t, sql::lock_scanned_tickets, event_id, ids);
}

std::map<std::int64_t, domain::ticket> read_for_scans(tx& t, std::int64_t event_id,
                                                      const std::vector<std::int64_t>& ids) {
  return tickets_by_id(t, sql::read_scanned_tickets, event_id, ids);
}

std::map<std::string, domain::remembered_scan>
remembered(tx& t, std::int64_t event_id, const std::vector<std::string>& scan_ids) {
  std::map<std::string, domain::remembered_scan> out;
  if (scan_ids.empty())
    return out;
  std::vector<std::optional<std::string>> ids(scan_ids.begin(), scan_ids.end());
  for (const auto& r : t.exec(sql::remembered_scans, event_id, text_array(ids)))
    out[r[0].as<std::string>()] = {r[1].as<std::int64_t>(),
                                   domain::from_micros(r[2].as<std::int64_t>())};
  return out;
}

std::vector<domain::notification>
write_checkins(tx& t, std::int64_t event_id, const std::vector<domain::checkin_write>& writes,
               const std::map<std::int64_t, domain::ticket>& tickets,
               std::chrono::milliseconds redelivery_delay, const domain::origin& by) {
  std::vector<domain::notification> out;
  if (writes.empty())
    return out;
  std::vector<std::int64_t> ids, times;
  std::vector<std::optional<std::string>> scan_ids;
  for (const auto& w : writes) {
    ids.push_back(w.ticket_id);
    times.push_back(domain::to_micros(w.at));
    scan_ids.push_back(w.scan_id);
  }
  const auto rows =
      t.exec(sql::write_checkins, event_id, int_array(ids), int_array(times), text_array(scan_ids),
             static_cast<std::int64_t>(redelivery_delay.count()));
  // Decided under the tickets' locks: every one of them was VALID.
  if (rows.size() != writes.size())
    throw std::logic_error("a ticket locked as VALID was not checked in");
  std::map<std::int64_t, const domain::checkin_write*> by_ticket;
  for (const auto& w : writes)
    by_ticket[w.ticket_id] = &w;
  std::vector<domain::audit_record> audits;
  for (const auto& r : rows) {
    const auto& ticket = tickets.at(r[1].as<std::int64_t>());
    domain::notification n;
    n.id = r[0].as<std::int64_t>();
    n.type = "ticket.checked_in";
    n.event_id = event_id;
    n.participant_id = ticket.participant_id;
    n.subject_id = ticket.id;
    n.quantity = 1;
    n.purchase_id = ticket.purchase_id;
    n.checked_in_at = by_ticket.at(ticket.id)->at;
    out.push_back(std::move(n));
    auto after = ticket;
    after.status = domain::ticket_status::checked_in;
    after.checked_in_at = by_ticket.at(ticket.id)->at;
    audits.push_back({by, "ticket.checked_in", "ticket", ticket.id, domain::to_json(ticket),
                      domain::to_json(after)});
  }
  audit::record(t, audits);
  return out;
}

std::optional<domain::checkin_stats> stats(tx& t, std::int64_t event_id) {
  auto rows = t.exec(sql::checkin_stats, event_id);
  if (rows.empty())
    return std::nullopt;
  domain::checkin_stats s;
  s.checked_in = rows[0][1].as<std::int64_t>();
  s.valid = rows[0][0].as<std::int64_t>() - s.checked_in;
  s.cancelled = rows[0][2].as<std::int64_t>();
  return s;
}

std::map<std::int64_t, std::vector<std::int64_t>>
lock_valid(tx& t, std::int64_t event_id, const std::vector<std::int64_t>& purchase_ids) {
  std::map<std::int64_t, std::vector<std::int64_t>> out;
  if (purchase_ids.empty())
    return out;
  for (const auto& r : t.exec(sql::lock_valid_tickets, event_id, int_array(purchase_ids)))
    out[r[0].as<std::int64_t>()].push_back(r[1].as<std::int64_t>());
  return out;
}

std::string nonces_hex(std::int64_t count) {
  return security::random_hex(static_cast<std::size_t>(count) * 16);
}

} // namespace eventhub::persistence::tickets
