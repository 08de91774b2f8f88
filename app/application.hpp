// The service: database, actor core and HTTP server started in order, stopped in reverse.
#pragma once

#include "config/settings.hpp"

namespace eventhub::app {

/// Runs until SIGINT or SIGTERM; returns the process exit code (0 after a clean stop).
int run_service(const config::settings& s);

} // namespace eventhub::app
