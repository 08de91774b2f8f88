// Asking the seller (the event registry, or lock-per-request) to decide one command, for the
// service actors that send commands of an event's stream (purchases, waitlist).
#pragma once

#include "actors/event_actor.hpp"

#include <caf/error.hpp>

#include <utility>

namespace eventhub::actors {

/// Sends `cmd` to `seller` and hands its answer to `done`: the seller's, or 503 with
/// `timeout_detail` once cmd.due has passed without one.
template <class Self, class Done>
void ask_seller(Self* self, const purchase_handler& seller, purchase_command cmd,
                const char* timeout_detail, Done done) {
  const auto due = cmd.due;
  self->request(seller, wait_for(due), purchase_atom::value, std::move(cmd))
      .then([done](purchase_answer& a) mutable { done(std::move(a)); },
            [done, timeout_detail](caf::error&) mutable {
              done(purchase_answer(domain::unavailable(timeout_detail)));
            });
}

} // namespace eventhub::actors
