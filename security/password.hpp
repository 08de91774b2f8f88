// argon2id password hashing through libsodium (crypto_pwhash_str_alg); never hand-rolled.
// Slow by design: call only from the hashing workers (actors/credential_workers.cpp) or the CLI.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace eventhub::security {

struct argon2_cost {
  unsigned long long iterations = 2;
  std::size_t memory_kib = 19456;
};

/// Initialises libsodium and OpenSSL (without its exit-time cleanup); idempotent, call once
/// first thing in main, before any other function here or any OpenSSL user.
void init_crypto();

/// An encoded `$argon2id$v=19$m=…` string (salt included). Throws std::runtime_error when
/// memory cannot be allocated.
std::string hash_password(std::string_view password, argon2_cost cost);

/// Constant-time verification; false for a malformed hash.
bool verify_password(const std::string& encoded_hash, std::string_view password);

/// A hash of a random password with the same cost: verified against when an email is unknown,
/// so that unknown and known emails take the same time to reject.
const std::string& decoy_hash(argon2_cost cost);

} // namespace eventhub::security

namespace eventhub::security {

/// A 128-bit BLAKE2b digest of `data`, hex encoded (ETags; not for secrets).
std::string content_digest(std::string_view data);

} // namespace eventhub::security
