// The CAF configuration of a node: threads, heartbeats, and every message type that crosses
// the middleman, registered in one place (on every node, before the actor system starts).
#pragma once

#include "config/settings.hpp"

#include <caf/actor_system_config.hpp>

namespace eventhub::actors {

class system_config : public caf::actor_system_config {
 public:
  explicit system_config(const config::settings& s);
};

} // namespace eventhub::actors
