// GET /actuator/health and GET /actuator/prometheus (Spring Boot Actuator conventions).
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"

#include "observability/metrics.hpp"

namespace eventhub::http::handlers {
namespace {

std::string health_json(const domain::health_report& r) {
  rapidjson::StringBuffer buffer;
  domain::json_writer w(buffer);
  w.StartObject();
  w.Key("status");
  w.String(r.db_up ? "UP" : "DOWN");
  w.Key("components");
  w.StartObject();
  w.Key("db");
  w.StartObject();
  w.Key("status");
  w.String(r.db_up ? "UP" : "DOWN");
  w.Key("details");
  w.StartObject();
  w.Key("database");
  w.String("PostgreSQL");
  w.EndObject();
  w.EndObject();
  w.Key("cluster");
  w.StartObject();
  w.Key("status");
  w.String("UP");
  w.Key("details");
  w.StartObject();
  w.Key("enabled");
  w.Bool(r.cluster_enabled);
  w.Key("members");
  w.StartArray();
  for (const auto& m : r.members) {
    w.StartObject();
    w.Key("node");
    w.String(m.node);
    w.Key("status");
    w.String(m.status);
    w.Key("self");
    w.Bool(m.self);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace

handler_fn health(const handler_context& ctx) {
  return [&ctx](const call& c) {
    ctx.services.operations.health([c](domain::result<domain::health_report> r) {
      domain::health_report report = r.ok() ? *r : domain::health_report{};
      auto res = json_response(report.db_up ? 200 : 503, health_json(report));
      if (!report.db_up)
        res.with_header("Retry-After", "5");
      c.respond(std::move(res));
    });
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
