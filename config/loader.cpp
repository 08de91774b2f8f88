// Applies configuration sources in precedence order and checks cross-key rules.
#include "config/loader.hpp"
#include "config/options.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

extern char** environ;

namespace eventhub::config {
namespace {

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::optional<config_error> apply(settings& s, const std::string& key, const std::string& value,
                                  const std::string& source) {
  const option* opt = find_option(key);
  if (!opt)
    return config_error{key, "unknown key (from " + source + ")"};
  if (auto message = opt->apply(s, value))
    return config_error{key, *message + " (from " + source + ")"};
  return std::nullopt;
}

/// `key = value` lines; `#` starts a comment line. Values may be wrapped in double quotes.
std::optional<config_error> apply_file(settings& s, const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return config_error{"--config", "cannot read file '" + path + "'"};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#')
      continue;
    auto eq = line.find('=');
    const std::string where = path + ":" + std::to_string(number);
    if (eq == std::string::npos)
      return config_error{"--config", "expected key = value at " + where};
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (auto err = apply(s, key, value, where))
      return err;
  }
  return std::nullopt;
}

struct cli_options {
  std::vector<std::pair<std::string, std::string>> values;
  std::optional<std::string> config_file;
  std::vector<std::string> positional;
};

std::variant<cli_options, config_error> parse_args(const std::vector<std::string>& args) {
  cli_options out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      out.positional.push_back(arg);
      continue;
    }
    std::string key = arg.substr(2), value;
    auto eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return config_error{key, "missing value on the command line"};
    }
    if (key == "config")
      out.config_file = value;
    else
      out.values.emplace_back(key, value);
  }
  return out;
}

/// A cluster is authenticated by its CA (all three cluster.tls-* files), or says it is not.
std::optional<config_error> check_cluster_tls(const settings& s) {
  const std::pair<const char*, const std::string*> files[] = {
      {"cluster.tls-ca", &s.cluster_tls_ca},
      {"cluster.tls-certificate", &s.cluster_tls_certificate},
      {"cluster.tls-key", &s.cluster_tls_key}};
  for (const auto& [key, value] : files)
    if (s.cluster_tls() && value->empty())
      return config_error{key, "cluster.tls-ca, cluster.tls-certificate and cluster.tls-key must "
                               "be set together"};
  if (s.cluster_tls() && s.cluster_insecure)
    return config_error{"cluster.insecure", "must not be true when cluster.tls-* are set"};
  if (s.cluster_enabled() && !s.cluster_tls() && !s.cluster_insecure)
    return config_error{"cluster.tls-ca",
                        "is required for a cluster: set cluster.tls-ca, cluster.tls-certificate "
                        "and cluster.tls-key (scripts/cluster-certs), or cluster.insecure=true "
                        "on a trusted network"};
  return std::nullopt;
}

} // namespace

std::string config_error::line() const {
  return "config error: " + key + ": " + message;
}

environment process_environment() {
  environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && entry.rfind("EVENTHUB_", 0) == 0)
      env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::variant<loaded, config_error> load(const std::vector<std::string>& args,
                                        const environment& env) {
  auto parsed = parse_args(args);
  if (auto* err = std::get_if<config_error>(&parsed))
    return *err;
  auto& cli = std::get<cli_options>(parsed);

  loaded result;
  settings& s = result.settings;
  std::optional<std::string> file = cli.config_file;
  if (!file) {
    auto it = env.find("EVENTHUB_CONFIG");
    if (it != env.end() && !it->second.empty())
      file = it->second;
  }
  if (file)
    if (auto err = apply_file(s, *file))
      return *err;
  for (const auto& opt : options()) {
    auto it = env.find(env_name(opt.key));
    if (it != env.end())
      if (auto err = apply(s, opt.key, it->second, "environment " + it->first))
        return *err;
  }
  for (const auto& [key, value] : cli.values)
    if (auto err = apply(s, key, value, "command line"))
      return *err;
  if (auto err = validate(s))
    return *err;
  result.positional = std::move(cli.positional);
  return result;
}

namespace {

/// `whsec_` + standard base64 of at least 24 bytes (security::parse_webhook_secret decodes it).
bool looks_like_webhook_secret(const std::string& v) {
  const std::string prefix = "whsec_";
  if (v.rfind(prefix, 0) != 0)
    return false;
  const auto b64 = v.substr(prefix.size());
  const auto data = b64.substr(0, b64.find_last_not_of('=') + 1);
  const auto padding = b64.size() - data.size();
  const bool alphabet = std::all_of(data.begin(), data.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
  return alphabet && b64.size() % 4 == 0 && padding <= 2 && b64.size() / 4 * 3 - padding >= 24;
}

} // namespace

std::optional<config_error> validate(const settings& s) {
  if (!s.jwt_secret.empty() && s.jwt_secret.size() < 32)
    return config_error{"jwt.secret", "must be at least 32 bytes"};
  if (!s.tickets_key_secret.empty() && s.tickets_key_secret.size() < 32)
    return config_error{"tickets.key-secret", "must be at least 32 bytes"};
  if (!s.embedded_database() && s.jwt_secret.empty())
    return config_error{"jwt.secret", "is required when db.url is set (all nodes must share it)"};
  if (s.admin_email.empty() != s.admin_password.empty())
    return config_error{s.admin_email.empty() ? "admin.email" : "admin.password",
                        "admin.email and admin.password must be set together"};
  if (!s.admin_password.empty() && (s.admin_password.size() < 8 || s.admin_password.size() > 128))
    return config_error{"admin.password", "must be 8..128 characters"};
  if (!s.admin_email.empty() && s.admin_email.find('@') == std::string::npos)
    return config_error{"admin.email", "must be an email address"};
  if (!s.notify_webhook_url.empty() && s.notify_webhook_secret.empty())
    return config_error{"notify.webhook-secret", "is required when notify.webhook-url is set"};
  if (!s.notify_webhook_secret.empty() && !looks_like_webhook_secret(s.notify_webhook_secret))
    return config_error{"notify.webhook-secret",
                        "must be whsec_ followed by base64 of at least 24 random bytes"};
  if (!s.cluster_seeds.empty() && s.cluster_port == 0)
    return config_error{"cluster.port",
                        "must be set when cluster.seeds is (members reach each other on it)"};
  if (auto e = check_cluster_tls(s))
    return e;
  return std::nullopt;
}

std::string reference_markdown() {
  std::ostringstream out;
  out << "| key | environment | default | meaning |\n|---|---|---|---|\n";
  for (const auto& o : options())
    out << "| `" << o.key << "` | `" << env_name(o.key) << "` | "
        << (o.default_value.empty() ? "(empty)" : "`" + o.default_value + "`") << " | " << o.help
        << (o.secret ? " Secret: never logged." : "") << " |\n";
  return out.str();
}

} // namespace eventhub::config
