// A credential worker owns nothing but its thread: each request is independent. Requests whose
// deadline passed while queued are refused instead of hashed, so a burst cannot pile up work
// nobody waits for.
#include "actors/credential_workers.hpp"

#include "observability/log.hpp"
#include "security/password.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace eventhub::actors {
namespace {

domain::error too_late() {
  return domain::unavailable("The service is busy; try again.");
}

credential_worker_actor::behavior_type credential_worker(credential_worker_actor::pointer,
                                                         security::argon2_cost cost) {
  return {
      [=](hash_atom, hash_request& req) -> hash_answer {
        if (expired(req.due))
          return too_late();
        try {
          return security::hash_password(req.password, cost);
        } catch (const std::exception& e) {
          log::error("security.hash_failed", {{"error", e.what()}});
          return too_late();
        }
      },
      [=](verify_atom, verify_request& req) -> verify_answer {
        if (expired(req.due))
          return too_late();
        // Unknown emails are verified against a decoy hash: same work, same answer time.
        const std::string& hash =
            req.encoded_hash.empty() ? security::decoy_hash(cost) : req.encoded_hash;
        const bool ok = security::verify_password(hash, req.password);
        return ok && !req.encoded_hash.empty();
      },
  };
}

} // namespace

std::vector<credential_worker_actor> spawn_credential_workers(caf::actor_system& sys,
                                                              const credential_options& options) {
  // The decoy is made now, at start-up: made on first use, it would double the time of the
  // first login for an unknown email, which is exactly what it exists to hide.
  security::decoy_hash(options.cost);
  std::vector<credential_worker_actor> workers;
  for (int i = 0; i < options.workers; ++i)
    workers.push_back(sys.spawn<caf::detached>(credential_worker, options.cost));
  return workers;
}

} // namespace eventhub::actors
