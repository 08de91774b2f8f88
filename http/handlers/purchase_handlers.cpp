// POST /api/events/{id}/purchases (USER), GET /api/purchases/{id}, GET /api/me/purchases,
// POST /api/purchases/{id}/cancel (owner or ADMIN).
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

#include <algorithm>
#include <limits>

namespace eventhub::http {

std::optional<domain::purchase_request> order_request(const call& c, const handler_context& ctx,
                                                      std::int64_t event_id) {
  auto key = decode_idempotency_key(c.req->header("idempotency-key"));
  if (auto* e = std::get_if<domain::error>(&key)) {
    c.fail(*e);
    return std::nullopt;
  }
  auto body = json_body(c);
  if (!body)
    return std::nullopt;
  auto quantity = body->integer("quantity", presence::required, 1, ctx.max_per_order);
  auto type = body->integer("ticketTypeId", presence::optional, 1,
                            std::numeric_limits<std::int64_t>::max());
  if (!body->ok()) {
    c.fail(body->error());
    return std::nullopt;
  }
  domain::purchase_request req{event_id,
                               c.caller->id,
                               static_cast<std::int32_t>(*quantity),
                               std::get<std::optional<std::string>>(key),
                               c.req->request_id,
                               type};
  stamp_origin(req, c);
  return req;
}

response purchase_created(const domain::purchase_outcome& o) {
  auto r = json_response(o.replayed ? 200 : 201, domain::to_json(o.purchase))
               .with_header("Location", "/api/purchases/" + std::to_string(o.purchase.id));
  if (o.replayed)
    r.with_header("Idempotent-Replayed", "true");
  return r;
}

namespace {

/// A cancellation of the purchase in the path: `{quantity?}` (absent: all that is left; the body
/// itself may be absent), with an optional Idempotency-Key.
std::optional<domain::purchase_request> cancel_request(const call& c) {
  auto id = path_id(c, 0, "id");
  if (!id)
    return std::nullopt;
  auto key = decode_idempotency_key(c.req->header("idempotency-key"));
  if (auto* e = std::get_if<domain::error>(&key)) {
    c.fail(*e);
    return std::nullopt;
  }
  auto body = optional_json_body(c);
  if (!body)
    return std::nullopt;
  auto quantity =
      body->integer("quantity", presence::optional, 1, std::numeric_limits<std::int32_t>::max());
  if (!body->ok()) {
    c.fail(body->error());
    return std::nullopt;
  }
  domain::purchase_request req;
  req.kind = domain::order_kind::cancel;
  req.purchase_id = *id;
  req.quantity = static_cast<std::int32_t>(quantity.value_or(0));
  req.idempotency_key = std::get<std::optional<std::string>>(key);
  stamp_origin(req, c);
  return req;
}

response purchase_cancelled(const domain::purchase_outcome& o) {
  auto r = json_response(200, domain::to_json(o.purchase));
  if (o.replayed)
    r.with_header("Idempotent-Replayed", "true");
  return r;
}

} // namespace

namespace handlers {

handler_fn cancel_purchase(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto req = cancel_request(c);
    if (!req)
      return;
    ctx.services.purchases.cancel_purchase(std::move(*req), *c.caller,
                                           answer<domain::purchase_outcome>(c, purchase_cancelled));
  };
}

handler_fn purchase(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto event_id = path_id(c, 0, "id");
    if (!event_id)
      return;
    auto req = order_request(c, ctx, *event_id);
    if (!req)
      return;
    ctx.services.purchases.purchase(std::move(*req),
                                    answer<domain::purchase_outcome>(c, purchase_created));
  };
}

handler_fn get_purchase(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.purchases.find_purchase(*id, *c.caller, answer_json<domain::purchase>(c));
  };
}

handler_fn my_purchases(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto p = paging(c, parse_query(c.req->query));
    if (!p)
      return;
    ctx.services.purchases.list_purchases(c.caller->id, *p,
                                          answer_json<domain::page<domain::purchase>>(c));
  };
}

} // namespace handlers
} // namespace eventhub::http
