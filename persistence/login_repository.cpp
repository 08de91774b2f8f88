// Login throttling repository; SQL in queries/login_queries.hpp.
#include "persistence/login_repository.hpp"

#include "persistence/pq_types.hpp"
#include "persistence/queries/login_queries.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace eventhub::persistence::logins {
namespace {

struct claim {
  bool admitted = false;
  std::optional<std::int64_t> own_lock;
};

claim claim_attempt(tx& t, const std::string& subject, int max_failures,
                    const throttle_policy& policy) {
  auto rows =
      t.exec(sql::claim_login_attempt, subject, static_cast<std::int64_t>(policy.window.count()),
             max_failures, static_cast<std::int64_t>(policy.lockout.count()));
  if (rows.empty())
    return {};
  claim c{true, std::nullopt};
  if (!rows[0][0].is_null())
    c.own_lock = rows[0][0].as<std::int64_t>();
  return c;
}

void release(tx& t, const std::string& subject, const std::optional<std::int64_t>& own_lock) {
  t.exec(sql::release_login_attempt, subject, own_lock);
}

std::int64_t seconds_locked(tx& t, const std::vector<std::string>& subjects) {
  std::vector<std::optional<std::string>> values(subjects.begin(), subjects.end());
  auto rows = t.exec(sql::login_lock_remaining, text_array(values));
  if (rows.empty() || rows[0][0].is_null())
    return 1; // the lock ended between the claim and now: retry at once
  return std::max<std::int64_t>(1, rows[0][0].as<std::int64_t>());
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
  attempt a;
  const auto by_email = claim_attempt(t, subjects[0], policy.max_failures_per_email, policy);
  if (!by_email.admitted) {
    a.retry_after_seconds = seconds_locked(t, subjects);
    return a;
  }
  if (subjects.size() > 1) {
    const auto by_address = claim_attempt(t, subjects[1], policy.max_failures_per_address, policy);
    if (!by_address.admitted) {
      release(t, subjects[0], by_email.own_lock); // refused attempts never count
      a.retry_after_seconds = seconds_locked(t, subjects);
      return a;
    }
    a.address_lock = by_address.own_lock;
  }
  a.admitted = true;
  a.email_lock = by_email.own_lock;
  return a;
}

void succeeded(tx& t, const std::string& email, const std::string& address, const attempt& a) {
  t.exec(sql::clear_login_failures, email_subject(email));
  if (!address.empty())
    release(t, address_subject(address), a.address_lock);
}

} // namespace eventhub::persistence::logins
