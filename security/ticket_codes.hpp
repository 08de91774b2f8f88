// Ticket codes signed by the event's Ed25519 key (libsodium), and the event keys sealed at rest.
//
// A code is `EH1.<eventId>.<ticketId>.<nonce>.<signature>`: nonce 16 random bytes, signature the
// Ed25519 signature of the ASCII text before the last `.`, both base64url without padding. Anyone
// with the event's public key verifies it offline (docs/api.md, "Tickets and check-in").
//
// An event's secret key is stored sealed with XChaCha20-Poly1305 under a key-encryption key
// derived from a configured secret, with the event id as associated data: a copy of the database
// alone cannot sign, and a sealed key moved to another event does not open.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventhub::security {

inline constexpr std::size_t ticket_nonce_bytes = 16;

/// An event's Ed25519 key pair (raw bytes: 32 public, 64 secret as libsodium keeps it).
struct signing_key {
  std::string public_key;
  std::string secret_key;
};

/// The key that seals event keys, derived from a configured secret (any length ≥ 32 bytes).
class key_sealer {
 public:
  explicit key_sealer(std::string_view secret);
  ~key_sealer();
  key_sealer(const key_sealer&) = default;
  key_sealer& operator=(const key_sealer&) = default;

  /// 24-byte nonce then ciphertext of the 32-byte seed and its 16-byte tag.
  std::string seal(const signing_key& key, std::int64_t event_id) const;
  /// nullopt when `sealed` was not sealed by this key for this event.
  std::optional<signing_key> open(std::string_view sealed, std::int64_t event_id) const;

  /// Any secret (webhook secrets): 24-byte nonce, ciphertext and tag, bound to `ad`.
  std::string seal_bytes(std::string_view plain, std::string_view ad) const;
  /// nullopt when `sealed` was not sealed by this key with this `ad`.
  std::optional<std::string> open_bytes(std::string_view sealed, std::string_view ad) const;

 private:
  std::array<unsigned char, 32> key_{};
};

signing_key generate_signing_key();

/// A code's parts, as parsed (not yet verified).
struct ticket_code {
  std::int64_t event_id = 0;
  std::int64_t ticket_id = 0;
  std::string nonce;       // 16 raw bytes
  std::string signature;   // 64 raw bytes
  std::string signed_text; // the code up to its last `.`
};

/// The parts of `text` if it has the code's exact shape (canonical base64url, ids positive
/// decimal without leading zeros), else nullopt. Never throws.
std::optional<ticket_code> parse_ticket_code(std::string_view text);

/// The code of ticket `ticket_id` of `event_id` with `nonce` (16 raw bytes).
std::string sign_ticket_code(std::int64_t event_id, std::int64_t ticket_id, std::string_view nonce,
                             const signing_key& key);

/// Whether `code`'s signature is `public_key`'s (32 raw bytes) over its signed text.
bool verify_ticket_code(const ticket_code& code, std::string_view public_key);

/// base64url without padding, as codes and check-in keys are written.
std::string base64url(std::string_view bytes);
/// The bytes of canonical base64url without padding, else nullopt.
std::optional<std::string> from_base64url(std::string_view text);

} // namespace eventhub::security
