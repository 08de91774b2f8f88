// GET /v3/api-docs, GET /swagger-ui, GET /swagger-ui/ and its files (springdoc's conventions).
#include "http/handlers/handlers.hpp"

#include "http/problem.hpp"

namespace eventhub::http::handlers {

handler_fn api_docs(std::shared_ptr<const std::string> document) {
  return
      [document = std::move(document)](const call& c) { c.respond(json_response(200, document)); };
}

handler_fn swagger_ui_redirect() {
  return [](const call& c) {
    response r;
    r.status = 302;
    c.respond(std::move(r.with_header("Location", "/swagger-ui/")));
  };
}

handler_fn swagger_ui_file(const handler_context& ctx) {
  return [&ctx](const call& c) {
    const std::string name = c.params.empty() ? "" : c.params[0];
    const static_file* file = ctx.swagger_ui ? ctx.swagger_ui->find(name) : nullptr;
    if (!file) {
      const bool installed = ctx.swagger_ui && ctx.swagger_ui->find("");
      return c.respond(problem(404, "not-found",
                               installed ? "No Swagger UI file of this name."
                                         : "Swagger UI is not installed on this server (see "
                                           "docs.swagger-ui-dir).",
                               c.req->path));
    }
    response r;
    r.status = 200;
    r.content_type = file->content_type;
    r.shared_body = file->body;
    c.respond(std::move(r.with_header("X-Content-Type-Options", "nosniff")));
  };
}

} // namespace eventhub::http::handlers
