// JSON shapes written by domain/json: the exact text of the login answer, the health body and
// webhook endpoints and delivery attempts, which clients parse.
#include "domain/json.hpp"

#include <catch2/catch.hpp>

using namespace eventhub;

TEST_CASE("the login answer names the token, its type, lifetime and role") {
  domain::access_token t{"abc.def.ghi", 3600, domain::role::admin};
  CHECK(domain::to_json(t) ==
        R"({"accessToken":"abc.def.ghi","tokenType":"Bearer","expiresIn":3600,"role":"ADMIN"})");
}

TEST_CASE("the health body reports the database and the cluster's members") {
  domain::health_report r;
  r.db_up = true;
  r.db_detail = "not shown";
  r.cluster_enabled = true;
  r.members = {{"node-a", "UP", true}, {"node-b", "DOWN", false}};
  CHECK(
      domain::to_json(r) ==
      R"({"status":"UP","components":{"db":{"status":"UP","details":{"database":"PostgreSQL"}},)"
      R"("cluster":{"status":"UP","details":{"enabled":true,"members":[)"
      R"({"node":"node-a","status":"UP","self":true},{"node":"node-b","status":"DOWN","self":false}]}}}})");
  CHECK(
      domain::to_json(domain::health_report{}) ==
      R"({"status":"DOWN","components":{"db":{"status":"DOWN","details":{"database":"PostgreSQL"}},)"
      R"("cluster":{"status":"UP","details":{"enabled":false,"members":[]}}}})");
}

TEST_CASE("a webhook endpoint shows its secret only when it carries one (the create answer)") {
  domain::webhook_endpoint e;
  e.id = 3;
  e.url = "https://hooks.example/x";
  e.event_types = {"hold.expired", "ticket.checked_in"};
  e.created_at = domain::from_micros(1700000000123456);
  CHECK(
      domain::to_json(e) ==
      R"({"id":3,"url":"https://hooks.example/x","eventTypes":["hold.expired","ticket.checked_in"],)"
      R"("enabled":true,"createdAt":"2023-11-14T22:13:20.123456Z"})");
  e.secret = "whsec_abc";
  CHECK(domain::to_json(e).find(R"(,"secret":"whsec_abc"})") != std::string::npos);
}

TEST_CASE("a delivery attempt without an answer has a null responseStatus") {
  domain::delivery_attempt a;
  a.webhook_id = 3;
  a.message_id = domain::webhook_message_id(17);
  a.type = "purchase.confirmed";
  a.attempt = 2;
  a.outcome = "TIMED_OUT";
  a.duration_ms = 15000;
  a.attempted_at = domain::from_micros(1700000000000000);
  CHECK(domain::to_json(a) ==
        R"({"webhookId":3,"messageId":"msg_17","type":"purchase.confirmed","attempt":2,)"
        R"("outcome":"TIMED_OUT","responseStatus":null,"durationMs":15000,)"
        R"("attemptedAt":"2023-11-14T22:13:20Z"})");
  a.response_status = 500;
  CHECK(domain::to_json(a).find(R"("responseStatus":500,)") != std::string::npos);
}

TEST_CASE("a webhook body is sent compact, the same bytes for the same stored text") {
  const std::string stored =
      R"({"type" : "purchase.confirmed", "data" : {"purchaseId" : 9007199254740993, )"
      R"("requestId" : "r \"1\" é"}})";
  const auto once = domain::compact_json(stored);
  CHECK(once == R"({"type":"purchase.confirmed","data":{"purchaseId":9007199254740993,)"
                R"("requestId":"r \"1\" é"}})");
  CHECK(domain::compact_json(stored) == once);
  CHECK(domain::compact_json("not json") == "not json");
}
