// The notifier's retry schedule: doubling from one second, capped at notify.retry-max.
#include "actors/notifier.hpp"

#include <catch2/catch.hpp>

using eventhub::actors::retry_backoff;
using std::chrono::milliseconds;

TEST_CASE("failed deliveries are retried after 1 s, 2 s, 4 s … up to notify.retry-max") {
  const milliseconds cap{60000};
  CHECK(retry_backoff(cap, 0) == milliseconds(1000));
  CHECK(retry_backoff(cap, 1) == milliseconds(2000));
  CHECK(retry_backoff(cap, 5) == milliseconds(32000));
  CHECK(retry_backoff(cap, 6) == cap);
  CHECK(retry_backoff(cap, 1000) == cap);
  CHECK(retry_backoff(milliseconds(1500), 3) == milliseconds(1500));
  CHECK(retry_backoff(cap, -3) == milliseconds(1000));
}
