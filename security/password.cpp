// libsodium argon2id wrappers.
#include "security/password.hpp"

#include "security/random.hpp"

#include <openssl/crypto.h>
#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace eventhub::security {

void init_crypto() {
  // OpenSSL (under libjwt's HS256, libcurl and libpq) must not clean itself up at exit: CAF's
  // detached actors (db workers, webhook poster) are counted out before their thread-local
  // destructors run, so main can return while such a thread still holds its error state, and
  // an atexit OPENSSL_cleanup would delete the thread-local key under it (a leak, or worse).
  // The first initialisation call decides, so this one comes before any other OpenSSL use.
  if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr) != 1)
    throw std::runtime_error("OpenSSL initialisation failed");
  if (sodium_init() < 0)
    throw std::runtime_error("libsodium initialisation failed");
}

std::string hash_password(std::string_view password, argon2_cost cost) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.iterations,
                            cost.memory_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("argon2id hashing failed (out of memory)");
  return out;
}

bool verify_password(const std::string& encoded_hash, std::string_view password) {
  if (encoded_hash.size() >= crypto_pwhash_STRBYTES)
    return false;
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

const std::string& decoy_hash(argon2_cost cost) {
  static std::once_flag once;
  static std::string hash;
  std::call_once(once, [&] { hash = hash_password(random_hex(16), cost); });
  return hash;
}

} // namespace eventhub::security

namespace eventhub::security {

std::string content_digest(std::string_view data) {
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

} // namespace eventhub::security
