// The SSRF guard; see outbound_target.hpp.
#include "security/outbound_target.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace eventhub::security {
namespace {

struct url_handle {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

std::optional<std::string> part(CURLU* u, CURLUPart which) {
  char* text = nullptr;
  if (curl_url_get(u, which, &text, 0) != CURLUE_OK || !text)
    return std::nullopt;
  std::string out = text;
  curl_free(text);
  return out;
}

bool in_v4(std::uint32_t address, std::uint32_t network, int prefix) {
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (address & mask) == (network & mask);
}

constexpr std::uint32_t v4(int a, int b, int c, int d) {
  return (std::uint32_t(a) << 24) | (std::uint32_t(b) << 16) | (std::uint32_t(c) << 8) |
         std::uint32_t(d);
}

bool private_v4(std::uint32_t a) {
  return in_v4(a, v4(0, 0, 0, 0), 8) ||      // "this network", unspecified
         in_v4(a, v4(10, 0, 0, 0), 8) ||     // private
         in_v4(a, v4(100, 64, 0, 0), 10) ||  // shared address space (CGNAT)
         in_v4(a, v4(127, 0, 0, 0), 8) ||    // loopback
         in_v4(a, v4(169, 254, 0, 0), 16) || // link-local (cloud metadata services)
         in_v4(a, v4(172, 16, 0, 0), 12) ||  // private
         in_v4(a, v4(192, 0, 0, 0), 24) ||   // IETF protocol assignments
         in_v4(a, v4(192, 168, 0, 0), 16) || // private
         in_v4(a, v4(198, 18, 0, 0), 15) ||  // benchmarking
         in_v4(a, v4(224, 0, 0, 0), 4) ||    // multicast
         in_v4(a, v4(240, 0, 0, 0), 4);      // reserved, broadcast
}

bool private_v6(const in6_addr& a) {
  const unsigned char* b = a.s6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&a) || IN6_IS_ADDR_V4COMPAT(&a)) {
    std::uint32_t embedded;
    std::memcpy(&embedded, b + 12, 4);
    return private_v4(ntohl(embedded)) || IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LOOPBACK(&a);
  }
  return IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_LINKLOCAL(&a) ||
         IN6_IS_ADDR_SITELOCAL(&a) || IN6_IS_ADDR_MULTICAST(&a) ||
         (b[0] & 0xfe) == 0xfc ||                                          // unique local fc00::/7
         (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) || // NAT64 64:ff9b::/96
         (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);   // documentation
}

std::string numeric(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
              sizeof text);
  return text;
}

} // namespace

std::optional<web_url> parse_web_url(std::string_view text) {
  std::unique_ptr<CURLU, url_handle> u(curl_url());
  if (!u || text.empty() || text.size() > 2048)
    return std::nullopt;
  const std::string copy(text);
  if (curl_url_set(u.get(), CURLUPART_URL, copy.c_str(), 0) != CURLUE_OK)
    return std::nullopt;
  auto scheme = part(u.get(), CURLUPART_SCHEME);
  auto host = part(u.get(), CURLUPART_HOST);
  if (!scheme || (*scheme != "http" && *scheme != "https") || !host || host->empty())
    return std::nullopt;
  if (host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  web_url out{*scheme, *host, *scheme == "https" ? 443 : 80};
  if (auto port = part(u.get(), CURLUPART_PORT))
    out.port = std::stoi(*port);
  return out;
}

bool is_private_address(const sockaddr* address) {
  if (address->sa_family == AF_INET)
    return private_v4(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  if (address->sa_family == AF_INET6)
    return private_v6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  return true; // not an internet address at all
}

checked_target check_target(const web_url& url, bool allow_private) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(url.host.c_str(), nullptr, &hints, &found) != 0 || !found)
    return {{}, "its host does not resolve"};
  checked_target out;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
      continue;
    if (!allow_private && is_private_address(a->ai_addr)) {
      out.refusal = "its host resolves to " + numeric(a->ai_addr) +
                    ", on a loopback, private, link-local or multicast network";
      break;
    }
    const auto text = numeric(a->ai_addr);
    if (std::find(out.addresses.begin(), out.addresses.end(), text) == out.addresses.end())
      out.addresses.push_back(text);
  }
  freeaddrinfo(found);
  if (out.refusal.empty() && out.addresses.empty())
    out.refusal = "its host has no internet address";
  if (!out.refusal.empty())
    out.addresses.clear();
  return out;
}

} // namespace eventhub::security
