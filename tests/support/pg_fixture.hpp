// A throwaway database on the test server (EVENTHUB_TEST_PG), migrated, dropped at the end.
#pragma once

#include "domain/commands.hpp"
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

/// A command of `kind` by `participant` for `event`, with a 60 s hold ttl: the shape every pg
/// fixture sends to the batch.
domain::purchase_request order_command(domain::order_kind kind, std::int64_t event,
                                       std::int64_t participant, int quantity,
                                       std::string request_id);

/// True when EVENTHUB_TEST_PG is set; pg tests return early (and say so) otherwise.
bool have_test_server();

} // namespace eventhub::testing
