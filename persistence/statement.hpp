// A named SQL statement: the name doubles as the prepared-statement name.
// Statements live in one header per concern (persistence/queries/*.hpp).
#pragma once

namespace eventhub::persistence {

struct statement {
  const char* name;
  const char* sql;
};

} // namespace eventhub::persistence
