// Ticket codes (security/ticket_codes.hpp): the contract's shape, Ed25519 signatures that only the
// event's key makes, canonical parsing, and event keys sealed for one event under one secret.
#include "security/ticket_codes.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace eventhub::security;

namespace {

const std::string nonce(16, '\x5a');

/// `code` with the character at `i` replaced by another base64url character.
std::string altered(std::string code, std::size_t i) {
  code[i] = code[i] == 'A' ? 'B' : 'A';
  return code;
}

} // namespace

SCENARIO("a code has the contract's shape and verifies with its event's key only") {
  const auto key = generate_signing_key();
  const auto code = sign_ticket_code(7, 1234, nonce, key);
  CHECK(code.rfind("EH1.7.1234." + base64url(nonce) + ".", 0) == 0);
  auto parsed = parse_ticket_code(code);
  REQUIRE(parsed);
  CHECK(parsed->event_id == 7);
  CHECK(parsed->ticket_id == 1234);
  CHECK(parsed->nonce == nonce);
  CHECK(parsed->signature.size() == 64);
  CHECK(parsed->signed_text == code.substr(0, code.rfind('.')));
  CHECK(verify_ticket_code(*parsed, key.public_key));
  CHECK_FALSE(verify_ticket_code(*parsed, generate_signing_key().public_key));
  CHECK(sign_ticket_code(7, 1234, nonce, key) == code); // Ed25519 is deterministic
}

SCENARIO("an altered code does not verify, whichever character changed") {
  const auto key = generate_signing_key();
  const auto code = sign_ticket_code(7, 1234, nonce, key);
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (code[i] == '.')
      continue;
    CAPTURE(i);
    auto parsed = parse_ticket_code(altered(code, i));
    CHECK((!parsed || !verify_ticket_code(*parsed, key.public_key)));
  }
}

SCENARIO("only codes of the exact shape parse") {
  const auto key = generate_signing_key();
  const auto code = sign_ticket_code(7, 1234, nonce, key);
  const auto sig = code.substr(code.rfind('.') + 1);
  const auto n = base64url(nonce);
  for (const std::string bad :
       {std::string(""), std::string("EH1"), std::string("EH2.7.1234.") + n + "." + sig,
        "EH1.07.1234." + n + "." + sig, "EH1.-7.1234." + n + "." + sig,
        "EH1.0.1234." + n + "." + sig, "EH1.7.+1234." + n + "." + sig,
        "EH1.9223372036854775808.1." + n + "." + sig, "EH1.7.1234." + n + "=." + sig,
        "EH1.7.1234." + n + "." + sig + "=",
        "EH1.7.1234." + base64url(std::string(15, 'x')) + "." + sig,
        "EH1.7.1234." + n + "." + sig.substr(1), "EH1.7.1234." + n + "." + sig + ".x",
        "EH1.7.1234." + n + "+." + sig, std::string(300, 'A')}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_ticket_code(bad));
  }
  CHECK(parse_ticket_code(code));
}

SCENARIO("base64url is canonical: one text per byte string") {
  CHECK(base64url("\xfb\xff") == "-_8");
  CHECK(from_base64url("-_8") == std::string("\xfb\xff"));
  CHECK_FALSE(from_base64url("-_9")); // the same bytes with non-zero trailing bits
  CHECK_FALSE(from_base64url("+/8")); // the standard alphabet
  CHECK_FALSE(from_base64url("-_8="));
}

SCENARIO("a sealed key opens only for its own event under the same secret") {
  const key_sealer sealer(std::string(40, 's'));
  const auto key = generate_signing_key();
  const auto sealed = sealer.seal(key, 7);
  CHECK(sealed.size() == 24 + 32 + 16);
  CHECK(sealed.find(key.secret_key.substr(0, 32)) == std::string::npos);
  auto opened = sealer.open(sealed, 7);
  REQUIRE(opened);
  CHECK(opened->public_key == key.public_key);
  CHECK(opened->secret_key == key.secret_key);
  CHECK_FALSE(sealer.open(sealed, 8));
  CHECK_FALSE(key_sealer(std::string(40, 't')).open(sealed, 7));
  CHECK_FALSE(sealer.open(altered(sealed, 30), 7));
  CHECK_THROWS(key_sealer(std::string(31, 's')));
}
