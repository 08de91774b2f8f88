// Webhook secrets and signatures; see webhook_signing.hpp.
#include "security/webhook_signing.hpp"

#include "security/random.hpp"

#include <sodium.h>

namespace eventhub::security {
namespace {

constexpr std::string_view secret_prefix = "whsec_";

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string base64(const unsigned char* bytes, std::size_t n) {
  std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, n, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back(); // the terminating NUL sodium writes
  return out;
}

} // namespace

std::string generate_webhook_secret() {
  ensure_sodium();
  std::string bytes(webhook_secret_bytes, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  return bytes;
}

std::string format_webhook_secret(std::string_view bytes) {
  ensure_sodium();
  return std::string(secret_prefix) + base64(bytes_of(bytes), bytes.size());
}

std::optional<std::string> parse_webhook_secret(std::string_view text) {
  ensure_sodium();
  if (text.substr(0, secret_prefix.size()) != secret_prefix)
    return std::nullopt;
  text.remove_prefix(secret_prefix.size());
  std::string bytes(text.size(), '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &length, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size() || length < webhook_secret_min_bytes)
    return std::nullopt;
  bytes.resize(length);
  return bytes;
}

std::string webhook_signature(std::string_view secret, std::string_view message_id,
                              std::int64_t unix_seconds, std::string_view body) {
  ensure_sodium();
  const std::string timestamp = std::to_string(unix_seconds);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, bytes_of(secret), secret.size());
  crypto_auth_hmacsha256_update(&state, bytes_of(message_id), message_id.size());
  crypto_auth_hmacsha256_update(&state, bytes_of("."), 1);
  crypto_auth_hmacsha256_update(&state, bytes_of(timestamp), timestamp.size());
  crypto_auth_hmacsha256_update(&state, bytes_of("."), 1);
  crypto_auth_hmacsha256_update(&state, bytes_of(body), body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return "v1," + base64(mac, sizeof mac);
}

} // namespace eventhub::security
