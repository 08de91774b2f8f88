// Migrations against a real PostgreSQL: once, idempotent, concurrent, checksum refusal.
#include "persistence/migrator.hpp"
#include "tests/support/pg_fixture.hpp"

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <thread>

using namespace eventhub;
using namespace eventhub::persistence;

SCENARIO("migrations apply once and are recorded with checksums") {
  testing::pg_database db; // already migrated by the fixture
  CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") == 1);
  CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history WHERE version = '1' AND success") ==
        1);
  const auto expected = load_migrations(embedded_migrations()).front().checksum;
  CHECK(db.scalar("SELECT checksum FROM flyway_schema_history WHERE version = '1'") == expected);

  WHEN("migrate runs again") {
    pqxx::connection c(db.conninfo());
    auto report = migrate(c, load_migrations(embedded_migrations()));
    THEN("nothing is applied twice") {
      CHECK(report.applied == 0);
      CHECK(report.schema_version == 1);
      CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") == 1);
    }
  }
  WHEN("a new migration appears") {
    auto files = embedded_migrations();
    files.push_back({"V2__add_note.sql", "ALTER TABLE events ADD COLUMN note text;"});
    pqxx::connection c(db.conninfo());
    auto report = migrate(c, load_migrations(files));
    THEN("only it runs") {
      CHECK(report.applied == 1);
      CHECK(report.schema_version == 2);
      CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") == 2);
      CHECK(db.scalar("SELECT installed_rank FROM flyway_schema_history WHERE version = '2'") == 2);
    }
  }
}

SCENARIO("an applied migration whose file changed is refused, naming the file") {
  testing::pg_database db;
  auto files = embedded_migrations();
  files.front().sql += "\n-- edited after release\n";
  pqxx::connection c(db.conninfo());
  try {
    migrate(c, load_migrations(files));
    FAIL("a changed migration was accepted");
  } catch (const migration_error& e) {
    CHECK(std::string(e.what()).find("V1__schema.sql") != std::string::npos);
  }
}

SCENARIO("a failing migration changes nothing") {
  testing::pg_database db;
  auto files = embedded_migrations();
  files.push_back({"V2__ok.sql", "CREATE TABLE t2 (id int);"});
  files.push_back({"V3__broken.sql", "CREATE TABLE oops (;"});
  pqxx::connection c(db.conninfo());
  CHECK_THROWS_AS(migrate(c, load_migrations(files)), migration_error);
  CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") == 1);
  CHECK(db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 't2'") == 0);
}

SCENARIO("nodes starting together apply each migration exactly once") {
  testing::pg_database db;
  db.exec("DROP TABLE flyway_schema_history; DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  const auto migrations = load_migrations(embedded_migrations());
  std::atomic<int> applied{0}, failures{0};
  std::vector<std::thread> nodes;
  for (int i = 0; i < 6; ++i)
    nodes.emplace_back([&] {
      try {
        pqxx::connection c(db.conninfo());
        applied += migrate(c, migrations).applied;
      } catch (const std::exception&) {
        ++failures;
      }
    });
  for (auto& t : nodes)
    t.join();
  CHECK(failures == 0);
  CHECK(applied == static_cast<int>(migrations.size()));
  CHECK(db.scalar("SELECT count(*) FROM flyway_schema_history") ==
        static_cast<long long>(migrations.size()));
}
