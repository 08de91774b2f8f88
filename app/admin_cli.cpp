// The admin CLI: creates a participant of any role directly in the database.
#include "app/admin_cli.hpp"

#include "app/accounts.hpp"
#include "app/database.hpp"
#include "observability/log.hpp"
#include "persistence/session.hpp"

#include <cstdlib>
#include <iostream>

namespace eventhub::app {
namespace {

std::optional<std::string> read_password() {
  if (const char* env = std::getenv("EVENTHUB_USER_PASSWORD"); env && *env)
    return std::string(env);
  std::string line;
  if (!std::getline(std::cin, line))
    return std::nullopt;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return line;
}

int usage(const std::string& why) {
  std::cerr
      << "eventhub admin: " << why << "\n"
      << "usage: eventhub admin create-user --email E --role ADMIN|USER|STAFF [--full-name N] "
         "[config flags]\n"
      << "       the password is read from EVENTHUB_USER_PASSWORD or from the first line of "
         "stdin\n";
  return 2;
}

} // namespace

admin_command take_admin_command(std::vector<std::string>& args) {
  admin_command cmd;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a == flag && i + 1 < args.size())
        return args[++i];
      if (a.rfind(flag + "=", 0) == 0)
        return a.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (auto v = value("--email"))
      cmd.email = *v;
    else if (auto v = value("--role"))
      cmd.role = *v;
    else if (auto v = value("--full-name"))
      cmd.full_name = *v;
    else if (cmd.action.empty() && a.rfind("--", 0) != 0)
      cmd.action = a;
    else
      rest.push_back(a);
  }
  args = std::move(rest);
  return cmd;
}

int run_admin(const config::settings& s, const admin_command& cmd) {
  if (cmd.action != "create-user")
    return usage("unknown action '" + cmd.action + "'");
  auto role = domain::parse_role(cmd.role);
  if (!role)
    return usage("--role must be ADMIN, USER or STAFF");
  if (cmd.email.find('@') == std::string::npos)
    return usage("--email must be an email address");
  auto password = read_password();
  if (!password || password->size() < 8 || password->size() > 128)
    return usage("the password must be 8..128 characters");
  domain::new_participant p;
  for (char c : cmd.email)
    p.email += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  p.password = *password;
  p.full_name = cmd.full_name.empty() ? p.email.substr(0, p.email.find('@')) : cmd.full_name;
  p.role = *role;
  try {
    database db = open_database(s, /*share=*/true);
    auto created = create_account(s, db.conninfo, p);
    if (!created.ok()) {
      std::cerr << "eventhub admin: " << created.err().detail << "\n";
      return 1;
    }
    std::cout << "created participant " << created->id << " (" << created->email << ", "
              << domain::to_string(created->role) << ")\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "eventhub admin: " << persistence::loggable_error(e) << "\n";
    return 1;
  }
}

} // namespace eventhub::app
