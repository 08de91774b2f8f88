"""Operations: Prometheus metrics and structured JSON logs with request ids, over real HTTP."""
import re
import time
import unittest

from harness import Client, ServiceTestCase


def samples(text):
    """{(name, frozenset(labels)): value} from the Prometheus text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


class MetricsTest(ServiceTestCase):
    def scrape(self):
        r = self.client.get("/actuator/prometheus")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain; version=0.0.4"))
        return samples(r.text), r.text

    def value(self, metrics, name, **labels):
        return metrics.get((name, frozenset(labels.items())), 0.0)

    def test_every_family_has_help_and_type(self):
        _, text = self.scrape()
        names = set(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
        helps = set(re.findall(r"^# HELP (\S+) ", text, re.M))
        self.assertEqual({n for n, _ in names}, helps)
        for name, kind in names:
            if kind == "counter":
                self.assertTrue(name.endswith("_total"), name)

    def test_requests_latency_purchases_batches_cache_pool_cluster_and_process(self):
        token, _ = self.api.user_token()
        event = self.api.create_event(capacity=2)
        before, _ = self.scrape()
        self.client.get("/api/events?size=7")
        self.client.get("/api/events?size=7")
        path = f"/api/events/{event['id']}/purchases"
        self.assertEqual(self.client.post(path, {"quantity": 2}, token=token,
                                          headers={"Idempotency-Key": "m-1"}).status, 201)
        self.assertEqual(self.client.post(path, {"quantity": 2}, token=token,
                                          headers={"Idempotency-Key": "m-1"}).status, 200)
        self.assertEqual(self.client.post(path, {"quantity": 1}, token=token).status, 409)
        self.client.get("/no/such/path")
        after, text = self.scrape()

        def grew(name, by=1, **labels):
            self.assertGreaterEqual(self.value(after, name, **labels) - self.value(before, name, **labels), by,
                                    f"{name}{labels}")

        grew("eventhub_http_requests_total", 2, method="GET", route="/api/events", status="200")
        grew("eventhub_http_requests_total", 1, method="POST", route="/api/events/{id}/purchases", status="201")
        grew("eventhub_http_requests_total", 1, method="GET", route="unmatched", status="404")
        grew("eventhub_http_request_duration_seconds_count", 2, method="GET", route="/api/events", status="200")
        self.assertIn('eventhub_http_request_duration_seconds_bucket{method="GET",route="/api/events",status="200",le="+Inf"}', text)
        grew("eventhub_purchases_total", 1, outcome="confirmed")
        grew("eventhub_purchases_total", 1, outcome="replayed")
        grew("eventhub_purchases_total", 1, outcome="sold_out")
        grew("eventhub_purchase_batch_size_count", 1)
        grew("eventhub_listing_cache_requests_total", 1, result="miss")
        grew("eventhub_listing_cache_requests_total", 1, result="hit")
        self.assertEqual(self.value(after, "eventhub_db_pool_connections"), 4)
        self.assertIn(("eventhub_db_pool_busy_connections", frozenset()), after)
        self.assertIn(("eventhub_db_pool_waiting_jobs", frozenset()), after)
        self.assertEqual(self.value(after, "eventhub_cluster_members"), 1)
        self.assertGreater(self.value(after, "process_resident_memory_bytes"), 1e6)
        self.assertGreater(self.value(after, "process_start_time_seconds"), time.time() - 3600)
        self.assertGreaterEqual(self.value(after, "eventhub_http_connections"), 1)


class StructuredLogTest(ServiceTestCase):
    service_args = ("--log.format", "json")

    def access_line(self, request_id, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.service.log_lines("http.request"):
                if line.get("request_id") == request_id:
                    return line
            time.sleep(0.1)
        self.fail(f"no access log line for {request_id}")

    def test_one_json_line_per_request_with_method_route_status_duration_and_request_id(self):
        r = self.client.get("/api/events/12345", headers={"X-Request-Id": "ops-test-1"})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("x-request-id"), "ops-test-1")
        line = self.access_line("ops-test-1")
        self.assertEqual((line["method"], line["route"], line["status"]), ("GET", "/api/events/{id}", 404))
        self.assertGreaterEqual(line["duration_ms"], 0)
        for key in ("ts", "level", "event"):
            self.assertIn(key, line)
        self.assertEqual(sum(1 for l in self.service.log_lines("http.request") if l.get("request_id") == "ops-test-1"), 1)

    def test_generated_request_ids_are_logged_and_returned(self):
        r = self.client.get("/actuator/health")
        rid = r.header("x-request-id")
        self.assertTrue(rid)
        self.assertEqual(self.access_line(rid)["route"], "/actuator/health")

    def test_every_line_is_json(self):
        self.client.get("/actuator/health")
        time.sleep(1.2)  # lines are flushed at least every second
        lines = [l for l in self.service.output().splitlines() if l.strip()]
        self.assertTrue(lines)
        for l in lines:
            self.assertTrue(l.startswith("{") and l.endswith("}"), l)

    def test_every_response_carries_a_request_id(self):
        c = Client(self.service.port)
        for r in (c.get("/nope"), c.request("PATCH", "/api/events"), c.post("/api/events", {}),
                  c.post("/api/auth/login", raw_body=b"x" * 70000)):
            self.assertTrue(r.header("x-request-id"), r)
        c.close()


if __name__ == "__main__":
    unittest.main()
