// POST /api/events/{id}/purchases (USER), GET /api/purchases/{id}, GET /api/me/purchases.
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

#include <algorithm>
#include <limits>

namespace eventhub::http::handlers {
handler_fn purchase(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto event_id = path_id(c, 0, "id");
    if (!event_id)
      return;
    auto key = decode_idempotency_key(c.req->header("idempotency-key"));
    if (auto* e = std::get_if<domain::error>(&key))
      return c.fail(*e);
    auto body = json_body(c);
    if (!body)
      return;
    auto quantity = body->integer("quantity", presence::required, 1, ctx.max_per_order);
    auto type = body->integer("ticketTypeId", presence::optional, 1,
                              std::numeric_limits<std::int64_t>::max());
    if (!body->ok())
      return c.fail(body->error());
    domain::purchase_request req{*event_id,
                                 c.caller->id,
                                 static_cast<std::int32_t>(*quantity),
                                 std::get<std::optional<std::string>>(key),
                                 c.req->request_id,
                                 type};
    ctx.services.purchases.purchase(
        std::move(req), answer<domain::purchase_outcome>(c, [](const domain::purchase_outcome& o) {
          auto r = json_response(o.replayed ? 200 : 201, domain::to_json(o.purchase))
                       .with_header("Location", "/api/purchases/" + std::to_string(o.purchase.id));
          if (o.replayed)
            r.with_header("Idempotent-Replayed", "true");
          return r;
        }));
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

} // namespace eventhub::http::handlers
