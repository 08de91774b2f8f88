// X-Forwarded-For behind trusted proxies.
#include "http/client_address.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::http;

namespace {
std::vector<network> nets(std::initializer_list<const char*> list) {
  std::vector<network> out;
  for (auto* n : list)
    out.push_back(*network::parse(n));
  return out;
}
} // namespace

TEST_CASE("networks") {
  auto n = *network::parse("10.1.0.0/16");
  CHECK(n.contains("10.1.200.3"));
  CHECK_FALSE(n.contains("10.2.0.1"));
  CHECK_FALSE(n.contains("::1"));
  CHECK(network::parse("::1")->contains("::1"));
  CHECK(network::parse("fd00::/8")->contains("fd12::5"));
  CHECK(network::parse("0.0.0.0/0")->contains("203.0.113.9"));
  CHECK_FALSE(network::parse("10.0.0.0/33"));
  CHECK_FALSE(network::parse("nonsense"));
}

TEST_CASE("the client is the first untrusted hop from the right") {
  const auto proxies = nets({"10.0.0.0/8"});
  CHECK(client_address("10.0.0.5", std::string_view("198.51.100.7, 10.0.0.9"), proxies) ==
        "198.51.100.7");
  CHECK(client_address("10.0.0.5", std::string_view("6.6.6.6, 198.51.100.7"), proxies) ==
        "198.51.100.7");
  // an untrusted peer cannot choose its address
  CHECK(client_address("203.0.113.1", std::string_view("1.2.3.4"), proxies) == "203.0.113.1");
  // without trusted proxies the header is ignored
  CHECK(client_address("203.0.113.1", std::string_view("1.2.3.4"), {}) == "203.0.113.1");
  CHECK(client_address("10.0.0.5", std::string_view("garbage, 10.0.0.7"), proxies) == "10.0.0.7");
  CHECK(client_address("10.0.0.5", std::nullopt, proxies) == "10.0.0.5");
}
