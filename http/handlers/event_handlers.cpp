// GET/POST /api/events, GET/PUT/DELETE /api/events/{id}, GET /api/events/{id}/participants.
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

#include <algorithm>
#include <cctype>

namespace eventhub::http::handlers {

namespace {

void respond_page(const call& c, const domain::rendered_page& page) {
  // no-cache: clients may keep the page but must revalidate it (If-None-Match) every time,
  // so a client never shows a listing older than the server's.
  auto inm = c.req->header("if-none-match");
  if (inm && etag_matches(*inm, page.etag)) {
    response not_modified;
    not_modified.status = 304;
    return c.respond(
        not_modified.with_header("ETag", page.etag).with_header("Cache-Control", "no-cache"));
  }
  c.respond(json_response(200, page.body)
                .with_header("ETag", page.etag)
                .with_header("Cache-Control", "no-cache"));
}

} // namespace

handler_fn list_events(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto q = decode_event_query(c.req->query);
    if (auto* e = std::get_if<domain::error>(&q))
      return c.fail(*e);
    const auto& query = std::get<domain::event_query>(q);
    // A fresh page is answered right here, on this thread (the hot path); a miss asks the core.
    if (auto page = ctx.services.events.fresh_listing(query))
      return respond_page(c, *page);
    ctx.services.events.list_events(
        query, on_io<domain::rendered_page>(c, [c](domain::result<domain::rendered_page> r) {
          if (!r.ok())
            return c.fail(r.err());
          respond_page(c, *r);
        }));
  };
}

handler_fn get_event(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.events.find_event(*id, answer_json<domain::event>(c));
  };
}

handler_fn create_event(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto body = json_body(c);
    if (!body)
      return;
    auto draft = read_event_draft(*body, write_kind::create, ctx.default_currency);
    if (!draft)
      return c.fail(body->error());
    ctx.services.events.create_event(std::move(*draft), origin_of(c),
                                     answer_created<domain::event>(c, "/api/events/"));
  };
}

handler_fn update_event(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    auto body = json_body(c);
    if (!body)
      return;
    auto draft = read_event_draft(*body, write_kind::replace, ctx.default_currency);
    if (!draft)
      return c.fail(body->error());
    ctx.services.events.update_event(*id, std::move(*draft), origin_of(c),
                                     answer_json<domain::event>(c));
  };
}

handler_fn delete_event(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.events.delete_event(*id, origin_of(c), answer_no_content<domain::unit>(c));
  };
}

handler_fn list_attendees(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    auto p = paging(c, parse_query(c.req->query));
    if (!p)
      return;
    ctx.services.events.list_attendees(*id, *p, answer_json<domain::page<domain::attendee>>(c));
  };
}

} // namespace eventhub::http::handlers
