// The client's address behind trusted reverse proxies (X-Forwarded-For), for per-address rules
// such as login throttling. Without trusted proxies the socket's peer is the client.
#pragma once

#include "config/network.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventhub::http {

using config::network;

/// Walks X-Forwarded-For from the right, skipping trusted proxies, starting at the peer: the
/// first address not trusted is the client. With no trusted proxy the peer is returned.
std::string client_address(const std::string& peer, std::optional<std::string_view> forwarded_for,
                           const std::vector<network>& trusted);

} // namespace eventhub::http
