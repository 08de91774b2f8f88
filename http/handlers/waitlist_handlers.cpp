// POST /api/events/{id}/waitlist (USER), DELETE /api/waitlist/{id} (its owner), GET
// /api/waitlist/{id} (owner or ADMIN), GET /api/me/waitlist (USER), GET /api/events/{id}/waitlist
// (ADMIN).
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

namespace eventhub::http::handlers {

handler_fn join_waitlist(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto event_id = path_id(c, 0, "id");
    if (!event_id)
      return;
    auto req = order_request(c, ctx, *event_id);
    if (!req)
      return;
    req->idempotency_key.reset(); // a second join is refused as already-waiting instead
    ctx.services.waitlist.join_waitlist(
        std::move(*req), answer<domain::purchase_outcome>(c, [](const domain::purchase_outcome& o) {
          const auto& e = *o.entry;
          return json_response(201, domain::to_json(e))
              .with_header("Location", "/api/waitlist/" + std::to_string(e.id));
        }));
  };
}

handler_fn leave_waitlist(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    domain::purchase_request req;
    req.entry_id = *id;
    stamp_origin(req, c);
    ctx.services.waitlist.leave_waitlist(std::move(req), *c.caller,
                                         answer_no_content<domain::purchase_outcome>(c));
  };
}

handler_fn get_waitlist_entry(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.waitlist.find_entry(*id, *c.caller, answer_json<domain::waitlist_entry>(c));
  };
}

handler_fn my_waitlist(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto p = paging(c, parse_query(c.req->query));
    if (!p)
      return;
    ctx.services.waitlist.list_entries_of(c.caller->id, *p,
                                          answer_json<domain::page<domain::waitlist_entry>>(c));
  };
}

handler_fn event_waitlist(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto event_id = path_id(c, 0, "id");
    if (!event_id)
      return;
    auto p = paging(c, parse_query(c.req->query));
    if (!p)
      return;
    ctx.services.waitlist.list_event_entries(*event_id, *p,
                                             answer_json<domain::page<domain::waitlist_entry>>(c));
  };
}

} // namespace eventhub::http::handlers
