// Flyway-style migrations: V<n>__<description>.sql applied in version order, each exactly once,
// under a PostgreSQL advisory lock, recorded with checksums in flyway_schema_history.
#pragma once

#include "persistence/migration_files.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace eventhub::persistence {

struct migration {
  int version = 0;
  std::string description; // "schema" for V1__schema.sql, underscores read as spaces
  std::string script;      // the file name
  std::int32_t checksum = 0;
  std::string sql;
};

/// Refusal to start: a bad file name, a changed applied script, a failed script.
struct migration_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Flyway's checksum: CRC32 over the UTF-8 bytes of each line, line endings excluded.
std::int32_t flyway_checksum(std::string_view sql);

/// Parses names and versions; throws migration_error on a bad name or a duplicate version.
std::vector<migration> load_migrations(const std::vector<migration_file>& files);

struct migration_report {
  int applied = 0;        // scripts run now
  int schema_version = 0; // highest applied version afterwards
};

/// Applies pending migrations in one transaction; safe when several nodes start at once.
migration_report migrate(pqxx::connection_base& c, const std::vector<migration>& migrations);

} // namespace eventhub::persistence
