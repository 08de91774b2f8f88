// GET/POST /api/events, GET/PUT/DELETE /api/events/{id}, GET /api/events/{id}/participants.
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

#include <algorithm>
#include <cctype>

namespace eventhub::http::handlers {
namespace {

/// The event body of POST and PUT, with the contract's constraints.
std::optional<domain::event_draft> read_draft(validator& v) {
  auto name = v.text("name", presence::required, {not_blank(), size(1, 200)});
  auto description = v.text("description", presence::optional, {size(0, 5000)});
  auto venue = v.text("venue", presence::required, {not_blank(), size(1, 200)});
  auto starts_at = v.time("startsAt", presence::required, {in_future()});
  auto ends_at = v.time("endsAt", presence::optional);
  auto capacity = v.integer("capacity", presence::required, 1, 1000000);
  if (starts_at && ends_at && *ends_at <= *starts_at)
    v.reject("endsAt", "must be after startsAt");
  if (!v.ok())
    return std::nullopt;
  return domain::event_draft{*name, description, *venue, *starts_at, ends_at, *capacity};
}

bool is_blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); });
}

/// Filters of GET /api/events; answers 400 naming each bad parameter.
std::optional<domain::event_query> read_query(const call& c) {
  const auto query = parse_query(c.req->query);
  std::vector<domain::field_error> errors;
  domain::event_query q;
  q.paging = read_paging(query, errors);
  // A blank q (absent, empty or only white space) filters nothing, as StringUtils.hasText would.
  if (const auto* text = query.get("q"); text && !is_blank(*text)) {
    if (utf8_length(*text) > 200)
      errors.push_back({"q", "size must be between 0 and 200"});
    q.text = *text;
  }
  for (const char* name : {"from", "to"}) {
    const auto* value = query.get(name);
    if (!value)
      continue;
    auto t = domain::parse_iso8601(*value);
    if (!t)
      errors.push_back(
          {name, "must be an ISO-8601 date-time with offset, e.g. 2027-03-01T19:30:00Z"});
    else
      (std::string(name) == "from" ? q.from : q.to) = t;
  }
  for (const auto& name : query.malformed)
    if (name == "q" || name == "from" || name == "to")
      errors.push_back({name, "is not a valid percent-encoded value"});
  if (!errors.empty()) {
    c.fail(invalid_parameters(std::move(errors)));
    return std::nullopt;
  }
  return q;
}

/// If-None-Match: a list of entity tags or "*"; weak comparison as RFC 9110 asks for GET.
bool matches(std::string_view if_none_match, const std::string& etag) {
  if (if_none_match.find('*') != std::string_view::npos)
    return true;
  std::size_t pos = 0;
  while (pos < if_none_match.size()) {
    auto comma = if_none_match.find(',', pos);
    auto tag = if_none_match.substr(pos, comma == std::string_view::npos ? std::string_view::npos
                                                                         : comma - pos);
    while (!tag.empty() && tag.front() == ' ')
      tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ')
      tag.remove_suffix(1);
    if (tag.rfind("W/", 0) == 0)
      tag.remove_prefix(2);
    if (tag == etag)
      return true;
    if (comma == std::string_view::npos)
      break;
    pos = comma + 1;
  }
  return false;
}

} // namespace

handler_fn list_events(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto q = read_query(c);
    if (!q)
      return;
    ctx.services.events.list_events(std::move(*q), [c](domain::result<domain::rendered_page> r) {
      if (!r.ok())
        return c.fail(r.err());
      // no-cache: clients may keep the page but must revalidate it (If-None-Match) every time,
      // so a client never shows a listing older than the server's.
      auto inm = c.req->header("if-none-match");
      if (inm && matches(*inm, r->etag)) {
        response not_modified;
        not_modified.status = 304;
        return c.respond(
            not_modified.with_header("ETag", r->etag).with_header("Cache-Control", "no-cache"));
      }
      c.respond(json_response(200, *r->body)
                    .with_header("ETag", r->etag)
                    .with_header("Cache-Control", "no-cache"));
    });
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
    auto draft = read_draft(*body);
    if (!draft)
      return c.fail(body->error());
    ctx.services.events.create_event(std::move(*draft),
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
    auto draft = read_draft(*body);
    if (!draft)
      return c.fail(body->error());
    ctx.services.events.update_event(*id, std::move(*draft), answer_json<domain::event>(c));
  };
}

handler_fn delete_event(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.events.delete_event(*id, answer<domain::unit>(c, [](const domain::unit&) {
      response r;
      r.status = 204;
      return r;
    }));
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
