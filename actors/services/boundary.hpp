// The boundary between the HTTP layer and the actors: the service facades (domain/services.hpp)
// send each call as one message to their service actor, carrying the caller's reply. A service
// actor asks the core with request/response messages and invokes the reply once, with a typed
// result; the HTTP layer's reply only moves that result to its I/O thread, where the answer is
// rendered. These types never cross the middleman (they hold std::function), hence "unsafe".
#pragma once

#include "actors/db_request.hpp"
#include "domain/audit.hpp"
#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/result.hpp"

#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace eventhub::actors {

/// When an answer to a call received now is due.
inline deadline due_in(std::chrono::milliseconds timeout) {
  return std::chrono::steady_clock::now() + timeout;
}

/// A read's value, or not_found naming `what` ("event", "purchase", …).
template <class T> domain::result<T> found(std::optional<T> value, const char* what) {
  if (value)
    return std::move(*value);
  return domain::make_error(domain::error_code::not_found,
                            std::string("No ") + what + " with this id.");
}

/// Serves a plain read or write: `work(tx&) -> result<T>` in one transaction on a DB worker,
/// due within `timeout`, its answer to `done`.
template <class T, class Self, class Work>
void serve_tx(Self* self, const db_pool_actor& pool, std::chrono::milliseconds timeout, Work work,
              domain::reply<T> done) {
  ask_db<T>(self, pool, make_tx_job<T>(due_in(timeout), std::move(work)), std::move(done));
}

} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::new_participant)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::origin)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::audit_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::audit_entry>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::login_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::page_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::event_draft)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::ticket_type_draft)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::ticket_type_view>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::purchase_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::principal)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::participant>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::access_token>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::participant>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::event>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::unit>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::attendee>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::rendered_page>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::purchase_outcome>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::purchase>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::hold>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::hold>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
    eventhub::domain::reply<eventhub::domain::page<eventhub::domain::purchase>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::domain::reply<eventhub::domain::health_report>)
