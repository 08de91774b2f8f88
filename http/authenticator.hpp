// Authentication at the endpoint boundary: bearer token verified (pure function), then the
// token's participant confirmed to exist. No body is parsed and no actor is asked before this.
#pragma once

#include "domain/services.hpp"
#include "http/message.hpp"
#include "security/tokens.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_set>

namespace eventhub::http {

class authenticator {
 public:
  authenticator(std::shared_ptr<const security::token_service> tokens,
                domain::participant_service& participants)
      : tokens_(std::move(tokens)), participants_(participants), generation_(next_generation()) {}

  /// The caller, or unauthenticated (401): missing/malformed header, bad token, unknown `sub`.
  /// Call on the request's I/O thread; `done` runs on it too: at once when the participant is
  /// already known, else with the lookup's result, brought back by `post` (on_io).
  void authenticate(const request& req, const post_fn& post, domain::reply<domain::principal> done);

 private:
  bool known(std::int64_t id);
  void remember(std::int64_t id);
  static std::uint64_t next_generation();

  std::shared_ptr<const security::token_service> tokens_;
  domain::participant_service& participants_;
  // Names this authenticator in the per-thread cache of verified tokens, which must never
  // answer for tokens another authenticator (another secret) verified.
  const std::uint64_t generation_;
  // Ids of participants seen to exist. Participants are never deleted, so an id, once
  // confirmed, stays valid; the mutex guards the set against the HTTP I/O threads (the only
  // users), and is held for a hash lookup only.
  std::mutex known_mutex_;
  std::unordered_set<std::int64_t> known_ids_;
};

} // namespace eventhub::http
