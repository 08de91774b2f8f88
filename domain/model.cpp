// Small helpers over the model and commands.
#include "domain/model.hpp"
#include "domain/commands.hpp"

namespace eventhub::domain {

const char* to_string(role r) {
  return r == role::admin ? "ADMIN" : "USER";
}

std::optional<role> parse_role(std::string_view s) {
  if (s == "ADMIN")
    return role::admin;
  if (s == "USER")
    return role::user;
  return std::nullopt;
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
