// Login throttling state in the database, so every node sees the same failure counts.
// An email's attempt is counted as a failure when it starts (before the slow password check) and
// forgotten if it succeeds, so concurrent guesses are limited exactly like sequential ones. A
// client address counts only attempts found wrong: many people may sign in at once behind one.
#pragma once

#include "persistence/session.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace eventhub::persistence::logins {

struct throttle_policy {
  int max_failures_per_email = 5;
  int max_failures_per_address = 50;
  std::chrono::milliseconds window{15 * 60 * 1000};
  std::chrono::milliseconds lockout{60 * 1000};
};

/// The throttling key of an email (already lower-cased).
std::string email_subject(const std::string& email);

/// The throttling key of a client address: IPv4 as is, an IPv4-mapped IPv6 address as its IPv4
/// address, any other IPv6 address as its /64 network (one host usually holds a whole /64).
std::string address_subject(const std::string& address);

/// Whether a login attempt may go on to the password check.
struct attempt {
  bool admitted = false;
  std::int64_t retry_after_seconds = 0; // when refused: until the longest lock ends
};

/// Refuses the attempt (uncounted) while its address or email is locked; otherwise counts it
/// against the email. `address` may be empty (not throttled by address).
attempt begin_attempt(tx& t, const std::string& email, const std::string& address,
                      const throttle_policy& policy);

/// The password was wrong: the address counts a failure (the email already did).
void failed(tx& t, const std::string& address, const throttle_policy& policy);

/// The password was right: the email's run of failures ends.
void succeeded(tx& t, const std::string& email);

} // namespace eventhub::persistence::logins
