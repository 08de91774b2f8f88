// The holds repository; SQL in queries/hold_queries.hpp, rules in domain/purchase_rules.cpp.
#include "persistence/hold_repository.hpp"

#include "persistence/purchase_repository.hpp"
#include "persistence/queries/hold_queries.hpp"
#include "persistence/rows.hpp"
#include "persistence/waitlist_repository.hpp"

namespace eventhub::persistence::holds {
namespace {

std::optional<std::int64_t> micros(const std::optional<domain::timestamp>& t) {
  if (!t)
    return std::nullopt;
  return domain::to_micros(*t);
}

std::vector<domain::notification> read_notifications(const pqxx::result& rows) {
  std::vector<domain::notification> out;
  for (const auto& r : rows)
    out.push_back({r[0].as<std::int64_t>(), "hold.expired", r[1].as<std::int64_t>(),
                   r[2].as<std::int64_t>(), r[3].as<std::int64_t>(), r[4].as<std::int32_t>(), 0});
  return out;
}

} // namespace

std::vector<domain::notification> expire_due(tx& t, std::int64_t event_id,
                                             std::optional<domain::timestamp> at) {
  return read_notifications(t.exec(sql::expire_due_holds, event_id, micros(at)));
}

std::vector<domain::target_hold> targets(tx& t, std::int64_t event_id,
                                         const std::vector<domain::purchase_request>& batch) {
  std::vector<std::int64_t> ids;
  for (const auto& req : batch)
    if (req.kind == domain::order_kind::confirm || req.kind == domain::order_kind::release)
      ids.push_back(req.hold_id);
  std::vector<domain::target_hold> out;
  if (ids.empty())
    return out;
  for (const auto& r : t.exec(sql::holds_for_batch, event_id, int_array(ids)))
    out.push_back({read_hold(r), std::nullopt});
  for (auto& target : out) {
    if (target.hold.status != domain::hold_status::confirmed)
      continue;
    const auto rows = t.exec(sql::purchase_of_hold, target.hold.id);
    if (rows.empty())
      continue;
    target.hold.purchase_id = rows[0][0].as<std::int64_t>();
    target.purchase = purchases::find(t, *target.hold.purchase_id);
  }
  return out;
}

std::vector<domain::keyed_hold> keyed(tx& t, const std::vector<domain::purchase_request>& batch) {
  std::vector<std::int64_t> participants;
  std::vector<std::optional<std::string>> keys;
  for (const auto& req : batch)
    if (req.kind == domain::order_kind::hold && req.idempotency_key) {
      participants.push_back(req.participant_id);
      keys.push_back(req.idempotency_key);
    }
  std::vector<domain::keyed_hold> out;
  if (keys.empty())
    return out;
  for (const auto& r : t.exec(sql::find_keyed_holds, int_array(participants), text_array(keys)))
    out.push_back({r[0].as<std::string>(), read_hold(r, 1)});
  return out;
}

std::optional<domain::timestamp> next_expiry(tx& t, std::int64_t event_id) {
  const auto rows = t.exec(sql::next_hold_expiry, event_id);
  if (rows.empty() || rows[0][0].is_null())
    return std::nullopt;
  return domain::from_micros(rows[0][0].as<std::int64_t>());
}

std::vector<domain::notification> sweep(session& s, int max_events,
                                        const waitlist::offer_settings& offers) {
  const auto events = s.transact([&](tx& t) {
    std::vector<std::int64_t> ids;
    for (const auto& r : t.exec(sql::events_with_due_holds, max_events))
      ids.push_back(r[0].as<std::int64_t>());
    return ids;
  });
  std::vector<domain::notification> out;
  for (const auto event_id : events) {
    auto expired = s.transact([&](tx& t) -> std::vector<domain::notification> {
      const auto locked = t.exec(sql::try_lock_event_for_sweep, event_id);
      if (locked.empty())
        return {}; // deleted, or a batch holds the lock and expires them itself
      auto freed = expire_due(t, event_id, domain::from_micros(locked[0][0].as<std::int64_t>()));
      if (!freed.empty()) {
        auto offered = waitlist::offer_freed(t, event_id, offers);
        freed.insert(freed.end(), offered.begin(), offered.end());
      }
      return freed;
    });
    out.insert(out.end(), expired.begin(), expired.end());
  }
  return out;
}

std::optional<domain::hold> find(tx& t, std::int64_t id) {
  const auto rows = t.exec(sql::find_hold, id);
  if (rows.empty())
    return std::nullopt;
  return read_hold(rows[0]);
}

domain::page<domain::hold> list_of(tx& t, std::int64_t participant_id,
                                   const domain::page_request& paging) {
  domain::page<domain::hold> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r : t.exec(sql::list_holds_of, participant_id, paging.size, paging.offset()))
    page.items.push_back(read_hold(r));
  page.total_items = t.exec(sql::count_holds_of, participant_id)[0][0].as<std::int64_t>();
  return page;
}

} // namespace eventhub::persistence::holds
