// Account creation with a direct connection (start-up and CLI run before the actors exist).
#include "app/accounts.hpp"

#include "domain/json.hpp"
#include "observability/log.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "security/password.hpp"

namespace eventhub::app {
namespace {

security::argon2_cost cost_of(const config::settings& s) {
  return {static_cast<unsigned long long>(s.argon2_iterations),
          static_cast<std::size_t>(s.argon2_memory_kib)};
}

persistence::connection_options options(const config::settings& s, const std::string& conninfo) {
  return {conninfo, s.db_connect_timeout, s.db_statement_timeout, s.db_lock_timeout};
}

} // namespace

domain::result<domain::participant> create_account(const config::settings& s,
                                                   const std::string& conninfo,
                                                   const domain::new_participant& p) {
  const std::string hash = security::hash_password(p.password, cost_of(s));
  persistence::session session(options(s, conninfo));
  return session.transact([&](persistence::tx& t) {
    auto made = persistence::participants::insert(t, p, hash);
    if (made.ok()) // made from the command line or the configuration: no actor
      persistence::audit::record(
          t, {{}, "participant.created", "participant", made->id, {}, domain::to_json(*made)});
    return made;
  });
}

void ensure_first_admin(const config::settings& s, const std::string& conninfo) {
  if (s.admin_email.empty()) {
    log::info("admin.not_configured", {{"hint", "set admin.email and admin.password, or run "
                                                "'eventhub admin create-user'"}});
    return;
  }
  domain::new_participant admin;
  for (char c : s.admin_email)
    admin.email += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  admin.password = s.admin_password;
  admin.full_name = "Administrator";
  admin.role = domain::role::admin;
  persistence::session session(options(s, conninfo));
  const auto existing = session.transact(
      [&](persistence::tx& t) { return persistence::participants::find_login(t, admin.email); });
  if (existing) {
    // Never promoted: whoever registered the address first does not become ADMIN by it.
    if (existing->role != domain::role::admin)
      log::warn("admin.email_taken",
                {{"participant_id", existing->id},
                 {"role", domain::to_string(existing->role)},
                 {"hint", "admin.email belongs to a USER account; no ADMIN "
                          "was created. Use another admin.email or the CLI."}});
    return;
  }
  auto created = create_account(s, conninfo, admin);
  if (created.ok())
    log::info("admin.created", {{"participant_id", created->id}});
  // a conflict means another node created it meanwhile: fine
}

} // namespace eventhub::app
