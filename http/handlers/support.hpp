// What every handler needs: reading paging, path ids and JSON bodies (answering 400/415 itself
// when they are bad), and turning a service result into a response on the I/O thread.
#pragma once

#include "domain/json.hpp"
#include "http/router.hpp"
#include "http/validation.hpp"

#include <functional>
#include <optional>

namespace eventhub::http {

/// The path parameter `index` as a positive id; answers 400 naming it otherwise.
std::optional<std::int64_t> path_id(const call& c, std::size_t index, const char* name);

/// Who calls (none when unauthenticated), X-Request-Id and the client's address: what the audit
/// entry of a change made by this call records.
domain::origin origin_of(const call& c);

/// Sets `req`'s request id, actor and client address from the call (origin_of).
void stamp_origin(domain::purchase_request& req, const call& c);

/// `page` and `size` from the query (defaults 0 and 20); answers 400 naming the parameter.
std::optional<domain::page_request> paging(const call& c, const query_params& query);

/// The body as a JSON object: 415 unless the content type is JSON, 400 when malformed.
std::optional<validator> json_body(const call& c);
/// As json_body, but an empty body (with or without a Content-Type) reads as `{}`.
std::optional<validator> optional_json_body(const call& c);

/// A reply that answers with `ok(value)` (a response) or the problem for the error, rendered on
/// the I/O thread (on_io).
template <class T, class Render> domain::reply<T> answer(const call& c, Render ok) {
  return on_io<T>(c, [c, ok = std::move(ok)](domain::result<T> r) {
    if (r.ok())
      c.respond(ok(*r));
    else
      c.fail(r.err());
  });
}

/// 200 with the value as JSON.
template <class T> domain::reply<T> answer_json(const call& c, int status = 200) {
  return answer<T>(
      c, [status](const T& value) { return json_response(status, domain::to_json(value)); });
}

/// 204 with no body, whatever the value.
template <class T> domain::reply<T> answer_no_content(const call& c) {
  return answer<T>(c, [](const T&) {
    response r;
    r.status = 204;
    return r;
  });
}

/// 201 with the value as JSON and a Location of `prefix` + id.
template <class T> domain::reply<T> answer_created(const call& c, std::string prefix) {
  return answer<T>(c, [prefix = std::move(prefix)](const T& value) {
    return json_response(201, domain::to_json(value))
        .with_header("Location", prefix + std::to_string(value.id));
  });
}

/// The body and Idempotency-Key of a purchase or hold of `event_id` by the caller; answers
/// 400/415/422 itself when they are bad (purchase_handlers.cpp).
struct handler_context;
std::optional<domain::purchase_request> order_request(const call& c, const handler_context& ctx,
                                                      std::int64_t event_id);

/// 201 (200 and Idempotent-Replayed when replayed) with the purchase and its Location.
response purchase_created(const domain::purchase_outcome& o);

} // namespace eventhub::http
