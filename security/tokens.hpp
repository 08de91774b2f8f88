// Signed bearer tokens: JWT HS256 via libjwt, claims sub/role/iat/exp/iss.
// Verification is a pure function of the token, the key and the clock: no I/O, no actors.
#pragma once

#include "domain/model.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventhub::security {

struct token_claims {
  std::int64_t subject = 0;
  domain::role role = domain::role::user;
  std::int64_t issued_at = 0;  // seconds since epoch
  std::int64_t expires_at = 0; // seconds since epoch
};

class token_service {
 public:
  token_service(std::string secret, std::string issuer, std::chrono::seconds ttl);

  domain::access_token issue(std::int64_t participant_id, domain::role role,
                             domain::timestamp now) const;

  /// nullopt for anything but a well-formed HS256 token signed with our key, issued by us,
  /// not expired, with a positive numeric `sub` and a known role.
  std::optional<token_claims> verify(std::string_view token, domain::timestamp now) const;

  const std::string& issuer() const { return issuer_; }

 private:
  std::string secret_;
  std::string issuer_;
  std::chrono::seconds ttl_;
};

} // namespace eventhub::security
