// Trusted-proxy walk of X-Forwarded-For; see client_address.hpp.
#include "http/client_address.hpp"

namespace eventhub::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string client_address(const std::string& peer, std::optional<std::string_view> forwarded_for,
                           const std::vector<network>& trusted) {
  auto is_trusted = [&](std::string_view a) {
    for (const auto& n : trusted)
      if (n.contains(a))
        return true;
    return false;
  };
  if (!forwarded_for || !is_trusted(peer))
    return peer;
  std::string_view list = *forwarded_for;
  std::string candidate = peer;
  while (!list.empty()) {
    const auto comma = list.rfind(',');
    const auto hop = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
    unsigned char ignored[16];
    if (!network::address_bytes(hop, ignored))
      return candidate; // garbage: stop at the last address we could verify
    candidate = std::string(hop);
    if (!is_trusted(hop))
      return candidate;
  }
  return candidate;
}

} // namespace eventhub::http
