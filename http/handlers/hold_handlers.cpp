// POST /api/events/{id}/holds, POST /api/holds/{id}/confirm (USER), DELETE and GET
// /api/holds/{id}, GET /api/me/holds.
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

namespace eventhub::http::handlers {
namespace {

/// A confirm or release of the hold in the path, by the caller.
std::optional<domain::purchase_request> settle_request(const call& c, domain::order_kind kind) {
  auto id = path_id(c, 0, "id");
  if (!id)
    return std::nullopt;
  domain::purchase_request req;
  req.kind = kind;
  req.hold_id = *id;
  req.participant_id = c.caller->id;
  stamp_origin(req, c);
  return req;
}

} // namespace

handler_fn create_hold(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto event_id = path_id(c, 0, "id");
    if (!event_id)
      return;
    auto req = order_request(c, ctx, *event_id);
    if (!req)
      return;
    ctx.services.holds.create_hold(
        std::move(*req), answer<domain::purchase_outcome>(c, [](const domain::purchase_outcome& o) {
          const auto& h = *o.hold;
          auto r = json_response(o.replayed ? 200 : 201, domain::to_json(h))
                       .with_header("Location", "/api/holds/" + std::to_string(h.id));
          if (o.replayed)
            r.with_header("Idempotent-Replayed", "true");
          return r;
        }));
  };
}

handler_fn confirm_hold(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto req = settle_request(c, domain::order_kind::confirm);
    if (!req)
      return;
    ctx.services.holds.settle_hold(std::move(*req), *c.caller,
                                   answer<domain::purchase_outcome>(c, purchase_created));
  };
}

handler_fn release_hold(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto req = settle_request(c, domain::order_kind::release);
    if (!req)
      return;
    ctx.services.holds.settle_hold(std::move(*req), *c.caller,
                                   answer_no_content<domain::purchase_outcome>(c));
  };
}

handler_fn get_hold(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.holds.find_hold(*id, *c.caller, answer_json<domain::hold>(c));
  };
}

handler_fn my_holds(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto p = paging(c, parse_query(c.req->query));
    if (!p)
      return;
    ctx.services.holds.list_holds(c.caller->id, *p, answer_json<domain::page<domain::hold>>(c));
  };
}

} // namespace eventhub::http::handlers
