// Catch2's main, compiled once for every test executable. Logs below warnings are silenced so
// test output shows failures, not request lines.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "observability/log.hpp"

int main(int argc, char* argv[]) {
  eventhub::log::init("warn", false);
  return Catch::Session().run(argc, argv);
}
