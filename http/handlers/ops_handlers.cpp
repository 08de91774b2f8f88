// GET /actuator/health and GET /actuator/prometheus (Spring Boot Actuator conventions).
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

#include "observability/metrics.hpp"

namespace eventhub::http::handlers {
namespace {

void respond_health(const call& c, const domain::health_report& report) {
  auto res = json_response(report.db_up ? 200 : 503, domain::to_json(report));
  if (!report.db_up)
    res.with_header("Retry-After", "5");
  c.respond(std::move(res));
}

} // namespace

handler_fn health(const handler_context& ctx) {
  return [&ctx](const call& c) {
    // A fresh report (the load balancer's case, many times a second) is answered right here.
    if (auto report = ctx.services.operations.fresh_health())
      return respond_health(c, *report);
    ctx.services.operations.health(
        on_io<domain::health_report>(c, [c](domain::result<domain::health_report> r) {
          respond_health(c, r.ok() ? *r : domain::health_report{});
        }));
  };
}

handler_fn prometheus(const handler_context&) {
  return [](const call& c) {
    response r;
    r.status = 200;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics::registry::global().render();
    c.respond(std::move(r));
  };
}

} // namespace eventhub::http::handlers
