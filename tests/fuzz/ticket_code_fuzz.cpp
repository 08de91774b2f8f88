// libFuzzer target: the ticket code parser and verifier (security/ticket_codes.hpp), which read
// whatever a scanning device sends. Whatever the input, parsing returns or refuses; a parsed
// code is canonical (its parts re-encode to the input), and only codes this key signed verify.
#include "security/ticket_codes.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace eventhub;

namespace {

void check(bool property) {
  if (!property)
    __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto key = security::generate_signing_key();
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto code = security::parse_ticket_code(input);
  if (code) {
    check(code->event_id > 0 && code->ticket_id > 0 && code->nonce.size() == 16 &&
          code->signature.size() == 64);
    const auto again = "EH1." + std::to_string(code->event_id) + '.' +
                       std::to_string(code->ticket_id) + '.' + security::base64url(code->nonce) +
                       '.' + security::base64url(code->signature);
    check(again == input);
    // Our signature over these parts verifies; the fuzzed one does only if it is exactly ours.
    const auto ours = security::sign_ticket_code(code->event_id, code->ticket_id, code->nonce, key);
    auto signed_code = security::parse_ticket_code(ours);
    check(signed_code && security::verify_ticket_code(*signed_code, key.public_key));
    check(security::verify_ticket_code(*code, key.public_key) == (ours == input));
  }
  auto bytes = security::from_base64url(input);
  if (bytes)
    check(security::base64url(*bytes) == input);
  return 0;
}
