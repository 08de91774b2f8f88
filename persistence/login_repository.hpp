// Login throttling state in the database, so every node sees the same failure counts.
#pragma once

#include "persistence/session.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::persistence::logins {

struct throttle_policy {
  int max_failures_per_email = 5;
  int max_failures_per_address = 50;
  std::chrono::milliseconds window{15 * 60 * 1000};
  std::chrono::milliseconds lockout{60 * 1000};
};

std::string email_subject(const std::string& email);
std::string address_subject(const std::string& address);

/// Seconds until the login may be tried again, if any of the subjects is locked.
std::optional<std::int64_t> locked_for(tx& t, const std::vector<std::string>& subjects);

void record_failure(tx& t, const std::string& email, const std::string& address,
                    const throttle_policy& policy);

/// A successful login ends the email's run of consecutive failures.
void record_success(tx& t, const std::string& email);

} // namespace eventhub::persistence::logins
