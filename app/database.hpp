// Getting a migrated database: the configured server, or the embedded default started here.
#pragma once

#include "config/settings.hpp"
#include "persistence/embedded_postgres.hpp"

#include <memory>
#include <string>

namespace eventhub::app {

struct database {
  std::string conninfo;
  std::unique_ptr<persistence::embedded_postgres>
      embedded; // null with db.url; stops on destruction
};

/// Starts the embedded PostgreSQL when db.url is empty (`share`: use one another process runs),
/// waits up to db.startup-wait for the server, and applies pending migrations.
/// Throws std::runtime_error (or persistence::migration_error) with a message for humans.
database open_database(const config::settings& s, bool share = false);

/// `s` with jwt.secret filled from the embedded data directory when not configured.
config::settings with_secret(config::settings s, database& db);

} // namespace eventhub::app
