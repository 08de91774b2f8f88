// Where the service may send requests (webhooks): the SSRF guard. A URL's host is resolved and
// every address checked; one on a loopback, private, shared (CGNAT), link-local, multicast,
// reserved or unspecified network refuses the whole target unless private targets are allowed.
// The deliverer then connects only to the addresses checked here, so a DNS answer that changes
// between the check and the connection (rebinding) cannot redirect a delivery.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace eventhub::security {

struct web_url {
  std::string scheme; // "http" or "https"
  std::string host;   // as written, without brackets for IPv6
  int port = 0;       // the URL's, else the scheme's default
};

/// An absolute http or https URL with a host (curl's URL parser), else nullopt.
std::optional<web_url> parse_web_url(std::string_view text);

/// True for an address a webhook must not reach unless private targets are allowed.
bool is_private_address(const sockaddr* address);

struct checked_target {
  std::vector<std::string> addresses; // numeric, every one allowed
  std::string refusal;                // empty when allowed: why not, for a 422 or the log
  bool allowed() const { return refusal.empty(); }
};

/// Resolves `url.host` (blocking getaddrinfo) and checks every address it has.
checked_target check_target(const web_url& url, bool allow_private);

} // namespace eventhub::security
