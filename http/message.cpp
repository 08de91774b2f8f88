// Small helpers of the HTTP value types.
#include "http/message.hpp"

namespace eventhub::http {

std::optional<std::string_view> request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name)
      return std::string_view{value};
  return std::nullopt;
}

response json_response(int status, std::string body) {
  response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

response json_response(int status, std::shared_ptr<const std::string> body) {
  response r;
  r.status = status;
  r.content_type = "application/json";
  r.shared_body = std::move(body);
  return r;
}

} // namespace eventhub::http
