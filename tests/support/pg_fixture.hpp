// A throwaway database on the test server (EVENTHUB_TEST_PG), migrated, dropped at the end.
#pragma once

#include "persistence/session.hpp"

#include <string>

namespace eventhub::testing {

class pg_database {
 public:
  pg_database();  // skips the test (Catch2 SKIP-like failure message) when no server is configured
  ~pg_database(); // drops the database

  const std::string& conninfo() const { return conninfo_; }
  persistence::connection_options options() const;

  /// Runs SQL on a fresh connection (setup and checks, outside the code under test).
  void exec(const std::string& sql) const;
  long long scalar(const std::string& sql) const;
  std::string text(const std::string& sql) const; // the first column of the first row

 private:
  std::string admin_;
  std::string name_;
  std::string conninfo_;
};

/// True when EVENTHUB_TEST_PG is set; pg tests return early (and say so) otherwise.
bool have_test_server();

} // namespace eventhub::testing
