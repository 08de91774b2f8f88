// Timestamps: microseconds since the Unix epoch, UTC; ISO-8601 text at the API edge.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventhub::domain {

using timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

timestamp now();

inline std::int64_t to_micros(timestamp t) {
  return t.time_since_epoch().count();
}
inline timestamp from_micros(std::int64_t us) {
  return timestamp{std::chrono::microseconds{us}};
}

/// `2027-03-01T19:30:00Z`, with `.ffffff` only when there are fractional seconds.
std::string format_iso8601(timestamp t);

/// Accepts `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`; an offset is required.
std::optional<timestamp> parse_iso8601(std::string_view text);

} // namespace eventhub::domain
