// The notifier: delivers purchase confirmations from the outbox, at least once.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <string>

namespace eventhub::actors {

struct notifier_options {
  std::string webhook_url; // empty: log line only
  std::chrono::milliseconds sweep_interval{5000};
  std::chrono::milliseconds retry_max{60000};
  std::chrono::milliseconds webhook_timeout{5000};
};

/// Send it `notify_atom, confirmation_list` after a commit; it also sweeps the outbox for rows
/// left undelivered (crash, webhook down) every sweep interval, starting at once.
caf::actor spawn_notifier(caf::actor_system& sys, caf::actor db_pool,
                          const notifier_options& options);

} // namespace eventhub::actors
