// Prometheus text format 0.0.4 rendering and series bookkeeping.
#include "observability/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace eventhub::metrics {
namespace {

void atomic_add(std::atomic<double>& target, double d) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + d, std::memory_order_relaxed))
    ;
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string format_number(double v) {
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::ostringstream s;
    s << static_cast<long long>(v);
    return s.str();
  }
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

/// Inserts `extra` into an already rendered label set.
std::string with_label(const std::string& rendered, const std::string& extra) {
  if (rendered.empty())
    return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

} // namespace

void gauge::add(double d) {
  atomic_add(value_, d);
}

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    counts_[i] = 0;
}

void histogram::observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

std::string render_labels(const labels& l) {
  if (l.empty())
    return {};
  std::string out = "{";
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (i)
      out += ',';
    out += l[i].first + "=\"" + escape_label(l[i].second) + "\"";
  }
  return out + "}";
}

registry& registry::global() {
  static registry instance;
  return instance;
}

registry::family& registry::family_of(const std::string& name, kind type, const std::string& help) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  }
  return it->second;
}

counter& registry::get_counter(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& slot = family_of(name, kind::counter, help).counters[render_labels(l)];
  if (!slot)
    slot = std::make_unique<counter>();
  return *slot;
}

gauge& registry::get_gauge(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& slot = family_of(name, kind::gauge, help).gauges[render_labels(l)];
  if (!slot)
    slot = std::make_unique<gauge>();
  return *slot;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help,
                                   const std::vector<double>& bounds, const labels& l) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& slot = family_of(name, kind::histogram, help).histograms[render_labels(l)];
  if (!slot)
    slot = std::make_unique<histogram>(bounds);
  return *slot;
}

void registry::gauge_callback(const std::string& name, const std::string& help, const labels& l,
                              std::function<double()> read) {
  std::lock_guard<std::mutex> guard(mutex_);
  family_of(name, kind::gauge, help).callbacks[render_labels(l)] = std::move(read);
}

void registry::counter_callback(const std::string& name, const std::string& help,
                                std::function<double()> read) {
  std::lock_guard<std::mutex> guard(mutex_);
  family_of(name, kind::counter, help).callbacks[""] = std::move(read);
}

void registry::remove_callbacks(const std::string& name) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = families_.find(name);
  if (it != families_.end())
    it->second.callbacks.clear();
}

std::string registry::render() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    static const char* type_names[] = {"counter", "gauge", "histogram"};
    out << "# HELP " << name << ' ' << f.help << "\n# TYPE " << name << ' '
        << type_names[static_cast<int>(f.type)] << '\n';
    for (const auto& [l, c] : f.counters)
      out << name << l << ' ' << c->value() << '\n';
    for (const auto& [l, g] : f.gauges)
      out << name << l << ' ' << format_number(g->value()) << '\n';
    for (const auto& [l, read] : f.callbacks)
      out << name << l << ' ' << format_number(read()) << '\n';
    for (const auto& [l, h] : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < h->bounds().size(); ++i) {
        cumulative += h->bucket(i);
        out << name << "_bucket" << with_label(l, "le=\"" + format_number(h->bounds()[i]) + "\"")
            << ' ' << cumulative << '\n';
      }
      cumulative += h->bucket(h->bounds().size());
      out << name << "_bucket" << with_label(l, "le=\"+Inf\"") << ' ' << cumulative << '\n';
      out << name << "_sum" << l << ' ' << format_number(h->sum()) << '\n';
      out << name << "_count" << l << ' ' << cumulative << '\n';
    }
  }
  return out.str();
}

} // namespace eventhub::metrics
