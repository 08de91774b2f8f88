// GET /actuator/health and GET /actuator/prometheus (Spring Boot Actuator conventions).
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

#include "observability/metrics.hpp"

namespace eventhub::http::handlers {
handler_fn health(const handler_context& ctx) {
  return [&ctx](const call& c) {
    ctx.services.operations.health(
        on_io<domain::health_report>(c, [c](domain::result<domain::health_report> r) {
          const domain::health_report report = r.ok() ? *r : domain::health_report{};
          auto res = json_response(report.db_up ? 200 : 503, domain::to_json(report));
          if (!report.db_up)
            res.with_header("Retry-After", "5");
          c.respond(std::move(res));
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
