// Shared handler steps; see support.hpp.
#include "http/handlers/support.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace eventhub::http {
namespace {

std::optional<int> small_integer(const std::string& text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return v;
}

bool is_json_media_type(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(),
                            [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); }),
             type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](char ch) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  });
  return type == "application/json" || (type.rfind("application/", 0) == 0 && type.size() > 5 &&
                                        type.compare(type.size() - 5, 5, "+json") == 0);
}

} // namespace

std::optional<std::int64_t> path_id(const call& c, std::size_t index, const char* name) {
  auto id = index < c.params.size() ? parse_id(c.params[index]) : std::nullopt;
  if (!id)
    c.fail(bad_path_id(name));
  return id;
}

domain::page_request read_paging(const query_params& query,
                                 std::vector<domain::field_error>& errors) {
  domain::page_request p;
  if (const auto* page = query.get("page")) {
    auto v = small_integer(*page);
    if (!v || *v < 0)
      errors.push_back({"page", "must be an integer greater than or equal to 0"});
    else
      p.page = *v;
  }
  if (const auto* size = query.get("size")) {
    auto v = small_integer(*size);
    if (!v || *v < 1 || *v > 100)
      errors.push_back({"size", "must be an integer between 1 and 100"});
    else
      p.size = *v;
  }
  for (const auto& name : query.malformed)
    if (name == "page" || name == "size")
      errors.push_back({name, "is not a valid percent-encoded value"});
  return p;
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

domain::error invalid_parameters(std::vector<domain::field_error> errors) {
  auto e = domain::make_error(domain::error_code::invalid, "The request has invalid parameters.");
  e.field_errors = std::move(errors);
  return e;
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

} // namespace eventhub::http
