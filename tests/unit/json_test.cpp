// JSON shapes written by domain/json: the exact text of the login answer, the health body and
// the confirmation webhook, which clients and receivers parse.
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

TEST_CASE("the confirmation webhook carries the purchase and the request id, nothing else") {
  domain::confirmation c;
  c.purchase_id = 41;
  c.event_id = 7;
  c.participant_id = 12;
  c.quantity = 3;
  c.request_id = "req-\"1\"";
  c.attempts = 5; // delivery bookkeeping: not part of the body
  CHECK(domain::webhook_json(c) ==
        R"({"type":"purchase.confirmed","purchaseId":41,"eventId":7,"participantId":12,)"
        R"("quantity":3,"requestId":"req-\"1\""})");
}
