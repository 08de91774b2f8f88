// POST /api/auth/register, POST /api/auth/login, GET /api/me.
#include "http/handlers/handlers.hpp"
#include "http/handlers/participant_body.hpp"
#include "http/handlers/support.hpp"

#include <algorithm>
#include <cctype>

namespace eventhub::http {

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return s;
}

std::optional<domain::new_participant> read_new_participant(validator& v, bool allow_role) {
  auto email = v.text("email", presence::required, {not_blank(), size(3, 254), email_address()});
  auto password = v.text("password", presence::required, {size(8, 128)});
  auto full_name = v.text("fullName", presence::required, {not_blank(), size(1, 100)});
  std::optional<std::string> role;
  if (allow_role)
    role = v.text("role", presence::optional, {one_of({"USER", "ADMIN"})});
  if (!v.ok())
    return std::nullopt;
  domain::new_participant p;
  p.email = lower_case(*email);
  p.password = *password;
  p.full_name = *full_name;
  p.role = role ? *domain::parse_role(*role) : domain::role::user;
  return p;
}

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
        std::move(*p), answer_created<domain::participant>(c, "/api/participants/"));
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
    domain::login_request req{lower_case(*email), *password, c.req->remote_address};
    ctx.services.participants.login(
        std::move(req), answer<domain::access_token>(c, [](const domain::access_token& t) {
          rapidjson::StringBuffer buffer;
          domain::json_writer w(buffer);
          w.StartObject();
          w.Key("accessToken");
          w.String(t.token);
          w.Key("tokenType");
          w.String("Bearer");
          w.Key("expiresIn");
          w.Int64(t.expires_in);
          w.Key("role");
          w.String(domain::to_string(t.role));
          w.EndObject();
          return json_response(200, {buffer.GetString(), buffer.GetSize()})
              .with_header("Cache-Control", "no-store");
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
