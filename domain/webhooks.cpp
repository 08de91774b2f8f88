// Webhook types; see webhooks.hpp.
#include "domain/webhooks.hpp"

#include <algorithm>

namespace eventhub::domain {

bool is_webhook_event_type(std::string_view type) {
  return std::find(webhook_event_types.begin(), webhook_event_types.end(), type) !=
         webhook_event_types.end();
}

} // namespace eventhub::domain
