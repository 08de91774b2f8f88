// The actor core of one node: the actor system and every long-lived actor, started together
// and stopped together. Headers that include this one stay free of CAF.
#pragma once

#include "config/settings.hpp"
#include "domain/services.hpp"
#include "security/tokens.hpp"

#include <memory>
#include <string>

namespace eventhub::actors {

class core {
 public:
  /// Spawns the DB pool (connecting to `conninfo`), the notifier, listing cache, event registry,
  /// credential workers, cluster node, hold sweeper, retention actor and the service actors.
  core(const config::settings& s, const std::string& conninfo,
       std::shared_ptr<const security::token_service> tokens);
  ~core();

  core(const core&) = delete;
  core& operator=(const core&) = delete;

  domain::services services();

  /// Lets queued database work finish (bounded), then tells every actor to exit and waits for
  /// them. Idempotent; call after the HTTP server stopped taking requests.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace eventhub::actors
