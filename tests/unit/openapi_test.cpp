// The OpenAPI document against the route table: every route documented and every documented
// operation routed (both ways), security and 401/403 from each route's access, path parameters
// declared, every $ref resolvable; and openapi_document refusing documentation that disagrees.
#include "domain/json.hpp"
#include "http/embedded_docs.hpp"
#include "http/openapi.hpp"
#include "http/routes.hpp"

#include <rapidjson/pointer.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

using namespace eventhub;
using namespace eventhub::http;

namespace {

/// make_routes() needs services to bind handlers to; no handler runs here but the docs one.
struct null_services final : domain::participant_service,
                             domain::event_service,
                             domain::purchase_service,
                             domain::hold_service,
                             domain::waitlist_service,
                             domain::ticket_service,
                             domain::webhook_service,
                             domain::audit_service,
                             domain::operations_service {
  void register_participant(domain::new_participant, domain::origin,
                            domain::reply<domain::participant>) override {}
  void login(domain::login_request, domain::reply<domain::access_token>) override {}
  void find_participant(std::int64_t, domain::reply<domain::participant>) override {}
  void list_participants(domain::page_request,
                         domain::reply<domain::page<domain::participant>>) override {}
  std::optional<domain::rendered_page> fresh_listing(const domain::event_query&) override {
    return std::nullopt;
  }
  void list_events(domain::event_query, domain::reply<domain::rendered_page>) override {}
  void find_event(std::int64_t, domain::reply<domain::event>) override {}
  void create_event(domain::event_draft, domain::origin, domain::reply<domain::event>) override {}
  void update_event(std::int64_t, domain::event_draft, domain::origin,
                    domain::reply<domain::event>) override {}
  void delete_event(std::int64_t, domain::origin, domain::reply<domain::unit>) override {}
  void list_attendees(std::int64_t, domain::page_request,
                      domain::reply<domain::page<domain::attendee>>) override {}
  void create_ticket_type(std::int64_t, domain::ticket_type_draft, domain::origin,
                          domain::reply<domain::ticket_type_view>) override {}
  void find_ticket_type(std::int64_t, std::int64_t,
                        domain::reply<domain::ticket_type_view>) override {}
  void update_ticket_type(std::int64_t, std::int64_t, domain::ticket_type_draft, domain::origin,
                          domain::reply<domain::ticket_type_view>) override {}
  void delete_ticket_type(std::int64_t, std::int64_t, domain::origin,
                          domain::reply<domain::unit>) override {}
  void purchase(domain::purchase_request, domain::reply<domain::purchase_outcome>) override {}
  void find_purchase(std::int64_t, domain::principal, domain::reply<domain::purchase>) override {}
  void list_purchases(std::int64_t, domain::page_request,
                      domain::reply<domain::page<domain::purchase>>) override {}
  void cancel_purchase(domain::purchase_request, domain::principal,
                       domain::reply<domain::purchase_outcome>) override {}
  void create_hold(domain::purchase_request, domain::reply<domain::purchase_outcome>) override {}
  void settle_hold(domain::purchase_request, domain::principal,
                   domain::reply<domain::purchase_outcome>) override {}
  void find_hold(std::int64_t, domain::principal, domain::reply<domain::hold>) override {}
  void list_holds(std::int64_t, domain::page_request,
                  domain::reply<domain::page<domain::hold>>) override {}
  void join_waitlist(domain::purchase_request, domain::reply<domain::purchase_outcome>) override {}
  void leave_waitlist(domain::purchase_request, domain::principal,
                      domain::reply<domain::purchase_outcome>) override {}
  void find_entry(std::int64_t, domain::principal, domain::reply<domain::waitlist_entry>) override {
  }
  void list_entries_of(std::int64_t, domain::page_request,
                       domain::reply<domain::page<domain::waitlist_entry>>) override {}
  void list_event_entries(std::int64_t, domain::page_request,
                          domain::reply<domain::page<domain::waitlist_entry>>) override {}
  void purchase_tickets(std::int64_t, domain::principal,
                        domain::reply<std::vector<domain::ticket>>) override {}
  void list_tickets(std::int64_t, std::optional<std::int64_t>, domain::page_request,
                    domain::reply<domain::page<domain::ticket>>) override {}
  void find_ticket(std::int64_t, domain::principal, domain::reply<domain::ticket>) override {}
  void checkin_key(std::int64_t, domain::reply<domain::checkin_key>) override {}
  void check_in(std::int64_t, std::vector<domain::scan>, domain::origin,
                domain::reply<std::vector<domain::scan_outcome>>) override {}
  void checkin_stats(std::int64_t, domain::reply<domain::checkin_stats>) override {}
  void create_webhook(domain::webhook_draft, domain::origin,
                      domain::reply<domain::webhook_endpoint>) override {}
  void list_webhooks(domain::page_request,
                     domain::reply<domain::page<domain::webhook_endpoint>>) override {}
  void find_webhook(std::int64_t, domain::reply<domain::webhook_endpoint>) override {}
  void delete_webhook(std::int64_t, domain::origin, domain::reply<domain::unit>) override {}
  void list_deliveries(std::int64_t, domain::page_request,
                       domain::reply<domain::page<domain::delivery_attempt>>) override {}
  void list_audit(domain::audit_query, domain::reply<domain::page<domain::audit_entry>>) override {}
  std::optional<domain::health_report> fresh_health() override { return std::nullopt; }
  void health(domain::reply<domain::health_report>) override {}
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return s;
}

/// The body GET /v3/api-docs answers, through the route's own handler.
std::string served_document(const std::vector<route>& routes) {
  auto docs = std::find_if(routes.begin(), routes.end(),
                           [](const route& r) { return r.pattern == "/v3/api-docs"; });
  REQUIRE(docs != routes.end());
  response out;
  call c{std::make_shared<const request>(), {}, std::nullopt, [&out](response r) {
           out = std::move(r);
         }};
  docs->handle(c);
  REQUIRE(out.status == 200);
  REQUIRE(out.content_type == "application/json");
  return out.body_text();
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

/// A "$ref" target of this document, or nullptr.
const rapidjson::Value* resolve(const rapidjson::Document& doc, const rapidjson::Value& ref) {
  std::string target = ref["$ref"].GetString();
  if (target.rfind("#", 0) != 0)
    return nullptr;
  return rapidjson::Pointer(target.substr(1).c_str()).Get(doc);
}

void collect_refs(const rapidjson::Value& v, std::vector<const rapidjson::Value*>& out) {
  if (v.IsObject()) {
    if (v.HasMember("$ref"))
      out.push_back(&v);
    for (const auto& m : v.GetObject())
      collect_refs(m.value, out);
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray())
      collect_refs(item, out);
  }
}

std::vector<std::string> path_parameters(const std::string& pattern) {
  std::vector<std::string> names;
  for (const auto& segment : split_path(pattern))
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}')
      names.push_back(segment.substr(1, segment.size() - 2));
  return names;
}

struct fixture {
  null_services services;
  handler_context ctx{
      {services, services, services, services, services, services, services, services, services},
      10,
      nullptr};
  std::vector<route> routes = make_routes(ctx);
  rapidjson::Document doc = parse(served_document(routes));

  const rapidjson::Value& operation(const route& r) {
    return doc["paths"][r.pattern.c_str()][lower(r.method).c_str()];
  }
};

const char* minimal_base = R"({
  "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
  "paths": {"/a": {"get": {"description": "A.", "responses": {"200": {"description": "ok"}}}}},
  "components": {"schemas": {"PurchaseRequest": {"type": "object",
    "properties": {"quantity": {"type": "integer", "maximum": 10}}}}}
})";

handler_fn no_handler() {
  return [](const call&) {};
}

} // namespace

TEST_CASE_METHOD(fixture, "every route is documented and every documented operation is routed") {
  std::set<std::pair<std::string, std::string>> routed, documented;
  for (const auto& r : routes)
    routed.insert({r.pattern, lower(r.method)});
  for (const auto& path : doc["paths"].GetObject())
    for (const auto& op : path.value.GetObject())
      documented.insert({path.name.GetString(), op.name.GetString()});
  CHECK(routed == documented);
  CHECK(routed.count({"/v3/api-docs", "get"}));
  CHECK(routed.count({"/swagger-ui/", "get"}));
  CHECK(routed.count({"/swagger-ui", "get"}));
}

TEST_CASE_METHOD(fixture, "security, 401 and 403 follow each route's access") {
  for (const auto& r : routes) {
    INFO(r.method << " " << r.pattern << " (" << to_string(r.access) << ")");
    const auto& op = operation(r);
    const auto& responses = op["responses"];
    CHECK(op["summary"].GetString() == r.summary);
    const std::string description = op["description"].GetString();
    if (r.access == access::anyone) {
      CHECK_FALSE(op.HasMember("security"));
      CHECK(description.find("**Access:** anyone") != std::string::npos);
      continue;
    }
    REQUIRE(op.HasMember("security"));
    CHECK(op["security"].Size() == 1);
    CHECK(op["security"][0].HasMember("bearerAuth"));
    CHECK(std::string(responses["401"]["$ref"].GetString()) ==
          "#/components/responses/Unauthorized");
    const auto roles = roles_of(r.access);
    CHECK(responses.HasMember("403") == !roles.empty());
    for (auto role : roles)
      CHECK(description.find(std::string("`") + domain::to_string(role) + "`") !=
            std::string::npos);
  }
}

TEST_CASE_METHOD(fixture, "path parameters are declared, operation ids unique, refs resolve") {
  std::set<std::string> operation_ids;
  for (const auto& r : routes) {
    INFO(r.method << " " << r.pattern);
    const auto& op = operation(r);
    REQUIRE(op.HasMember("operationId"));
    CHECK(operation_ids.insert(op["operationId"].GetString()).second);
    CHECK(op["tags"].Size() >= 1);
    std::set<std::string> declared;
    for (const auto& p : op["parameters"].GetArray()) {
      const rapidjson::Value* param = p.HasMember("$ref") ? resolve(doc, p) : &p;
      REQUIRE(param);
      if (std::string((*param)["in"].GetString()) == "path") {
        CHECK((*param)["required"].GetBool());
        declared.insert((*param)["name"].GetString());
      }
    }
    const auto names = path_parameters(r.pattern);
    CHECK(declared == std::set<std::string>(names.begin(), names.end()));
  }
  std::vector<const rapidjson::Value*> refs;
  collect_refs(doc, refs);
  CHECK(refs.size() > 100);
  for (const auto* ref : refs) {
    INFO(ref->operator[]("$ref").GetString());
    CHECK(resolve(doc, *ref) != nullptr);
  }
}

TEST_CASE_METHOD(fixture, "errors are problem+json with errors[] and ticketsAvailable") {
  const auto& problem = doc["components"]["schemas"]["Problem"];
  for (const char* field :
       {"type", "title", "status", "detail", "instance", "errors", "ticketsAvailable"})
    CHECK(problem["properties"].HasMember(field));
  const auto& purchase = doc["paths"]["/api/events/{id}/purchases"]["post"]["responses"];
  CHECK(purchase["409"]["content"]["application/problem+json"]["examples"]["soldOut"]["value"]
            .HasMember("ticketsAvailable"));
  for (const char* status :
       {"200", "201", "400", "401", "403", "404", "409", "413", "415", "422", "503"})
    CHECK(purchase.HasMember(status));
}

TEST_CASE("the documented purchase maximum is purchase.max-per-order") {
  null_services services;
  handler_context ctx{
      {services, services, services, services, services, services, services, services, services},
      4,
      nullptr};
  auto doc = parse(served_document(make_routes(ctx)));
  CHECK(rapidjson::Pointer("/components/schemas/PurchaseRequest/properties/quantity/maximum")
            .Get(doc)
            ->GetInt() == 4);
}

TEST_CASE("openapi_document refuses documentation that disagrees with the routes") {
  const openapi_options options;
  SECTION("a route without documentation") {
    std::vector<route> routes{{"GET", "/a", access::anyone, no_handler(), "A"},
                              {"POST", "/b", access::admin, no_handler(), "B"}};
    CHECK_THROWS_WITH(openapi_document(routes, minimal_base, options),
                      Catch::Contains("POST /b: the route is not documented"));
  }
  SECTION("documentation without a route") {
    CHECK_THROWS_WITH(openapi_document({}, minimal_base, options),
                      Catch::Contains("get /a: documented in http/openapi.json but no route"));
  }
  SECTION("a method documented on a routed path but not routed") {
    std::vector<route> routes{{"PUT", "/a", access::anyone, no_handler(), "A"}};
    CHECK_THROWS_WITH(openapi_document(routes, minimal_base, options),
                      Catch::Contains("get /a: documented"));
  }
  SECTION("summary, security or 401 written by hand") {
    std::string base = minimal_base;
    const std::string description = R"("description": "A.")";
    base.replace(base.find(description), description.size(),
                 R"("description": "A.", "summary": "x", "security": [])");
    std::vector<route> routes{{"GET", "/a", access::admin, no_handler(), "A"}};
    try {
      openapi_document(routes, base, options);
      FAIL("accepted");
    } catch (const openapi_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("remove its summary"));
      CHECK_THAT(e.what(), Catch::Contains("remove its security"));
    }
  }
  SECTION("a syntax error") {
    CHECK_THROWS_AS(openapi_document({}, "{\"openapi\": ", options), openapi_error);
  }
  SECTION("matching documentation is completed") {
    std::vector<route> routes{{"GET", "/a", access::user, no_handler(), "Read A"}};
    auto doc = parse(openapi_document(routes, minimal_base, {3}));
    const auto& op = doc["paths"]["/a"]["get"];
    CHECK(std::string(op["summary"].GetString()) == "Read A");
    CHECK(op["responses"].HasMember("401"));
    CHECK(op["responses"].HasMember("403"));
    CHECK(op["responses"]["200"]["headers"].HasMember("X-Request-Id"));
    CHECK(rapidjson::Pointer("/components/schemas/PurchaseRequest/properties/quantity/maximum")
              .Get(doc)
              ->GetInt() == 3);
  }
}

TEST_CASE("the embedded http/openapi.json is the repository's file") {
  std::ifstream in(std::string(EVENTHUB_SOURCE_DIR) + "/http/openapi.json");
  REQUIRE(in);
  std::stringstream file;
  file << in.rdbuf();
  CHECK(file.str() == std::string(embedded_openapi_json()));
}
