// Loads settings: defaults < config file (--config FILE) < environment < command line.
#pragma once

#include "config/settings.hpp"

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace eventhub::config {

struct config_error {
  std::string key; // the offending key, or the option/file name
  std::string message;

  /// One line for stderr: "config error: http.port: must be ..."
  std::string line() const;
};

struct loaded {
  config::settings settings;
  std::vector<std::string> positional; // arguments that are not --options (subcommands)
};

using environment = std::map<std::string, std::string>;

/// `args` excludes argv[0]. Unknown keys anywhere are errors, so typos fail fast.
std::variant<loaded, config_error> load(const std::vector<std::string>& args,
                                        const environment& env);

environment process_environment();

/// Checks that involve several keys; run after every source is applied.
std::optional<config_error> validate(const settings& s);

/// The reference of every key as Markdown (docs/configuration.md is checked against it).
std::string reference_markdown();

} // namespace eventhub::config
