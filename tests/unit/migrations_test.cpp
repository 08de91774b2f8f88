// Migration file names and Flyway-compatible checksums.
#include "persistence/migrator.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::persistence;

TEST_CASE("checksums ignore line endings and a byte order mark, as Flyway's do") {
  CHECK(flyway_checksum("a\nb\n") == flyway_checksum("a\r\nb\r\n"));
  CHECK(flyway_checksum("a\nb") == flyway_checksum("\xEF\xBB\xBF"
                                                   "a\nb"));
  CHECK(flyway_checksum("a\nb") != flyway_checksum("a\nc"));
  // known answers (java.util.zip.CRC32 / zlib over the lines, as Flyway computes them)
  CHECK(flyway_checksum("CREATE TABLE t (id int);") == 92137680);
  CHECK(flyway_checksum("a\nb\n") == -1635563411);
}

TEST_CASE("migrations are ordered by version and named V<n>__<what>.sql") {
  auto m = load_migrations({{"V10__later.sql", "x"}, {"V2__add_index.sql", "y"}});
  REQUIRE(m.size() == 2);
  CHECK(m[0].version == 2);
  CHECK(m[0].description == "add index");
  CHECK(m[1].version == 10);
  CHECK_THROWS_AS(load_migrations({{"V1_schema.sql", ""}}), migration_error);
  CHECK_THROWS_AS(load_migrations({{"schema.sql", ""}}), migration_error);
  CHECK_THROWS_AS(load_migrations({{"V1__a.sql", ""}, {"V1__b.sql", ""}}), migration_error);
  for (const char* bad : {"V__x.sql", "Vx__y.sql", "V1__.sql", "V1__a-b.sql", "V1__a.SQL",
                          "v1__a.sql", "V1__a.sql.bak", "V1234567890__a.sql"})
    CHECK_THROWS_AS(load_migrations({{bad, ""}}), migration_error);
}

TEST_CASE("the embedded migrations load") {
  auto m = load_migrations(embedded_migrations());
  REQUIRE_FALSE(m.empty());
  CHECK(m.front().script == "V1__schema.sql");
}
