// Login throttling state in the database, so every node sees the same failure counts.
// An attempt is counted as a failure when it starts (before the slow password check) and taken
// back if it succeeds: concurrent guesses are limited exactly like sequential ones.
#pragma once

#include "persistence/session.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
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

/// A login attempt counted against its email and client address.
struct attempt {
  bool admitted = false;
  std::int64_t retry_after_seconds = 0;   // when refused: until the longest lock ends
  std::optional<std::int64_t> email_lock; // locks this attempt set itself (epoch µs)
  std::optional<std::int64_t> address_lock;
};

/// Counts the attempt as a failure unless its email or address is locked (then it is refused
/// and not counted). `address` may be empty (not throttled by address).
attempt begin_attempt(tx& t, const std::string& email, const std::string& address,
                      const throttle_policy& policy);

/// The password was right: the email's failures are forgotten and the address's count of this
/// attempt taken back. A wrong password needs no call: the attempt already counted.
void succeeded(tx& t, const std::string& email, const std::string& address, const attempt& a);

} // namespace eventhub::persistence::logins
