// POST /api/events/{id}/purchases (USER), GET /api/purchases/{id}, GET /api/me/purchases.
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

#include <algorithm>

namespace eventhub::http::handlers {
namespace {

/// Idempotency-Key: 1..64 visible ASCII characters.
std::optional<std::string> idempotency_key(const call& c, bool& bad) {
  auto key = c.req->header("idempotency-key");
  bad = false;
  if (!key)
    return std::nullopt;
  const bool ok =
      !key->empty() && key->size() <= 64 &&
      std::all_of(key->begin(), key->end(), [](char ch) { return ch >= 0x21 && ch <= 0x7e; });
  if (!ok) {
    bad = true;
    c.fail(invalid_field("Idempotency-Key", "must be 1 to 64 printable characters"));
    return std::nullopt;
  }
  return std::string(*key);
}

} // namespace

handler_fn purchase(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto event_id = path_id(c, 0, "id");
    if (!event_id)
      return;
    bool bad_key = false;
    auto key = idempotency_key(c, bad_key);
    if (bad_key)
      return;
    auto body = json_body(c);
    if (!body)
      return;
    auto quantity = body->integer("quantity", presence::required, 1, ctx.max_per_order);
    if (!body->ok())
      return c.fail(body->error());
    domain::purchase_request req{*event_id, c.caller->id, static_cast<std::int32_t>(*quantity), key,
                                 c.req->request_id};
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
