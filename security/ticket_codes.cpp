// Ticket codes and sealed event keys; see ticket_codes.hpp.
#include "security/ticket_codes.hpp"

#include "security/random.hpp"

#include <sodium.h>

#include <charconv>
#include <stdexcept>

namespace eventhub::security {
namespace {

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

constexpr char key_context[crypto_kdf_CONTEXTBYTES + 1] = "EHtktkey";

/// The event id as associated data: a sealed key opens only for its own event.
std::string associated_data(std::int64_t event_id) {
  return "event-signing-key:" + std::to_string(event_id);
}

/// A positive decimal id without sign or leading zeros that fits int64.
std::optional<std::int64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 19 || s.front() == '0')
    return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v <= 0)
    return std::nullopt;
  return v;
}

} // namespace

key_sealer::key_sealer(std::string_view secret) {
  ensure_sodium();
  if (secret.size() < 32)
    throw std::invalid_argument("the key-sealing secret needs at least 32 bytes");
  unsigned char master[crypto_kdf_KEYBYTES];
  crypto_generichash(master, sizeof master, bytes_of(secret), secret.size(), nullptr, 0);
  crypto_kdf_derive_from_key(key_.data(), key_.size(), 1, key_context, master);
  sodium_memzero(master, sizeof master);
}

key_sealer::~key_sealer() {
  sodium_memzero(key_.data(), key_.size());
}

std::string key_sealer::seal_bytes(std::string_view plain, std::string_view ad) const {
  constexpr auto npub = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(npub + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, npub);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + npub, &written, bytes_of(plain), plain.size(),
                                             bytes_of(ad), ad.size(), nullptr, nonce, key_.data());
  return out;
}

std::optional<std::string> key_sealer::open_bytes(std::string_view sealed,
                                                  std::string_view ad) const {
  constexpr auto npub = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr auto tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < npub + tag)
    return std::nullopt;
  std::string plain(sealed.size() - npub - tag, '\0');
  unsigned long long length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &length, nullptr, bytes_of(sealed) + npub,
          sealed.size() - npub, bytes_of(ad), ad.size(), bytes_of(sealed), key_.data()) != 0)
    return std::nullopt;
  return plain;
}

std::string key_sealer::seal(const signing_key& key, std::int64_t event_id) const {
  unsigned char seed[crypto_sign_SEEDBYTES];
  crypto_sign_ed25519_sk_to_seed(seed, bytes_of(key.secret_key));
  auto out =
      seal_bytes({reinterpret_cast<const char*>(seed), sizeof seed}, associated_data(event_id));
  sodium_memzero(seed, sizeof seed);
  return out;
}

std::optional<signing_key> key_sealer::open(std::string_view sealed, std::int64_t event_id) const {
  auto seed = open_bytes(sealed, associated_data(event_id));
  if (!seed || seed->size() != crypto_sign_SEEDBYTES)
    return std::nullopt;
  signing_key key;
  key.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()),
                           reinterpret_cast<unsigned char*>(key.secret_key.data()),
                           bytes_of(*seed));
  sodium_memzero(seed->data(), seed->size());
  return key;
}

signing_key generate_signing_key() {
  ensure_sodium();
  signing_key key;
  key.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()),
                      reinterpret_cast<unsigned char*>(key.secret_key.data()));
  return key;
}

std::string base64url(std::string_view bytes) {
  constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes_of(bytes), bytes.size(), variant);
  out.resize(out.size() - 1); // the terminating NUL
  return out;
}

std::optional<std::string> from_base64url(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 1, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size())
    return std::nullopt;
  out.resize(length);
  // One text per byte string: trailing bits that do not encode bytes must be zero.
  if (base64url(out) != text)
    return std::nullopt;
  return out;
}

std::optional<ticket_code> parse_ticket_code(std::string_view text) {
  constexpr std::string_view prefix = "EH1.";
  if (text.size() > 200 || text.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  std::string_view parts[4];
  auto rest = text.substr(prefix.size());
  for (int i = 0; i < 3; ++i) {
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos)
      return std::nullopt;
    parts[i] = rest.substr(0, dot);
    rest = rest.substr(dot + 1);
  }
  parts[3] = rest;
  ticket_code code;
  auto event = parse_id(parts[0]);
  auto ticket = parse_id(parts[1]);
  auto nonce = from_base64url(parts[2]);
  auto signature = from_base64url(parts[3]);
  if (!event || !ticket || !nonce || nonce->size() != ticket_nonce_bytes || !signature ||
      signature->size() != crypto_sign_BYTES)
    return std::nullopt;
  code.event_id = *event;
  code.ticket_id = *ticket;
  code.nonce = std::move(*nonce);
  code.signature = std::move(*signature);
  code.signed_text = std::string(text.substr(0, text.size() - parts[3].size() - 1));
  return code;
}

std::string sign_ticket_code(std::int64_t event_id, std::int64_t ticket_id, std::string_view nonce,
                             const signing_key& key) {
  auto text =
      "EH1." + std::to_string(event_id) + '.' + std::to_string(ticket_id) + '.' + base64url(nonce);
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr, bytes_of(text),
                       text.size(), bytes_of(key.secret_key));
  return text + '.' + base64url(signature);
}

bool verify_ticket_code(const ticket_code& code, std::string_view public_key) {
  return public_key.size() == crypto_sign_PUBLICKEYBYTES &&
         code.signature.size() == crypto_sign_BYTES &&
         crypto_sign_verify_detached(bytes_of(code.signature), bytes_of(code.signed_text),
                                     code.signed_text.size(), bytes_of(public_key)) == 0;
}

} // namespace eventhub::security
