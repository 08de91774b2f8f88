// `eventhub admin create-user --email E --role ADMIN|USER [--full-name N]`.
#pragma once

#include "config/settings.hpp"

#include <string>
#include <vector>

namespace eventhub::app {

/// Flags of the admin command, split from the configuration flags that follow them.
struct admin_command {
  std::string action; // "create-user"
  std::string email;
  std::string role = "USER";
  std::string full_name;
};

/// Removes the admin command's own flags from `args` (argv without argv[0]).
admin_command take_admin_command(std::vector<std::string>& args);

/// Reads the password from EVENTHUB_USER_PASSWORD or the first line of stdin (never argv).
int run_admin(const config::settings& s, const admin_command& cmd);

} // namespace eventhub::app
