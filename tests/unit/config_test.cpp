// Configuration precedence and validation (pure: files in a temp directory, no server).
#include "config/loader.hpp"
#include "config/options.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace eventhub::config;

namespace {

std::string write_file(const std::string& content) {
  char path[] = "/tmp/eventhub-config-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << content;
  return path;
}

settings load_ok(const std::vector<std::string>& args, const environment& env = {}) {
  auto r = load(args, env);
  if (auto* e = std::get_if<config_error>(&r))
    FAIL(e->line());
  return std::get<loaded>(r).settings;
}

config_error load_error(const std::vector<std::string>& args, const environment& env = {}) {
  auto r = load(args, env);
  REQUIRE(std::holds_alternative<config_error>(r));
  return std::get<config_error>(r);
}

} // namespace

SCENARIO("configuration sources apply in precedence order") {
  GIVEN("a file, an environment variable and a flag for the same key") {
    auto file =
        write_file("# comment\nhttp.port = 7001\nhttp.threads = 3\nlog.level = \"debug\"\n");
    environment env{{"EVENTHUB_HTTP_PORT", "7002"}, {"EVENTHUB_HTTP_THREADS", "4"}};

    THEN("defaults hold without sources") {
      auto s = load_ok({});
      CHECK(s.http_port == 8080);
      CHECK(s.db_pool_size == 4);
      CHECK(s.log_format == log_format::text);
      CHECK(s.embedded_database());
    }
    THEN("the file overrides defaults") {
      auto s = load_ok({"--config", file});
      CHECK(s.http_port == 7001);
      CHECK(s.log_level == "debug");
    }
    THEN("the environment overrides the file") {
      auto s = load_ok({"--config", file}, env);
      CHECK(s.http_port == 7002);
      CHECK(s.http_threads == 4);
    }
    THEN("the command line overrides the environment, in both flag forms") {
      auto s = load_ok({"--config", file, "--http.port=7003", "--http.threads", "5"}, env);
      CHECK(s.http_port == 7003);
      CHECK(s.http_threads == 5);
    }
    THEN("EVENTHUB_CONFIG names the file when --config is absent") {
      environment with_file{{"EVENTHUB_CONFIG", file}};
      CHECK(load_ok({}, with_file).http_port == 7001);
    }
    std::remove(file.c_str());
  }
}

SCENARIO("bad values stop start-up with one line naming the key") {
  CHECK(load_error({"--http.port", "abc"}).key == "http.port");
  CHECK(load_error({"--http.port", "70000"}).line().find("http.port") != std::string::npos);
  CHECK(load_error({"--db.pool-size", "0"}).key == "db.pool-size");
  CHECK(load_error({"--log.format", "xml"}).key == "log.format");
  CHECK(load_error({"--jwt.ttl", "10"}).key == "jwt.ttl"); // a duration needs a unit
  CHECK(load_error({"--purchase.mode", "magic"}).key == "purchase.mode");
  CHECK(load_error({"--db.url", "mysql://x"}).key == "db.url");
  CHECK(load_error({"--no.such-key", "1"}).key == "no.such-key");
  CHECK(load_error({}, {{"EVENTHUB_LOG_LEVEL", "loud"}}).key == "log.level");
  CHECK(load_error({"--jwt.secret", "short"}).key == "jwt.secret");
  CHECK(load_error({"--db.url", "postgresql://h/db"}).key == "jwt.secret"); // needed with db.url
  CHECK(load_error({"--admin.email", "a@b.c"}).key == "admin.password");
  CHECK(load_error({"--cluster.seeds", "hostonly"}).key == "cluster.seeds");
  auto file = write_file("not a key value line\n");
  CHECK(load_error({"--config", file}).key == "--config");
  std::remove(file.c_str());
  CHECK(load_error({"--config", "/nonexistent/file"}).key == "--config");
}

SCENARIO("typed values are parsed") {
  CHECK(load_error({"--cluster.seeds", "a:1"}).key == "cluster.port");
  CHECK(load_error({"--http.trusted-proxies", "10.0.0.0/40"}).key == "http.trusted-proxies");
  CHECK(load_ok({"--http.trusted-proxies", "10.0.0.0/8, ::1"}).http_trusted_proxies.size() == 2);
  auto s = load_ok({"--jwt.ttl", "15m", "--http.read-timeout", "500ms", "--cluster.port", "7000",
                    "--cluster.seeds", "10.0.0.1:7000, node-b:7001", "--cluster.insecure", "true",
                    "--purchase.mode", "lock-per-request"});
  CHECK(s.jwt_ttl == std::chrono::minutes(15));
  CHECK(s.http_read_timeout == std::chrono::milliseconds(500));
  CHECK(s.cluster_seeds == std::vector<std::string>{"10.0.0.1:7000", "node-b:7001"});
  CHECK(s.purchase_mode == purchase_mode::lock_per_request);
  CHECK(s.cluster_enabled());
}

SCENARIO("a cluster is authenticated by certificates unless it says it is not") {
  const std::vector<std::string> cluster{"--cluster.port", "7000"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), cluster.begin(), cluster.end());
    return more;
  };
  CHECK(load_error(cluster).key == "cluster.tls-ca");
  CHECK(load_error(with({"--cluster.tls-ca", "ca.pem"})).key == "cluster.tls-certificate");
  CHECK(
      load_error(with({"--cluster.tls-ca", "ca.pem", "--cluster.tls-certificate", "a.pem"})).key ==
      "cluster.tls-key");
  CHECK(
      load_error(with({"--cluster.tls-certificate", "a.pem", "--cluster.tls-key", "a.key"})).key ==
      "cluster.tls-ca");
  CHECK(load_error(with({"--cluster.tls-ca", "ca.pem", "--cluster.tls-certificate", "a.pem",
                         "--cluster.tls-key", "a.key", "--cluster.insecure", "true"}))
            .key == "cluster.insecure");
  auto tls = load_ok(with({"--cluster.tls-ca", "ca.pem", "--cluster.tls-certificate", "a.pem",
                           "--cluster.tls-key", "a.key"}));
  CHECK(tls.cluster_tls());
  CHECK(!load_ok(with({"--cluster.insecure", "true"})).cluster_tls());
  CHECK(!load_ok({}).cluster_enabled()); // a single node needs neither
}

TEST_CASE("every key has an environment name and appears in the reference") {
  const auto reference = reference_markdown();
  for (const auto& o : options()) {
    CHECK(reference.find("`" + o.key + "`") != std::string::npos);
    CHECK(env_name(o.key).rfind("EVENTHUB_", 0) == 0);
  }
  CHECK(env_name("purchase.max-per-order") == "EVENTHUB_PURCHASE_MAX_PER_ORDER");
}

TEST_CASE(
    "retention ages are durations in days too, and their documented defaults are the ones used") {
  auto s = load_ok({"--retention.holds", "3d", "--retention.interval", "30s",
                    "--retention.batch-size", "50", "--retention.webhook-deliveries", "1s"});
  CHECK(s.retention_holds == std::chrono::hours(72));
  CHECK(s.retention_interval == std::chrono::seconds(30));
  CHECK(s.retention_batch_size == 50);
  CHECK(s.retention_webhook_deliveries == std::chrono::seconds(1));
  CHECK(load_error({"--retention.idempotency-keys", "0s"}).key == "retention.idempotency-keys");
  CHECK(load_error({"--retention.batch-size", "0"}).key == "retention.batch-size");
  CHECK(load_error({"--retention.holds", "2w"}).key == "retention.holds");

  // Each default written in the reference parses to the value a fresh settings has.
  settings parsed;
  parsed.retention_interval = parsed.retention_login_failures = parsed.retention_holds =
      parsed.retention_idempotency_keys = parsed.retention_webhook_deliveries =
          std::chrono::milliseconds{1};
  parsed.retention_batch_size = 1;
  for (const auto& o : options())
    if (o.key.rfind("retention.", 0) == 0)
      REQUIRE_FALSE(o.apply(parsed, o.default_value));
  const settings fresh;
  CHECK(parsed.retention_interval == fresh.retention_interval);
  CHECK(parsed.retention_batch_size == fresh.retention_batch_size);
  CHECK(parsed.retention_login_failures == fresh.retention_login_failures);
  CHECK(parsed.retention_idempotency_keys == fresh.retention_idempotency_keys);
  CHECK(parsed.retention_holds == fresh.retention_holds);
  CHECK(parsed.retention_webhook_deliveries == fresh.retention_webhook_deliveries);
}
