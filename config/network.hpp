// An IPv4 or IPv6 network ("10.0.0.0/8", "::1/128"; a bare address is a /32 or /128), used
// by http.trusted-proxies.
#pragma once

#include <optional>
#include <string_view>

namespace eventhub::config {

class network {
 public:
  static std::optional<network> parse(std::string_view text);
  bool contains(std::string_view address) const;

  /// Parses an address into 16 bytes; returns its family (AF_INET/AF_INET6) or 0.
  static int address_bytes(std::string_view text, unsigned char out[16]);

 private:
  int family_ = 0;
  unsigned char bytes_[16] = {};
  int prefix_ = 0;
};

} // namespace eventhub::config
