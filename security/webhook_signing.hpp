// Standard Webhooks secrets and signatures (https://www.standardwebhooks.com): a secret is
// `whsec_` + base64 of random bytes; a delivery is signed `v1,<base64 of HMAC-SHA256(secret,
// "<webhook-id>.<webhook-timestamp>.<body>")>` (libsodium's HMAC-SHA256).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventhub::security {

inline constexpr std::size_t webhook_secret_bytes = 32;
inline constexpr std::size_t webhook_secret_min_bytes = 24; // a configured secret

/// 32 fresh random bytes.
std::string generate_webhook_secret();

/// `whsec_` + standard base64 (padded) of the secret's bytes.
std::string format_webhook_secret(std::string_view bytes);

/// The bytes of a `whsec_…` secret of at least 24 bytes, else nullopt.
std::optional<std::string> parse_webhook_secret(std::string_view text);

/// The associated data an endpoint's secret is sealed with at rest (key_sealer::seal_bytes): a
/// sealed secret moved to another endpoint does not open.
inline std::string webhook_secret_ad(std::int64_t endpoint_id) {
  return "webhook-secret:" + std::to_string(endpoint_id);
}

/// The webhook-signature header's value for one attempt.
std::string webhook_signature(std::string_view secret, std::string_view message_id,
                              std::int64_t unix_seconds, std::string_view body);

} // namespace eventhub::security
