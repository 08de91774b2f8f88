// POST /api/auth/register, POST /api/auth/login, GET /api/me.
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

namespace eventhub::http {

namespace handlers {

handler_fn register_participant(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto body = json_body(c);
    if (!body)
      return;
    auto p = read_new_participant(*body, false);
    if (!p)
      return c.fail(body->error());
    ctx.services.participants.register_participant(
        std::move(*p), origin_of(c), answer_created<domain::participant>(c, "/api/participants/"));
  };
}

handler_fn login(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto body = json_body(c);
    if (!body)
      return;
    auto email = body->text("email", presence::required, {size(1, 254)});
    auto password = body->text("password", presence::required, {size(1, 1024)});
    if (!body->ok())
      return c.fail(body->error());
    domain::login_request req{lower_case(*email), *password, c.req->remote_address,
                              c.req->request_id};
    ctx.services.participants.login(
        std::move(req), answer<domain::access_token>(c, [](const domain::access_token& t) {
          return json_response(200, domain::to_json(t)).with_header("Cache-Control", "no-store");
        }));
  };
}

handler_fn me(const handler_context& ctx) {
  return [&ctx](const call& c) {
    ctx.services.participants.find_participant(c.caller->id, answer_json<domain::participant>(c));
  };
}

} // namespace handlers
} // namespace eventhub::http
