// Creating accounts outside the HTTP API: the first ADMIN from configuration, and the CLI.
#pragma once

#include "config/settings.hpp"
#include "domain/commands.hpp"
#include "domain/result.hpp"

#include <string>

namespace eventhub::app {

/// Inserts the participant with an argon2id hash; conflict when the email exists.
domain::result<domain::participant> create_account(const config::settings& s,
                                                   const std::string& conninfo,
                                                   const domain::new_participant& p);

/// Creates admin.email as ADMIN unless it exists (idempotent across restarts and nodes).
void ensure_first_admin(const config::settings& s, const std::string& conninfo);

} // namespace eventhub::app
