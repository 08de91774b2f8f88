// The webhook retry rules: the schedule's pause for each retry with ±10 % jitter, a longer
// Retry-After honoured (delay-seconds or an HTTP date), failed after the schedule's last pause.
#include "actors/webhook.hpp"
#include "actors/webhook_deliverer.hpp"

#include <catch2/catch.hpp>

using eventhub::actors::parse_retry_after;
using eventhub::actors::retry_delay;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("each retry waits its step of the schedule, jittered by at most 10 %") {
  const std::vector<milliseconds> schedule{milliseconds{5000}, milliseconds{300000}};
  CHECK(retry_delay(schedule, 1, 0.5, std::nullopt) == milliseconds{5000});
  CHECK(retry_delay(schedule, 1, 0.0, std::nullopt) == milliseconds{4500});
  CHECK(retry_delay(schedule, 1, 0.999999, std::nullopt) == milliseconds{5499});
  CHECK(retry_delay(schedule, 2, 0.5, std::nullopt) == milliseconds{300000});
}

TEST_CASE("after the schedule's last step a message is failed, not retried") {
  const std::vector<milliseconds> schedule{milliseconds{200}, milliseconds{200}};
  CHECK(retry_delay(schedule, 3, 0.5, std::nullopt) == std::nullopt);
  CHECK(retry_delay(schedule, 0, 0.5, std::nullopt) == std::nullopt);
}

TEST_CASE("a Retry-After longer than the step is honoured, a shorter one changes nothing") {
  const std::vector<milliseconds> schedule{milliseconds{5000}};
  CHECK(retry_delay(schedule, 1, 0.5, seconds{60}) == milliseconds{60000});
  CHECK(retry_delay(schedule, 1, 0.5, seconds{1}) == milliseconds{5000});
  CHECK(retry_delay(schedule, 1, 0.5, seconds{365 * 86400}) == milliseconds{24 * 3600 * 1000});
}

TEST_CASE("Retry-After is delay-seconds or an HTTP date") {
  CHECK(parse_retry_after("120", 1000) == seconds{120});
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470) == seconds{10});
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490) == seconds{0});
  CHECK(parse_retry_after("-5", 0) == std::nullopt);
  CHECK(parse_retry_after("soon", 0) == std::nullopt);
}
