// libFuzzer target: bearer token verification (libjwt decode, algorithm pinning, claims).
// Whatever the input, verify() must return or refuse; a token it accepts must be one we signed.
#include "security/password.hpp"
#include "security/tokens.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace eventhub;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const security::token_service tokens(std::string(48, 'k'), "eventhub",
                                              std::chrono::seconds(3600));
  static const domain::timestamp now = domain::from_micros(1900000000LL * 1000000);
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto claims = tokens.verify(input, now);
  if (claims && (claims->subject <= 0 || claims->expires_at <= claims->issued_at))
    __builtin_trap();
  // a token issued now always verifies, whatever was fuzzed before
  static const auto own = tokens.issue(42, domain::role::user, now);
  if (!tokens.verify(own.token, now))
    __builtin_trap();
  return 0;
}
