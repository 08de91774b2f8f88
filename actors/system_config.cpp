// CAF settings are applied with cfg.set: cfg.parse would reject our own flags and read a stray
// caf-application.ini from the working directory (docs/configuration.md). Values were validated
// by config/.
#include "actors/system_config.hpp"

#include "actors/wire.hpp"

#include <caf/io/middleman.hpp>
#include <caf/timespan.hpp>

namespace eventhub::actors {

system_config::system_config(const config::settings& s) {
  set("scheduler.max-threads", static_cast<size_t>(s.actors_threads));
  set("logger.verbosity", caf::atom("quiet"));
  // Every type that crosses the middleman, on every node (actors/wire.hpp).
  add_message_type<member_entry>("eventhub::member_entry");
  add_message_type<wire_purchase>("eventhub::wire_purchase");
  add_message_type<wire_hold>("eventhub::wire_hold");
  add_message_type<wire_entry>("eventhub::wire_entry");
  add_message_type<wire_purchase_result>("eventhub::wire_purchase_result");
  if (s.cluster_enabled()) {
    load<caf::io::middleman>();
    set("middleman.heartbeat-interval", caf::timespan{s.cluster_heartbeat_interval});
    set("middleman.connection-timeout", caf::timespan{s.cluster_connection_timeout});
    set("middleman.workers", static_cast<size_t>(0));
  }
}

} // namespace eventhub::actors
