// Password hashing workers: detached actors, so argon2id never runs on an HTTP I/O thread or
// on the scheduler threads that serve purchases and listings.
//
// Protocol (credential_worker_actor):
//   (hash_atom, hash_request) -> hash_answer       the argon2id encoding of a password
//   (verify_atom, verify_request) -> verify_answer  whether a password matches a hash (an empty
//                                                   hash checks a decoy: same work, false)
// A request whose deadline passed while queued answers 503 instead of hashing.
#pragma once

#include "actors/atoms.hpp"
#include "actors/db_pool.hpp"
#include "actors/options.hpp"
#include "domain/result.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <string>
#include <vector>

namespace eventhub::actors {

struct hash_request {
  std::string password;
  deadline due;
};

struct verify_request {
  std::string encoded_hash; // empty for an unknown email
  std::string password;
  deadline due;
};

using hash_answer = domain::result<std::string>;
using verify_answer = domain::result<bool>;

using credential_worker_actor =
    caf::typed_actor<caf::replies_to<hash_atom, hash_request>::with<hash_answer>,
                     caf::replies_to<verify_atom, verify_request>::with<verify_answer>>;

std::vector<credential_worker_actor> spawn_credential_workers(caf::actor_system& sys,
                                                              const credential_options& options);

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::hash_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::verify_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::hash_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::verify_answer)
