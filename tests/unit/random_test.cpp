// security::random_hex: the one generator of random ids (request ids, secrets, keys).
#include "security/random.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace eventhub;

TEST_CASE("random_hex gives two lower-case hex digits per byte") {
  for (std::size_t bytes : {0u, 1u, 8u, 16u, 31u, 32u, 33u, 48u, 100u}) {
    const auto hex = security::random_hex(bytes);
    CHECK(hex.size() == bytes * 2);
    CHECK(std::all_of(hex.begin(), hex.end(),
                      [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  }
}

TEST_CASE("random_hex does not repeat itself") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i)
    seen.insert(security::random_hex(16));
  CHECK(seen.size() == 1000);
  const auto long_one = security::random_hex(100);
  CHECK(long_one.substr(0, 64) != long_one.substr(64, 64)); // chunks are drawn separately
}
