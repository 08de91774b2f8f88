// spdlog behind log.hpp: text or JSON lines on stdout, rendered here so fields are escaped once.
#include "observability/log.hpp"

#include "domain/json.hpp"
#include "domain/time.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

namespace eventhub::log {
namespace {

std::atomic<bool> json_mode{false};
std::atomic<int> min_level{static_cast<int>(level::info)};

spdlog::level::level_enum to_spdlog(level l) {
  switch (l) {
  case level::trace:
    return spdlog::level::trace;
  case level::debug:
    return spdlog::level::debug;
  case level::info:
    return spdlog::level::info;
  case level::warn:
    return spdlog::level::warn;
  case level::error:
    return spdlog::level::err;
  case level::off:
    return spdlog::level::off;
  }
  return spdlog::level::info;
}

const char* name_of(level l) {
  static const char* names[] = {"trace", "debug", "info", "warn", "error", "off"};
  return names[static_cast<int>(l)];
}

spdlog::logger& logger() {
  static spdlog::logger* instance = [] {
    // spdlog 1.10's stdout sink fflushes after every line (stdout_sinks-inl.h), so each line is
    // one write(2) and in the kernel when log() returns: a kill -9 loses none. The buffer only
    // keeps glibc from splitting a long line into 4 KiB writes.
    static char buffer[256 * 1024];
    std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
    auto l = std::make_shared<spdlog::logger>("eventhub",
                                              std::make_shared<spdlog::sinks::stdout_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::warn);
    spdlog::register_logger(l); // the registry keeps it alive
    spdlog::flush_every(std::chrono::seconds(1));
    return l.get();
  }();
  return *instance;
}

/// `2026-11-25T04:10:00.123456Z`: the part up to the seconds is formatted once per second and
/// thread (a line per request must not cost two snprintf calls).
std::string timestamp_now() {
  thread_local std::int64_t cached_second = -1;
  thread_local std::string prefix;
  const auto us = domain::to_micros(domain::now());
  const std::int64_t second = us / 1000000;
  if (second != cached_second) {
    cached_second = second;
    prefix = domain::format_iso8601(domain::from_micros(second * 1000000));
    prefix.pop_back(); // the 'Z'
  }
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us % 1000000));
  return prefix + frac;
}

/// Text values with spaces or quotes are quoted, so `key=value` lines stay parseable.
void append_text_value(std::string& out, const field::value_type& v) {
  if (auto* s = std::get_if<std::string_view>(&v)) {
    bool plain = !s->empty() && s->find_first_of(" \t\"=\n\r") == std::string_view::npos;
    if (plain) {
      out.append(*s);
    } else {
      out += '"';
      for (char c : *s) {
        if (c == '"' || c == '\\')
          out += '\\';
        out += (c == '\n' || c == '\r') ? ' ' : c;
      }
      out += '"';
    }
  } else if (auto* i = std::get_if<std::int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (auto* d = std::get_if<double>(&v)) {
    out += std::to_string(*d);
  } else {
    out += std::get<bool>(v) ? "true" : "false";
  }
}

std::string render_text(level l, std::string_view event, std::initializer_list<field> fields) {
  std::string out = timestamp_now();
  out += ' ';
  out += name_of(l);
  out += ' ';
  out.append(event);
  for (const auto& f : fields) {
    out += ' ';
    out.append(f.key);
    out += '=';
    append_text_value(out, f.value);
  }
  return out;
}

std::string render_json(level l, std::string_view event, std::initializer_list<field> fields) {
  rapidjson::StringBuffer buffer;
  domain::json_writer w(buffer);
  w.StartObject();
  w.Key("ts");
  w.String(timestamp_now());
  w.Key("level");
  w.String(name_of(l));
  w.Key("event");
  w.String(event.data(), static_cast<rapidjson::SizeType>(event.size()));
  for (const auto& f : fields) {
    w.Key(f.key.data(), static_cast<rapidjson::SizeType>(f.key.size()));
    if (auto* s = std::get_if<std::string_view>(&f.value))
      w.String(s->data(), static_cast<rapidjson::SizeType>(s->size()));
    else if (auto* i = std::get_if<std::int64_t>(&f.value))
      w.Int64(*i);
    else if (auto* d = std::get_if<double>(&f.value))
      w.Double(*d);
    else
      w.Bool(std::get<bool>(f.value));
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace

void init(std::string_view level_name, bool json) {
  static const std::pair<const char*, level> table[] = {
      {"trace", level::trace}, {"debug", level::debug}, {"info", level::info},
      {"warn", level::warn},   {"error", level::error}, {"off", level::off}};
  for (const auto& [name, l] : table)
    if (level_name == name)
      min_level = static_cast<int>(l);
  json_mode = json;
  logger();
}

bool enabled(level l) {
  return l != level::off && static_cast<int>(l) >= min_level.load();
}

void write(level l, std::string_view event, std::initializer_list<field> fields) {
  if (!enabled(l))
    return;
  std::string line = json_mode ? render_json(l, event, fields) : render_text(l, event, fields);
  logger().log(to_spdlog(l), spdlog::string_view_t(line.data(), line.size()));
}

void flush() {
  logger().flush();
}

void flush_durably() {
  logger().flush();
  struct stat st {};
  if (fstat(fileno(stdout), &st) == 0 && S_ISREG(st.st_mode))
    fsync(fileno(stdout)); // a pipe or terminal has no disk to reach
}

} // namespace eventhub::log
