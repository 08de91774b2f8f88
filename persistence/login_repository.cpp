// Login throttling repository; SQL in queries/login_queries.hpp.
#include "persistence/login_repository.hpp"

#include "persistence/queries/login_queries.hpp"

namespace eventhub::persistence::logins {

std::string email_subject(const std::string& email) {
  return "email:" + email;
}
std::string address_subject(const std::string& address) {
  return "addr:" + address;
}

std::optional<std::int64_t> locked_for(tx& t, const std::vector<std::string>& subjects) {
  std::vector<std::optional<std::string>> values(subjects.begin(), subjects.end());
  auto rows = t.exec(sql::login_lock_remaining, text_array(values));
  if (rows.empty() || rows[0][0].is_null())
    return std::nullopt;
  return std::max<std::int64_t>(1, rows[0][0].as<std::int64_t>());
}

void record_failure(tx& t, const std::string& email, const std::string& address,
                    const throttle_policy& policy) {
  const auto window = static_cast<std::int64_t>(policy.window.count());
  const auto lockout = static_cast<std::int64_t>(policy.lockout.count());
  t.exec(sql::record_login_failure, email_subject(email), window, policy.max_failures_per_email,
         lockout);
  if (!address.empty())
    t.exec(sql::record_login_failure, address_subject(address), window,
           policy.max_failures_per_address, lockout);
}

void record_success(tx& t, const std::string& email) {
  t.exec(sql::clear_login_failures, email_subject(email));
}

} // namespace eventhub::persistence::logins
