// Network parsing and membership (inet_pton).
#include "config/network.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace eventhub::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace

int network::address_bytes(std::string_view text, unsigned char out[16]) {
  const std::string s(trim(text));
  std::memset(out, 0, 16);
  if (inet_pton(AF_INET, s.c_str(), out) == 1)
    return AF_INET;
  if (inet_pton(AF_INET6, s.c_str(), out) == 1)
    return AF_INET6;
  return 0;
}

std::optional<network> network::parse(std::string_view text) {
  network n;
  text = trim(text);
  const auto slash = text.find('/');
  n.family_ = address_bytes(text.substr(0, slash), n.bytes_);
  if (!n.family_)
    return std::nullopt;
  const int max = n.family_ == AF_INET ? 32 : 128;
  n.prefix_ = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n.prefix_);
    if (ec != std::errc{} || end != digits.data() + digits.size() || n.prefix_ < 0 ||
        n.prefix_ > max)
      return std::nullopt;
  }
  return n;
}

bool network::contains(std::string_view address) const {
  unsigned char a[16];
  if (address_bytes(address, a) != family_)
    return false;
  int bits = prefix_;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const unsigned char mask = bits >= 8 ? 0xFF : static_cast<unsigned char>(0xFF << (8 - bits));
    if ((a[i] & mask) != (bytes_[i] & mask))
      return false;
  }
  return true;
}

} // namespace eventhub::config
