// GET /api/participants, GET /api/participants/{id}, POST /api/participants (ADMIN).
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

namespace eventhub::http::handlers {

handler_fn list_participants(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto p = paging(c, parse_query(c.req->query));
    if (!p)
      return;
    ctx.services.participants.list_participants(*p,
                                                answer_json<domain::page<domain::participant>>(c));
  };
}

handler_fn get_participant(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.participants.find_participant(*id, answer_json<domain::participant>(c));
  };
}

handler_fn create_participant(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto body = json_body(c);
    if (!body)
      return;
    auto p = read_new_participant(*body, true);
    if (!p)
      return c.fail(body->error());
    ctx.services.participants.register_participant(
        std::move(*p), origin_of(c), answer_created<domain::participant>(c, "/api/participants/"));
  };
}

} // namespace eventhub::http::handlers
