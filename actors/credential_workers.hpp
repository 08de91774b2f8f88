// Password hashing workers: detached actors, so argon2id never runs on an HTTP I/O thread or
// on the scheduler threads that serve purchases and listings.
#pragma once

#include "security/password.hpp"

#include <caf/fwd.hpp>

#include <vector>

namespace eventhub::actors {

/// `count` detached workers; send each `hash_atom, hash_request` or `verify_atom, verify_request`.
std::vector<caf::actor> spawn_credential_workers(caf::actor_system& sys, int count,
                                                 security::argon2_cost cost);

} // namespace eventhub::actors
