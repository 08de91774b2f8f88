// Shared handler steps; see support.hpp.
#include "http/handlers/support.hpp"

#include "http/decoders.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace eventhub::http {
namespace {} // namespace

domain::origin origin_of(const call& c) {
  domain::origin o{std::nullopt, c.req->request_id, c.req->remote_address};
  if (c.caller)
    o.actor_id = c.caller->id;
  return o;
}

void stamp_origin(domain::purchase_request& req, const call& c) {
  req.request_id = c.req->request_id;
  req.actor_id = c.caller ? c.caller->id : 0;
  req.client_address = c.req->remote_address;
}

std::optional<std::int64_t> path_id(const call& c, std::size_t index, const char* name) {
  auto id = index < c.params.size() ? parse_id(c.params[index]) : std::nullopt;
  if (!id)
    c.fail(bad_path_id(name));
  return id;
}

std::optional<domain::page_request> paging(const call& c, const query_params& query) {
  std::vector<domain::field_error> errors;
  auto p = read_paging(query, errors);
  if (!errors.empty()) {
    c.fail(invalid_parameters(std::move(errors)));
    return std::nullopt;
  }
  return p;
}

std::optional<validator> json_body(const call& c) {
  auto type = c.req->header("content-type");
  if (!type || !is_json_media_type(*type)) {
    c.respond(problem(415, "unsupported-media-type", "The request body must be application/json.",
                      c.req->path));
    return std::nullopt;
  }
  auto parsed = validator::parse(c.req->body);
  if (auto* e = std::get_if<domain::error>(&parsed)) {
    c.fail(*e);
    return std::nullopt;
  }
  return std::move(std::get<validator>(parsed));
}

std::optional<validator> optional_json_body(const call& c) {
  if (!c.req->body.empty())
    return json_body(c);
  return std::move(std::get<validator>(validator::parse("{}")));
}

} // namespace eventhub::http
