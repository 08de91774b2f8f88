#include "domain/audit.hpp"

#include <algorithm>

namespace eventhub::domain {

bool is_audit_action(std::string_view action) {
  return std::find(audit_actions.begin(), audit_actions.end(), action) != audit_actions.end();
}

bool is_audit_entity_type(std::string_view type) {
  return std::find(audit_entity_types.begin(), audit_entity_types.end(), type) !=
         audit_entity_types.end();
}

origin origin_of(const purchase_request& r) {
  origin o{std::nullopt, r.request_id, r.client_address};
  if (r.actor_id)
    o.actor_id = r.actor_id;
  return o;
}

} // namespace eventhub::domain
