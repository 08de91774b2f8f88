// Ticket statuses and the scan rules (docs/api.md, "Tickets and check-in", "Rules in detail").
#include "domain/tickets.hpp"

#include <algorithm>
#include <iterator>

namespace eventhub::domain {
namespace {

constexpr const char* ticket_status_names[] = {"VALID", "CHECKED_IN", "CANCELLED"};
constexpr const char* scan_result_names[] = {"CHECKED_IN", "ALREADY_CHECKED_IN", "TICKET_CANCELLED",
                                             "UNKNOWN_TICKET", "REPLAYED"};

/// A scan's outcome naming `t` as it is now.
scan_outcome about(const scan& s, scan_result result, const ticket& t) {
  return {s.scan_id, result, t, t.checked_in_at};
}

/// The scans of one ticket in the order they compete: earliest scannedAt, then request order.
std::map<std::int64_t, std::vector<std::size_t>>
contenders(const std::vector<scan>& scans, const std::vector<verified_scan>& verified,
           const std::vector<bool>& settled, timestamp now) {
  std::map<std::int64_t, std::vector<std::size_t>> out;
  for (const auto& v : verified)
    if (!settled[v.index])
      out[v.ticket_id].push_back(v.index);
  for (auto& [id, indexes] : out)
    std::stable_sort(indexes.begin(), indexes.end(), [&](std::size_t a, std::size_t b) {
      return scans[a].scanned_at.value_or(now) < scans[b].scanned_at.value_or(now);
    });
  return out;
}

} // namespace

const char* to_string(ticket_status s) {
  return ticket_status_names[static_cast<int>(s)];
}

std::optional<ticket_status> parse_ticket_status(std::string_view s) {
  for (std::size_t i = 0; i < std::size(ticket_status_names); ++i)
    if (s == ticket_status_names[i])
      return static_cast<ticket_status>(i);
  return std::nullopt;
}

const char* to_string(scan_result r) {
  return scan_result_names[static_cast<int>(r)];
}

namespace {

/// For each scan, the earlier scan of the request with the same scan id, if any.
std::vector<std::optional<std::size_t>> repeats_of(const std::vector<scan>& scans) {
  std::vector<std::optional<std::size_t>> out(scans.size());
  std::map<std::string, std::size_t> first_of;
  for (std::size_t i = 0; i < scans.size(); ++i)
    if (scans[i].scan_id) {
      auto [it, fresh] = first_of.emplace(*scans[i].scan_id, i);
      if (!fresh)
        out[i] = it->second;
    }
  return out;
}

} // namespace

scan_decisions decide_scans(const std::vector<scan>& scans,
                            const std::vector<verified_scan>& verified,
                            const std::map<std::int64_t, ticket>& tickets,
                            const std::map<std::string, remembered_scan>& remembered,
                            timestamp now) {
  scan_decisions out;
  out.outcomes.resize(scans.size());
  for (std::size_t i = 0; i < scans.size(); ++i)
    out.outcomes[i].scan_id = scans[i].scan_id;
  // A repeated scan id is the same scan sent twice: only its first occurrence competes.
  const auto repeats = repeats_of(scans);
  std::vector<bool> settled(scans.size(), false);
  for (std::size_t i = 0; i < scans.size(); ++i)
    settled[i] = repeats[i].has_value();

  // Scan ids the event remembers answer their check-in again.
  for (std::size_t i = 0; i < scans.size(); ++i) {
    if (settled[i] || !scans[i].scan_id)
      continue;
    auto r = remembered.find(*scans[i].scan_id);
    if (r == remembered.end())
      continue;
    auto t = tickets.find(r->second.ticket_id);
    if (t == tickets.end())
      continue;
    out.outcomes[i] = about(scans[i], scan_result::replayed, t->second);
    out.outcomes[i].checked_in_at = r->second.checked_in_at;
    settled[i] = true;
  }

  // Genuine codes whose ticket is as the code says compete for their ticket.
  std::vector<verified_scan> genuine;
  for (const auto& v : verified) {
    auto t = tickets.find(v.ticket_id);
    if (!settled[v.index] && t != tickets.end() && t->second.nonce == v.nonce)
      genuine.push_back(v);
  }
  for (const auto& [id, indexes] : contenders(scans, genuine, settled, now)) {
    auto t = tickets.at(id);
    const bool open = t.status == ticket_status::valid;
    if (open) {
      const auto i = indexes.front();
      t.status = ticket_status::checked_in;
      t.checked_in_at = scans[i].scanned_at.value_or(now);
      out.outcomes[i] = about(scans[i], scan_result::checked_in, t);
      out.writes.push_back({id, *t.checked_in_at, scans[i].scan_id, i});
    }
    for (std::size_t n = open ? 1 : 0; n < indexes.size(); ++n)
      out.outcomes[indexes[n]] =
          about(scans[indexes[n]],
                t.status == ticket_status::cancelled ? scan_result::ticket_cancelled
                                                     : scan_result::already_checked_in,
                t);
  }

  // A repeat answers what its first occurrence got: REPLAYED when that one checked in.
  for (std::size_t i = 0; i < scans.size(); ++i)
    if (repeats[i]) {
      out.outcomes[i] = out.outcomes[*repeats[i]];
      if (out.outcomes[i].result == scan_result::checked_in)
        out.outcomes[i].result = scan_result::replayed;
    }
  return out;
}

} // namespace eventhub::domain
