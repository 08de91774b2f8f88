// The service: database, actor core and HTTP server started in order, stopped in reverse.
#pragma once

#include "config/settings.hpp"

#include <csignal>

namespace eventhub::app {

/// Blocks the stop signals (SIGINT, SIGTERM, and SIGHUP unless it is ignored, as under nohup) in
/// the calling thread and ignores SIGPIPE. main calls it before anything starts a thread: every
/// thread inherits the mask, so no stop signal ever takes its default action (ending the process
/// on the spot, the embedded PostgreSQL left running); run_service takes them with sigwait.
sigset_t block_stop_signals();

/// Runs until a stop signal; returns the process exit code (0 after a clean stop). The first
/// signal stops gracefully (requests in flight get up to http.request-timeout); a second one
/// ends that wait at once; later ones are ignored. Either way the actors drain and the embedded
/// PostgreSQL is stopped before the process exits.
int run_service(const config::settings& s, const sigset_t& stop_signals);

} // namespace eventhub::app
