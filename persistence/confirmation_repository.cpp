// Outbox repository; SQL in queries/confirmation_queries.hpp.
#include "persistence/confirmation_repository.hpp"

#include "persistence/queries/confirmation_queries.hpp"

namespace eventhub::persistence::confirmations {

std::vector<domain::confirmation> claim_due(tx& t, int limit, std::chrono::milliseconds lease) {
  std::vector<domain::confirmation> out;
  for (const auto& r :
       t.exec(sql::claim_due_confirmations, limit, static_cast<std::int64_t>(lease.count())))
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                   r[3].as<std::int64_t>(), r[4].as<std::int32_t>(), r[5].as<std::string>(),
                   r[6].as<int>()});
  return out;
}

void mark_delivered(tx& t, const std::vector<std::int64_t>& ids) {
  if (!ids.empty())
    t.exec(sql::mark_confirmations_delivered, int_array(ids));
}

void postpone(tx& t, const std::vector<std::int64_t>& ids, std::chrono::milliseconds delay,
              const std::string& reason) {
  if (!ids.empty())
    t.exec(sql::postpone_confirmations, int_array(ids), static_cast<std::int64_t>(delay.count()),
           reason.substr(0, 500));
}

} // namespace eventhub::persistence::confirmations
