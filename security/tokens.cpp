// libjwt wrappers; the algorithm is pinned to HS256 on both sides.
#include "security/tokens.hpp"

#include <jwt.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace eventhub::security {
namespace {

struct jwt_deleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using jwt_ptr = std::unique_ptr<jwt_t, jwt_deleter>;

constexpr std::size_t max_token_length = 4096;

const unsigned char* key_bytes(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::optional<std::int64_t> positive_integer(const char* text) {
  if (!text)
    return std::nullopt;
  std::string_view s(text);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value <= 0)
    return std::nullopt;
  return value;
}

std::optional<long> integer_claim(jwt_t* j, const char* name) {
  errno = 0;
  long v = jwt_get_grant_int(j, name);
  if (errno != 0)
    return std::nullopt;
  return v;
}

bool has_header(jwt_t* j, const char* name) {
  char* json = jwt_get_headers_json(j, name); // NULL when absent
  const bool found = json != nullptr;
  std::free(json);
  return found;
}

} // namespace

token_service::token_service(std::string secret, std::string issuer, std::chrono::seconds ttl)
    : secret_(std::move(secret)), issuer_(std::move(issuer)), ttl_(ttl) {}

domain::access_token token_service::issue(std::int64_t participant_id, domain::role role,
                                          domain::timestamp now) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0)
    throw std::runtime_error("jwt_new failed");
  jwt_ptr j(raw);
  const long iat = static_cast<long>(domain::to_micros(now) / 1000000);
  const long exp = iat + static_cast<long>(ttl_.count());
  const std::string sub = std::to_string(participant_id);
  if (jwt_add_grant(j.get(), "sub", sub.c_str()) ||
      jwt_add_grant(j.get(), "role", domain::to_string(role)) ||
      jwt_add_grant(j.get(), "iss", issuer_.c_str()) || jwt_add_grant_int(j.get(), "iat", iat) ||
      jwt_add_grant_int(j.get(), "exp", exp) ||
      jwt_set_alg(j.get(), JWT_ALG_HS256, key_bytes(secret_), static_cast<int>(secret_.size())))
    throw std::runtime_error("building the token failed");
  char* encoded = jwt_encode_str(j.get());
  if (!encoded)
    throw std::runtime_error("encoding the token failed");
  domain::access_token token{encoded, exp - iat, role};
  std::free(encoded);
  return token;
}

std::optional<token_claims> token_service::verify(std::string_view token,
                                                  domain::timestamp now) const {
  if (token.empty() || token.size() > max_token_length)
    return std::nullopt;
  const std::string text(token); // libjwt wants a NUL-terminated string
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, text.c_str(), key_bytes(secret_), static_cast<int>(secret_.size())) != 0)
    return std::nullopt;
  jwt_ptr j(raw);
  // jwt_decode accepts whatever algorithm the token names if the key verifies it (HS384/512 too)
  // and, with some versions, "none"; it also reads the name case-insensitively ("hs256"), while
  // JWA names are case-sensitive (RFC 7515 §4.1.1). Only the exact "HS256" is ours. A "crit"
  // header names extensions we would have to understand (RFC 7515 §4.1.11): we understand none.
  const char* alg = jwt_get_header(j.get(), "alg");
  if (jwt_get_alg(j.get()) != JWT_ALG_HS256 || !alg || std::strcmp(alg, "HS256") != 0 ||
      has_header(j.get(), "crit"))
    return std::nullopt;
  const char* iss = jwt_get_grant(j.get(), "iss");
  if (!iss || issuer_ != iss)
    return std::nullopt;
  auto sub = positive_integer(jwt_get_grant(j.get(), "sub"));
  const char* role_text = jwt_get_grant(j.get(), "role");
  auto role = role_text ? domain::parse_role(role_text) : std::nullopt;
  auto iat = integer_claim(j.get(), "iat");
  auto exp = integer_claim(j.get(), "exp");
  if (!sub || !role || !iat || !exp)
    return std::nullopt;
  const long now_s = static_cast<long>(domain::to_micros(now) / 1000000);
  constexpr long clock_skew = 60;
  if (*exp <= now_s || *iat > now_s + clock_skew || *exp <= *iat)
    return std::nullopt;
  return token_claims{*sub, *role, *iat, *exp};
}

} // namespace eventhub::security
