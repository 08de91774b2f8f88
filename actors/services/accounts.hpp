// Accounts: registration, login (with throttling), participant reads.
//
// Protocol (accounts_actor), each message carrying the caller's reply:
//   (register_atom, new_participant, origin, reply<participant>)   hash the password, insert
//        with its participant.created audit entry
//   (login_atom, login_request, reply<access_token>)        count, verify, settle, issue a token;
//        a failure or a throttled attempt records its auth.* audit entry
//   (find_atom, id, reply<participant>)
//   (list_all_atom, page_request, reply<page<participant>>)
#pragma once

#include "actors/credential_workers.hpp"
#include "actors/db_pool.hpp"
#include "actors/options.hpp"
#include "actors/services/boundary.hpp"
#include "domain/services.hpp"
#include "security/tokens.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <vector>

namespace eventhub::actors {

using accounts_actor = caf::typed_actor<
    caf::reacts_to<register_atom, domain::new_participant, domain::origin,
                   domain::reply<domain::participant>>,
    caf::reacts_to<login_atom, domain::login_request, domain::reply<domain::access_token>>,
    caf::reacts_to<find_atom, std::int64_t, domain::reply<domain::participant>>,
    caf::reacts_to<list_all_atom, domain::page_request,
                   domain::reply<domain::page<domain::participant>>>>;

struct accounts_deps {
  db_pool_actor db_pool;
  std::vector<credential_worker_actor> hashers;
  std::shared_ptr<const security::token_service> tokens;
};

accounts_actor spawn_accounts(caf::actor_system& sys, accounts_deps deps,
                              const service_options& options);

/// domain::participant_service as messages to an accounts actor.
class accounts_service final : public domain::participant_service {
 public:
  explicit accounts_service(accounts_actor actor) : actor_(std::move(actor)) {}

  void register_participant(domain::new_participant p, domain::origin by,
                            domain::reply<domain::participant> done) override;
  void login(domain::login_request req, domain::reply<domain::access_token> done) override;
  void find_participant(std::int64_t id, domain::reply<domain::participant> done) override;
  void list_participants(domain::page_request paging,
                         domain::reply<domain::page<domain::participant>> done) override;

 private:
  accounts_actor actor_;
};

} // namespace eventhub::actors
