// Outbox repository; SQL in queries/confirmation_queries.hpp.
#include "persistence/confirmation_repository.hpp"

#include "persistence/queries/confirmation_queries.hpp"
#include "persistence/queries/notification_queries.hpp"

namespace eventhub::persistence::confirmations {

std::vector<domain::confirmation> claim_due(tx& t, int limit, std::chrono::milliseconds lease) {
  std::vector<domain::confirmation> out;
  for (const auto& r :
       t.exec(sql::claim_due_confirmations, limit, static_cast<std::int64_t>(lease.count())))
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                   r[3].as<std::int32_t>(), r[4].as<std::string>(), r[5].as<int>()});
  return out;
}

void forget_delivered(tx& t, const std::vector<std::int64_t>& purchase_ids) {
  if (!purchase_ids.empty())
    t.exec(sql::forget_delivered_confirmations, int_array(purchase_ids));
}

void postpone(tx& t, const std::vector<std::int64_t>& purchase_ids, std::chrono::milliseconds delay,
              const std::string& reason) {
  if (!purchase_ids.empty())
    t.exec(sql::postpone_confirmations, int_array(purchase_ids),
           static_cast<std::int64_t>(delay.count()), reason.substr(0, 500));
}

} // namespace eventhub::persistence::confirmations

namespace eventhub::persistence::notifications {

std::vector<domain::notification> claim_due(tx& t, int limit, std::chrono::milliseconds lease) {
  std::vector<domain::notification> out;
  for (const auto& r :
       t.exec(sql::claim_due_notifications, limit, static_cast<std::int64_t>(lease.count()))) {
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::int64_t>(),
                   r[3].as<std::int64_t>(), r[4].as<std::int64_t>(), r[5].as<std::int32_t>(),
                   r[6].as<int>(), r[7].as<std::int64_t>(), r[8].as<std::string>(),
                   r[9].as<std::string>(), r[10].as<std::int64_t>()});
    if (!r[11].is_null())
      out.back().expires_at = domain::from_micros(r[11].as<std::int64_t>());
    out.back().purchase_id = r[12].as<std::int64_t>();
    if (!r[13].is_null())
      out.back().checked_in_at = domain::from_micros(r[13].as<std::int64_t>());
  }
  return out;
}

void forget_delivered(tx& t, const std::vector<std::int64_t>& ids) {
  if (!ids.empty())
    t.exec(sql::forget_delivered_notifications, int_array(ids));
}

void postpone(tx& t, const std::vector<std::int64_t>& ids, std::chrono::milliseconds delay,
              const std::string& reason) {
  if (!ids.empty())
    t.exec(sql::postpone_notifications, int_array(ids), static_cast<std::int64_t>(delay.count()),
           reason.substr(0, 500));
}

} // namespace eventhub::persistence::notifications
