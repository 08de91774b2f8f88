// The table of configuration keys: name, default, help text and how to apply a value.
#pragma once

#include "config/settings.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::config {

struct option {
  std::string key;           // e.g. "http.port"
  std::string default_value; // as text, for docs
  std::string help;
  bool secret = false; // never logged
  /// Parses `value` into `s`; returns an error message when the value is bad.
  std::function<std::optional<std::string>(settings& s, const std::string& value)> apply;
};

const std::vector<option>& options();
const option* find_option(const std::string& key);

/// "http.port" -> "EVENTHUB_HTTP_PORT".
std::string env_name(const std::string& key);

} // namespace eventhub::config
