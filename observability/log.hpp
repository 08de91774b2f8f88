// Structured logging: one line per event, as text (`event key=value ...`) or JSON.
// spdlog stays inside log.cpp so the rest of the build does not pay for its headers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace eventhub::log {

enum class level { trace, debug, info, warn, error, off };

struct field {
  using value_type = std::variant<std::string_view, std::int64_t, double, bool>;
  std::string_view key;
  value_type value;

  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(std::string_view{v}) {}
  field(std::string_view k, const char* v) : key(k), value(std::string_view{v}) {}
  field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  field(std::string_view k, unsigned v) : key(k), value(static_cast<std::int64_t>(v)) {}
  field(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  field(std::string_view k, unsigned long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  field(std::string_view k, double v) : key(k), value(v) {}
  field(std::string_view k, bool v) : key(k), value(v) {}
};

/// Configures the process-wide logger; safe to call again (tests, CLI).
void init(std::string_view level_name, bool json);
bool enabled(level l);

void write(level l, std::string_view event, std::initializer_list<field> fields = {});

inline void trace(std::string_view e, std::initializer_list<field> f = {}) {
  write(level::trace, e, f);
}
inline void debug(std::string_view e, std::initializer_list<field> f = {}) {
  write(level::debug, e, f);
}
inline void info(std::string_view e, std::initializer_list<field> f = {}) {
  write(level::info, e, f);
}
inline void warn(std::string_view e, std::initializer_list<field> f = {}) {
  write(level::warn, e, f);
}
inline void error(std::string_view e, std::initializer_list<field> f = {}) {
  write(level::error, e, f);
}

void flush();

/// Writes buffered lines out, and to disk where stdout is a regular file (fsync): call it before
/// forgetting something whose only delivery was a log line. Blocks: never on an actor's thread.
void flush_durably();

} // namespace eventhub::log
