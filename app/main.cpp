// eventhub: parse the configuration, then run the service or the admin command.
#include "app/admin_cli.hpp"
#include "app/application.hpp"
#include "config/loader.hpp"
#include "observability/log.hpp"
#include "security/password.hpp"

#include <iostream>
#include <pthread.h>

int main(int argc, char** argv) {
  using namespace eventhub;
  // Before any thread exists (spdlog's flusher starts in log::init): see application.hpp.
  const sigset_t stop_signals = app::block_stop_signals();
  security::init_crypto(); // before any other OpenSSL use: see why in security/password.cpp
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: eventhub [--config FILE] [--key value ...]\n"
                 "       eventhub admin create-user --email E --role ADMIN|USER\n\n"
              << config::reference_markdown();
    return 0;
  }
  const bool admin = !args.empty() && args[0] == "admin";
  app::admin_command command;
  if (admin) {
    args.erase(args.begin());
    command = app::take_admin_command(args);
  }
  auto loaded = config::load(args, config::process_environment());
  if (auto* err = std::get_if<config::config_error>(&loaded)) {
    std::cerr << err->line() << "\n";
    return 2;
  }
  const auto& result = std::get<config::loaded>(loaded);
  if (!result.positional.empty()) {
    std::cerr << "config error: " << result.positional.front() << ": unexpected argument\n";
    return 2;
  }
  const auto& s = result.settings;
  log::init(s.log_level, s.log_format == config::log_format::json);
  if (admin) {
    // The admin CLI keeps the default actions (Ctrl-C ends it, also at its password prompt):
    // only this thread takes them. An embedded server it started is then stopped by its watchdog.
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
    return app::run_admin(s, command);
  }
  return app::run_service(s, stop_signals);
}
