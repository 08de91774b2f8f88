// A credential worker owns nothing but its thread: each request is independent. Requests whose
// deadline passed while queued are refused instead of hashed, so a burst cannot pile up work
// nobody waits for.
#include "actors/credential_workers.hpp"

#include "actors/messages.hpp"
#include "observability/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace eventhub::actors {
namespace {

domain::error too_late() {
  return domain::unavailable("The service is busy; try again.");
}

caf::behavior credential_worker(caf::event_based_actor*, security::argon2_cost cost) {
  return {
      [=](hash_atom, hash_request& req) {
        if (expired(req.due))
          return req.reply(too_late());
        try {
          req.reply(security::hash_password(req.password, cost));
        } catch (const std::exception& e) {
          log::error("security.hash_failed", {{"error", e.what()}});
          req.reply(domain::unavailable("The service is busy; try again."));
        }
      },
      [=](verify_atom, verify_request& req) {
        if (expired(req.due))
          return req.reply(too_late());
        // Unknown emails are verified against a decoy hash: same work, same answer time.
        const std::string& hash =
            req.encoded_hash.empty() ? security::decoy_hash(cost) : req.encoded_hash;
        const bool ok = security::verify_password(hash, req.password);
        req.reply(ok && !req.encoded_hash.empty());
      },
  };
}

} // namespace

std::vector<caf::actor> spawn_credential_workers(caf::actor_system& sys, int count,
                                                 security::argon2_cost cost) {
  // The decoy is made now, at start-up: made on first use, it would double the time of the
  // first login for an unknown email, which is exactly what it exists to hide.
  security::decoy_hash(cost);
  std::vector<caf::actor> workers;
  for (int i = 0; i < count; ++i)
    workers.push_back(sys.spawn<caf::detached>(credential_worker, cost));
  return workers;
}

} // namespace eventhub::actors
