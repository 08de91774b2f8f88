// Login throttling repository; SQL in queries/login_queries.hpp.
#include "persistence/login_repository.hpp"

#include "persistence/pq_types.hpp"
#include "persistence/queries/login_queries.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

namespace eventhub::persistence::logins {
namespace {

std::int64_t milliseconds(std::chrono::milliseconds d) {
  return static_cast<std::int64_t>(d.count());
}

/// Seconds until the longest lock among `subjects` ends, if any is locked.
std::optional<std::int64_t> locked_for(tx& t, const std::vector<std::string>& subjects) {
  std::vector<std::optional<std::string>> values(subjects.begin(), subjects.end());
  auto rows = t.exec(sql::login_lock_remaining, text_array(values));
  if (rows.empty() || rows[0][0].is_null())
    return std::nullopt;
  return std::max<std::int64_t>(1, rows[0][0].as<std::int64_t>());
}

attempt refused(std::int64_t seconds) {
  return {false, seconds};
}

} // namespace

std::string email_subject(const std::string& email) {
  return "email:" + email;
}

std::string address_subject(const std::string& address) {
  in6_addr a6{};
  if (inet_pton(AF_INET6, address.c_str(), &a6) != 1)
    return "addr:" + address;
  char text[INET6_ADDRSTRLEN] = {};
  if (IN6_IS_ADDR_V4MAPPED(&a6)) {
    in_addr a4{};
    std::memcpy(&a4, a6.s6_addr + 12, 4);
    inet_ntop(AF_INET, &a4, text, sizeof text);
    return std::string("addr:") + text;
  }
  std::memset(a6.s6_addr + 8, 0, 8);
  inet_ntop(AF_INET6, &a6, text, sizeof text);
  return std::string("addr:") + text + "/64";
}

attempt begin_attempt(tx& t, const std::string& email, const std::string& address,
                      const throttle_policy& policy) {
  std::vector<std::string> subjects{email_subject(email)};
  if (!address.empty())
    subjects.push_back(address_subject(address));
  if (auto wait = locked_for(t, subjects))
    return refused(*wait);
  // Locked meanwhile by a concurrent attempt: no row, refused like above.
  if (t.exec(sql::claim_login_attempt, subjects[0], milliseconds(policy.window),
             policy.max_failures_per_email, milliseconds(policy.lockout))
          .empty())
    return refused(locked_for(t, subjects).value_or(1));
  return {true, 0};
}

void failed(tx& t, const std::string& address, const throttle_policy& policy) {
  if (!address.empty())
    t.exec(sql::record_login_failure, address_subject(address), milliseconds(policy.window),
           policy.max_failures_per_address, milliseconds(policy.lockout));
}

void succeeded(tx& t, const std::string& email) {
  t.exec(sql::clear_login_failures, email_subject(email));
}

} // namespace eventhub::persistence::logins
