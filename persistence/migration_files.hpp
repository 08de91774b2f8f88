// The migration scripts compiled into the binary (see embed_migrations.cmake).
#pragma once

#include <string>
#include <vector>

namespace eventhub::persistence {

struct migration_file {
  std::string name; // V<n>__<description>.sql
  std::string sql;
};

const std::vector<migration_file>& embedded_migrations();

} // namespace eventhub::persistence
