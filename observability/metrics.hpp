// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// text exposition format. Observations are lock-free atomics; the registry's mutex is taken only
// to find or create a series, so hot paths keep the returned reference.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace eventhub::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

class counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double d);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class histogram {
 public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  std::uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_; // per bound, not cumulative
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

/// Buckets for request latencies in seconds (1 ms .. 10 s).
const std::vector<double>& latency_buckets();

class registry {
 public:
  static registry& global();

  counter& get_counter(const std::string& name, const std::string& help, const labels& l = {});
  gauge& get_gauge(const std::string& name, const std::string& help, const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help,
                           const std::vector<double>& bounds, const labels& l = {});
  /// A gauge read at scrape time (pool sizes, queue lengths).
  void gauge_callback(const std::string& name, const std::string& help, const labels& l,
                      std::function<double()> read);
  /// A counter read at scrape time (e.g. CPU seconds from /proc).
  void counter_callback(const std::string& name, const std::string& help,
                        std::function<double()> read);
  void remove_callbacks(const std::string& name);

  std::string render() const;

 private:
  enum class kind { counter, gauge, histogram };
  struct family {
    kind type;
    std::string help;
    std::map<std::string, std::unique_ptr<counter>> counters; // key: rendered labels
    std::map<std::string, std::unique_ptr<gauge>> gauges;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
    std::map<std::string, std::function<double()>> callbacks;
  };
  family& family_of(const std::string& name, kind type, const std::string& help);

  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
};

/// `{a="x",b="y"}` with Prometheus escaping; empty for no labels.
std::string render_labels(const labels& l);

} // namespace eventhub::metrics
