// /proc/self readers for the process collector.
#include "observability/process_metrics.hpp"

#include "observability/metrics.hpp"

#include <chrono>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace eventhub::metrics {
namespace {

/// Fields of /proc/self/stat after the command name (which may contain spaces).
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return fields;
  std::istringstream rest(line.substr(close + 2));
  for (std::string f; rest >> f;)
    fields.push_back(f);
  return fields; // fields[0] is "state" (field 3 of proc(5))
}

double field(std::size_t proc5_index) {
  auto f = stat_fields();
  const std::size_t i = proc5_index - 3;
  return i < f.size() ? std::stod(f[i]) : 0.0;
}

double open_fds() {
  double n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d))
      ++n;
    closedir(d);
    n -= 3; // ".", ".." and the directory's own descriptor
  }
  return n;
}

double start_time_seconds() {
  static const double value = [] {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    std::ifstream uptime("/proc/uptime");
    double up = 0;
    uptime >> up;
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    return now - up + field(22) / ticks;
  }();
  return value;
}

} // namespace

void register_process_metrics() {
  auto& r = registry::global();
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  start_time_seconds();
  r.gauge_callback("process_resident_memory_bytes", "Resident memory size in bytes", {},
                   [page] { return field(24) * page; });
  r.gauge_callback("process_virtual_memory_bytes", "Virtual memory size in bytes", {},
                   [] { return field(23); });
  r.counter_callback("process_cpu_seconds_total", "User and system CPU time spent in seconds",
                     [ticks] { return (field(14) + field(15)) / ticks; });
  r.gauge_callback("process_open_fds", "Open file descriptors", {}, open_fds);
  r.gauge_callback("process_threads", "Threads of the process", {}, [] { return field(20); });
  r.gauge_callback("process_start_time_seconds", "Start time since the Unix epoch in seconds", {},
                   start_time_seconds);
}

} // namespace eventhub::metrics
