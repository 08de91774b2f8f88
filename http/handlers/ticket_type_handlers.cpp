// POST /api/events/{id}/ticket-types, GET/PUT/DELETE /api/events/{id}/ticket-types/{typeId}.
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

namespace eventhub::http::handlers {
namespace {

std::string location_of(const domain::ticket_type_view& t) {
  return "/api/events/" + std::to_string(t.type.event_id) + "/ticket-types/" +
         std::to_string(t.type.id);
}

/// Both path ids, or nullopt once a 400 was answered.
std::optional<std::pair<std::int64_t, std::int64_t>> type_path(const call& c) {
  auto event_id = path_id(c, 0, "id");
  if (!event_id)
    return std::nullopt;
  auto type_id = path_id(c, 1, "typeId");
  if (!type_id)
    return std::nullopt;
  return std::make_pair(*event_id, *type_id);
}

} // namespace

handler_fn create_ticket_type(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto event_id = path_id(c, 0, "id");
    if (!event_id)
      return;
    auto body = json_body(c);
    if (!body)
      return;
    auto draft = read_ticket_type_draft(*body, ctx.default_currency, false);
    if (!draft || !body->ok())
      return c.fail(body->error());
    ctx.services.events.create_ticket_type(
        *event_id, std::move(*draft), origin_of(c),
        answer<domain::ticket_type_view>(c, [](const domain::ticket_type_view& t) {
          return json_response(201, domain::to_json(t)).with_header("Location", location_of(t));
        }));
  };
}

handler_fn get_ticket_type(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto ids = type_path(c);
    if (!ids)
      return;
    ctx.services.events.find_ticket_type(ids->first, ids->second,
                                         answer_json<domain::ticket_type_view>(c));
  };
}

handler_fn update_ticket_type(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto ids = type_path(c);
    if (!ids)
      return;
    auto body = json_body(c);
    if (!body)
      return;
    auto draft = read_ticket_type_draft(*body, ctx.default_currency, false);
    if (!draft || !body->ok())
      return c.fail(body->error());
    ctx.services.events.update_ticket_type(ids->first, ids->second, std::move(*draft), origin_of(c),
                                           answer_json<domain::ticket_type_view>(c));
  };
}

handler_fn delete_ticket_type(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto ids = type_path(c);
    if (!ids)
      return;
    ctx.services.events.delete_ticket_type(ids->first, ids->second, origin_of(c),
                                           answer_no_content<domain::unit>(c));
  };
}

} // namespace eventhub::http::handlers
