// libFuzzer target: the ticket code parser and verifier (security/ticket_codes.hpp), which read
// whatever a scanning device sends. Whatever the input, parsing returns or refuses; a parsed
// code is canonical (its parts re-encode to the input, its signed text is the input up to its
// last `.`), and only codes this key signed verify. The key sealer (event keys and webhook
// secrets at rest) opens only what it sealed, for the same event or associated data.
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

/// Nothing fuzzed opens (forging XChaCha20-Poly1305 is not a fuzzer's job); sealed, the input
/// opens to itself with its associated data only.
void sealed(const std::string& input) {
  static const security::key_sealer sealer(std::string(32, 's'));
  check(!sealer.open(input, 1) && !sealer.open_bytes(input, "fuzz"));
  const auto box = sealer.seal_bytes(input, "fuzz");
  check(sealer.open_bytes(box, "fuzz") == input && !sealer.open_bytes(box, "fuzz2") &&
        !sealer.open(box, 1));
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
    check(again == input && code->signed_text == input.substr(0, input.rfind('.')));
    // Our signature over these parts verifies; the fuzzed one does only if it is exactly ours.
    const auto ours = security::sign_ticket_code(code->event_id, code->ticket_id, code->nonce, key);
    auto signed_code = security::parse_ticket_code(ours);
    check(signed_code && security::verify_ticket_code(*signed_code, key.public_key));
    check(security::verify_ticket_code(*code, key.public_key) == (ours == input));
  }
  auto bytes = security::from_base64url(input);
  if (bytes)
    check(security::base64url(*bytes) == input);
  sealed(input);
  return 0;
}
