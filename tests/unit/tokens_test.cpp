// Bearer tokens: issue and verify, and every attack the contract lists.
#include "security/password.hpp"
#include "security/tokens.hpp"

#include <catch2/catch.hpp>

#include <jwt.h>
#include <sodium.h>

#include <cstdlib>
#include <cstring>

using namespace eventhub;
using security::token_service;

namespace {

const std::string secret(48, 'k');
const domain::timestamp now = domain::now();

/// A token built with libjwt directly, to forge what an attacker could send.
std::string forge(jwt_alg_t alg, const std::string& key, const char* role = "USER",
                  long exp_offset = 3600, const char* iss = "eventhub", const char* sub = "7") {
  jwt_t* j = nullptr;
  jwt_new(&j);
  const long iat = static_cast<long>(domain::to_micros(now) / 1000000);
  jwt_add_grant(j, "sub", sub);
  jwt_add_grant(j, "role", role);
  jwt_add_grant(j, "iss", iss);
  jwt_add_grant_int(j, "iat", iat);
  jwt_add_grant_int(j, "exp", iat + exp_offset);
  jwt_set_alg(j, alg,
              alg == JWT_ALG_NONE ? nullptr : reinterpret_cast<const unsigned char*>(key.data()),
              alg == JWT_ALG_NONE ? 0 : static_cast<int>(key.size()));
  char* s = jwt_encode_str(j);
  std::string out = s ? s : "";
  std::free(s);
  jwt_free(j);
  return out;
}

/// A token whose header is written by hand (libjwt only writes headers it likes), signed with
/// HMAC-SHA256 through libsodium.
std::string hand_signed(const std::string& header_json, const std::string& key) {
  const long iat = static_cast<long>(domain::to_micros(now) / 1000000);
  const std::string payload = R"({"sub":"7","role":"USER","iss":"eventhub","iat":)" +
                              std::to_string(iat) + R"(,"exp":)" + std::to_string(iat + 3600) + "}";
  auto b64 = [](const std::string& bytes) {
    std::string out(
        sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(std::strlen(out.c_str()));
    return out;
  };
  const std::string input = b64(header_json) + "." + b64(payload);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return input + "." + b64(std::string(reinterpret_cast<const char*>(mac), sizeof mac));
}

} // namespace

TEST_CASE("issued tokens verify with their claims") {
  token_service tokens(secret, "eventhub", std::chrono::seconds(3600));
  auto t = tokens.issue(42, domain::role::admin, now);
  CHECK(t.expires_in == 3600);
  auto claims = tokens.verify(t.token, now);
  REQUIRE(claims);
  CHECK(claims->subject == 42);
  CHECK(claims->role == domain::role::admin);
  CHECK(claims->expires_at - claims->issued_at == 3600);
}

TEST_CASE("tokens are rejected when they are not exactly ours") {
  token_service tokens(secret, "eventhub", std::chrono::seconds(3600));
  const auto good = forge(JWT_ALG_HS256, secret);
  REQUIRE(tokens.verify(good, now));

  SECTION("garbage and truncation") {
    CHECK_FALSE(tokens.verify("", now));
    CHECK_FALSE(tokens.verify("not-a-token", now));
    CHECK_FALSE(tokens.verify("a.b.c", now));
    CHECK_FALSE(tokens.verify(good.substr(0, good.size() - 5), now));
    CHECK_FALSE(tokens.verify(std::string(10000, 'a'), now));
  }
  SECTION("a tampered payload (USER edited to ADMIN) breaks the signature") {
    const auto admin = forge(JWT_ALG_HS256, secret, "ADMIN");
    const auto first_dot = good.find('.'), second_dot = good.rfind('.');
    const std::string spliced = good.substr(0, first_dot) +
                                admin.substr(first_dot, admin.rfind('.') - first_dot) +
                                good.substr(second_dot);
    CHECK_FALSE(tokens.verify(spliced, now));
  }
  SECTION("alg none") {
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_NONE, ""), now));
  }
  SECTION("another algorithm with the right key") {
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_HS512, secret), now));
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_HS384, secret), now));
  }
  SECTION("the algorithm named exactly HS256, and no critical extension") {
    security::init_crypto();
    REQUIRE(tokens.verify(hand_signed(R"({"alg":"HS256","typ":"JWT"})", secret),
                          now)); // the forger works
    CHECK_FALSE(tokens.verify(hand_signed(R"({"alg":"hs256","typ":"JWT"})", secret), now));
    CHECK_FALSE(tokens.verify(hand_signed(R"({"alg":"Hs256"})", secret), now));
    CHECK_FALSE(tokens.verify(hand_signed(R"({"typ":"JWT"})", secret), now));
    CHECK_FALSE(
        tokens.verify(hand_signed(R"({"alg":"HS256","crit":["exp"],"exp":1})", secret), now));
  }
  SECTION("the wrong key") {
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_HS256, std::string(48, 'x')), now));
  }
  SECTION("expired") {
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_HS256, secret, "USER", -1), now));
  }
  SECTION("another issuer") {
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_HS256, secret, "USER", 3600, "evil"), now));
  }
  SECTION("a role or subject we do not know") {
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_HS256, secret, "ROOT"), now));
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_HS256, secret, "USER", 3600, "eventhub", "abc"), now));
    CHECK_FALSE(tokens.verify(forge(JWT_ALG_HS256, secret, "USER", 3600, "eventhub", "-3"), now));
  }
}

TEST_CASE("argon2id hashes verify only their password") {
  security::init_crypto();
  const security::argon2_cost cheap{1, 8192};
  const auto hash = security::hash_password("correct horse", cheap);
  CHECK(hash.rfind("$argon2id$", 0) == 0);
  CHECK(security::verify_password(hash, "correct horse"));
  CHECK_FALSE(security::verify_password(hash, "correct horse "));
  CHECK_FALSE(security::verify_password("garbage", "x"));
  CHECK(security::hash_password("correct horse", cheap) != hash); // salted
}
