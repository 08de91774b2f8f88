// Random hex identifiers; see random.hpp.
#include "security/random.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace eventhub::security {
namespace {

/// sodium_init() takes a lock on every call: run it once per process, not once per id.
void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready)
    throw std::runtime_error("libsodium initialisation failed");
}

} // namespace

std::string random_hex(std::size_t bytes) {
  ensure_sodium();
  std::string hex;
  hex.reserve(bytes * 2);
  // In chunks on the stack, so the usual sizes allocate only the result. sodium_bin2hex runs
  // in constant time: these may be secrets.
  unsigned char chunk[32];
  char digits[sizeof chunk * 2 + 1];
  for (std::size_t done = 0; done < bytes; done += sizeof chunk) {
    const std::size_t n = std::min(sizeof chunk, bytes - done);
    randombytes_buf(chunk, n);
    hex.append(sodium_bin2hex(digits, sizeof digits, chunk, n), n * 2);
  }
  return hex;
}

} // namespace eventhub::security
