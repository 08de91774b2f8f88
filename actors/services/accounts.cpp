// The accounts actor. Owns nothing but the round-robin position over the credential workers;
// a login is a chain of answers (DB, credential worker, DB) that each come back to it.
#include "actors/services/accounts.hpp"

#include "domain/json.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/login_repository.hpp"
#include "persistence/participant_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

using domain::error_code;
using domain::make_error;
namespace participants = persistence::participants;
namespace logins = persistence::logins;

struct login_record {
  std::int64_t id = 0;
  domain::role role = domain::role::user;
  std::string hash; // empty for an unknown email
};

domain::error throttled(std::int64_t retry_after_seconds) {
  auto e = make_error(error_code::throttled, "Too many failed logins; try again later.");
  e.retry_after_seconds = static_cast<int>(retry_after_seconds);
  return e;
}

/// The auth.* audit entry of a login: the participant when the email names one, no actor, and
/// never the password tried.
void audit_login(persistence::tx& t, const domain::login_request& req, const char* action,
                 std::int64_t participant_id) {
  std::optional<std::int64_t> entity;
  if (participant_id)
    entity = participant_id;
  persistence::audit::record(
      t,
      {{std::nullopt, req.request_id, req.client_address}, action, "participant", entity, {}, {}});
}

/// Step 1, one transaction: the attempt is counted (or refused while locked, and audited) and
/// the account looked up. An unknown email goes on like a known one, so both answer alike.
domain::result<login_record> begin_login(persistence::tx& t, const domain::login_request& req,
                                         const logins::throttle_policy& policy) {
  auto attempt = logins::begin_attempt(t, req.email, req.client_address, policy);
  auto rec = participants::find_login(t, req.email);
  if (!attempt.admitted) {
    audit_login(t, req, "auth.throttled", rec ? rec->id : 0);
    return throttled(attempt.retry_after_seconds);
  }
  login_record who;
  if (rec) {
    who.id = rec->id;
    who.role = rec->role;
    who.hash = std::move(rec->password_hash);
  }
  return who;
}

/// Step 3, after the credential worker's verdict: a failure is counted against the client
/// address (the email counted it in step 1); a success ends the email's run of failures and gets
/// a token.
domain::result<domain::access_token> settle_login(persistence::tx& t,
                                                  const security::token_service& tokens,
                                                  const logins::throttle_policy& policy,
                                                  const domain::login_request& req,
                                                  const login_record& who, bool verified) {
  if (!verified) {
    logins::failed(t, req.client_address, policy);
    audit_login(t, req, "auth.login_failed", who.id);
    return make_error(error_code::unauthenticated, "Invalid email or password.");
  }
  logins::succeeded(t, req.email);
  return tokens.issue(who.id, who.role, domain::now());
}

struct accounts_state {
  accounts_deps deps;
  service_options options;
  std::size_t next_hasher = 0;

  const credential_worker_actor& hasher() {
    return deps.hashers[next_hasher++ % deps.hashers.size()];
  }
  deadline due() const { return due_in(options.request_timeout); }
};

using accounts_pointer = accounts_actor::stateful_pointer<accounts_state>;

/// Inserts the participant with its participant.created entry: its actor is the ADMIN who made
/// the account, else the new participant itself.
domain::result<domain::participant> insert_participant(persistence::tx& t,
                                                       const domain::new_participant& p,
                                                       const std::string& hash, domain::origin by) {
  auto made = participants::insert(t, p, hash);
  if (!made.ok())
    return made;
  if (!by.actor_id)
    by.actor_id = made->id;
  persistence::audit::record(
      t, {by, "participant.created", "participant", made->id, {}, domain::to_json(*made)});
  return made;
}

void on_register(accounts_pointer self, domain::new_participant& p, domain::origin& by,
                 domain::reply<domain::participant>& done) {
  auto& st = self->state;
  const auto due = st.due();
  self->request(st.hasher(), wait_for(due), hash_atom::value, hash_request{p.password, due})
      .then(
          [self, p, by, done, due](hash_answer& hash) {
            if (!hash.ok())
              return done(hash.err());
            auto job = make_tx_job<domain::participant>(
                due, [p, by, h = std::move(*hash)](persistence::tx& t) {
                  return insert_participant(t, p, h, by);
                });
            ask_db<domain::participant>(self, self->state.deps.db_pool, std::move(job), done);
          },
          [done](caf::error&) { done(domain::unavailable("The service is busy; try again.")); });
}

void finish_login(accounts_pointer self, const domain::login_request& req, const login_record& who,
                  bool verified, deadline due, domain::reply<domain::access_token> done) {
  auto& st = self->state;
  auto job =
      make_tx_job<domain::access_token>(due, [tokens = st.deps.tokens, policy = st.options.throttle,
                                              req, who, verified](persistence::tx& t) {
        return settle_login(t, *tokens, policy, req, who, verified);
      });
  ask_db<domain::access_token>(self, st.deps.db_pool, std::move(job), std::move(done));
}

/// Step 2: argon2id on a credential worker, never on an HTTP thread or a scheduler thread.
void verify_login(accounts_pointer self, const domain::login_request& req, login_record who,
                  deadline due, domain::reply<domain::access_token> done) {
  auto& worker = self->state.hasher();
  self->request(worker, wait_for(due), verify_atom::value,
                verify_request{who.hash, req.password, due})
      .then(
          [self, req, who, due, done](verify_answer& ok) {
            if (!ok.ok())
              return done(ok.err());
            finish_login(self, req, who, *ok, due, done);
          },
          [done](caf::error&) { done(domain::unavailable("The service is busy; try again.")); });
}

void on_login(accounts_pointer self, domain::login_request& req,
              domain::reply<domain::access_token>& done) {
  auto& st = self->state;
  const auto due = st.due();
  auto job =
      make_tx_job<login_record>(due, [req, policy = st.options.throttle](persistence::tx& t) {
        return begin_login(t, req, policy);
      });
  ask_db<login_record>(self, st.deps.db_pool, std::move(job),
                       [self, req, due, done](domain::result<login_record> who) {
                         if (!who.ok())
                           return done(who.err());
                         verify_login(self, req, std::move(*who), due, done);
                       });
}

accounts_actor::behavior_type accounts_behavior(accounts_pointer self, accounts_deps deps,
                                                service_options options) {
  self->state.deps = std::move(deps);
  self->state.options = options;
  return {
      [=](register_atom, domain::new_participant& p, domain::origin& by,
          domain::reply<domain::participant>& done) { on_register(self, p, by, done); },
      [=](login_atom, domain::login_request& req, domain::reply<domain::access_token>& done) {
        on_login(self, req, done);
      },
      [=](find_atom, std::int64_t id, domain::reply<domain::participant>& done) {
        serve_tx(
            self, self->state.deps.db_pool, self->state.options.request_timeout,
            [id](persistence::tx& t) { return found(participants::find(t, id), "participant"); },
            done);
      },
      [=](list_all_atom, domain::page_request paging,
          domain::reply<domain::page<domain::participant>>& done) {
        serve_tx(
            self, self->state.deps.db_pool, self->state.options.request_timeout,
            [paging](persistence::tx& t) { return participants::list(t, paging); }, done);
      },
  };
}

} // namespace

accounts_actor spawn_accounts(caf::actor_system& sys, accounts_deps deps,
                              const service_options& options) {
  return sys.spawn(accounts_behavior, std::move(deps), options);
}

void accounts_service::register_participant(domain::new_participant p, domain::origin by,
                                            domain::reply<domain::participant> done) {
  caf::anon_send(actor_, register_atom::value, std::move(p), std::move(by), std::move(done));
}

void accounts_service::login(domain::login_request req, domain::reply<domain::access_token> done) {
  caf::anon_send(actor_, login_atom::value, std::move(req), std::move(done));
}

void accounts_service::find_participant(std::int64_t id, domain::reply<domain::participant> done) {
  caf::anon_send(actor_, find_atom::value, id, std::move(done));
}

void accounts_service::list_participants(domain::page_request paging,
                                         domain::reply<domain::page<domain::participant>> done) {
  caf::anon_send(actor_, list_all_atom::value, paging, std::move(done));
}

} // namespace eventhub::actors
