// Small helpers over the model and commands.
#include "domain/model.hpp"
#include "domain/commands.hpp"

#include <algorithm>

namespace eventhub::domain {

const char* to_string(role r) {
  switch (r) {
  case role::admin:
    return "ADMIN";
  case role::staff:
    return "STAFF";
  default:
    return "USER";
  }
}

std::optional<role> parse_role(std::string_view s) {
  if (s == "ADMIN")
    return role::admin;
  if (s == "USER")
    return role::user;
  if (s == "STAFF")
    return role::staff;
  return std::nullopt;
}

namespace {
constexpr const char* hold_status_names[] = {"HELD", "CONFIRMED", "RELEASED", "EXPIRED"};
constexpr const char* waitlist_status_names[] = {"WAITING", "OFFERED", "CONFIRMED", "EXPIRED",
                                                 "LEFT"};

/// The enum value whose name (indexed by value) is `s`, exactly.
template <class E, std::size_t N>
std::optional<E> parse_named(std::string_view s, const char* const (&names)[N]) {
  for (std::size_t i = 0; i < N; ++i)
    if (s == names[i])
      return static_cast<E>(i);
  return std::nullopt;
}
} // namespace

const char* to_string(hold_status s) {
  return hold_status_names[static_cast<int>(s)];
}

std::optional<hold_status> parse_hold_status(std::string_view s) {
  return parse_named<hold_status>(s, hold_status_names);
}

const char* to_string(waitlist_status s) {
  return waitlist_status_names[static_cast<int>(s)];
}

std::optional<waitlist_status> parse_waitlist_status(std::string_view s) {
  return parse_named<waitlist_status>(s, waitlist_status_names);
}

std::int64_t event::tickets_waiting() const {
  std::int64_t sum = 0;
  for (const auto& t : ticket_types)
    sum += t.tickets_waiting;
  return sum;
}

std::int64_t event::tickets_available() const {
  return std::max<std::int64_t>(0, capacity - tickets_sold - tickets_held - tickets_waiting());
}

std::int64_t event::tickets_available(const ticket_type& t) const {
  return std::max<std::int64_t>(
      0,
      std::min(t.quota - t.tickets_sold - t.tickets_held - t.tickets_waiting, tickets_available()));
}

std::string event_query::cache_key() const {
  std::string key = std::to_string(paging.page) + '/' + std::to_string(paging.size);
  key += '/';
  if (from)
    key += std::to_string(to_micros(*from));
  key += '/';
  if (to)
    key += std::to_string(to_micros(*to));
  key += '/';
  if (text) {
    key += 'q';
    key += *text;
  }
  return key;
}

} // namespace eventhub::domain
