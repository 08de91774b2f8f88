// POST, GET /api/webhooks, GET and DELETE /api/webhooks/{id}, GET
// /api/webhooks/{id}/deliveries (ADMIN).
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

namespace eventhub::http::handlers {

handler_fn create_webhook(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto v = json_body(c);
    if (!v)
      return;
    auto draft = read_webhook_draft(*v);
    if (!draft) {
      c.fail(v->error());
      return;
    }
    ctx.services.webhooks.create_webhook(
        std::move(*draft), origin_of(c),
        answer_created<domain::webhook_endpoint>(c, "/api/webhooks/"));
  };
}

handler_fn list_webhooks(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto p = paging(c, parse_query(c.req->query));
    if (!p)
      return;
    ctx.services.webhooks.list_webhooks(*p, answer_json<domain::page<domain::webhook_endpoint>>(c));
  };
}

handler_fn get_webhook(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.webhooks.find_webhook(*id, answer_json<domain::webhook_endpoint>(c));
  };
}

handler_fn delete_webhook(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.webhooks.delete_webhook(*id, origin_of(c), answer_no_content<domain::unit>(c));
  };
}

handler_fn webhook_deliveries(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    auto p = paging(c, parse_query(c.req->query));
    if (!p)
      return;
    ctx.services.webhooks.list_deliveries(*id, *p,
                                          answer_json<domain::page<domain::delivery_attempt>>(c));
  };
}

} // namespace eventhub::http::handlers
