// docs/configuration.md documents every configuration key.
#include "config/options.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

TEST_CASE("every configuration key is documented in docs/configuration.md") {
  std::ifstream in(std::string(EVENTHUB_SOURCE_DIR) + "/docs/configuration.md");
  REQUIRE(in);
  std::stringstream doc;
  doc << in.rdbuf();
  for (const auto& o : eventhub::config::options()) {
    INFO(o.key);
    CHECK(doc.str().find("`" + o.key + "`") != std::string::npos);
  }
}
