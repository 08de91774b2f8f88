// Prometheus rendering.
#include "observability/metrics.hpp"

#include <catch2/catch.hpp>

using namespace eventhub::metrics;

TEST_CASE("counters, gauges and histograms render in the text format") {
  registry r;
  r.get_counter("eventhub_test_total", "A counter", {{"route", "/a\"b"}}).inc(3);
  r.get_gauge("eventhub_test_gauge", "A gauge").set(2.5);
  auto& h = r.get_histogram("eventhub_test_seconds", "A histogram", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  r.gauge_callback("eventhub_test_live", "Read at scrape", {}, [] { return 7.0; });
  const auto text = r.render();
  CHECK(text.find("# TYPE eventhub_test_total counter") != std::string::npos);
  CHECK(text.find("eventhub_test_total{route=\"/a\\\"b\"} 3") != std::string::npos);
  CHECK(text.find("eventhub_test_gauge 2.5") != std::string::npos);
  CHECK(text.find("eventhub_test_seconds_bucket{le=\"0.1\"} 1") != std::string::npos);
  CHECK(text.find("eventhub_test_seconds_bucket{le=\"1\"} 2") != std::string::npos);
  CHECK(text.find("eventhub_test_seconds_bucket{le=\"+Inf\"} 3") != std::string::npos);
  CHECK(text.find("eventhub_test_seconds_count 3") != std::string::npos);
  CHECK(text.find("eventhub_test_live 7") != std::string::npos);
}

TEST_CASE("the same name and labels give the same series") {
  registry r;
  auto& a = r.get_counter("x_total", "x", {{"k", "v"}});
  auto& b = r.get_counter("x_total", "x", {{"k", "v"}});
  CHECK(&a == &b);
  CHECK(&a != &r.get_counter("x_total", "x", {{"k", "w"}}));
}
