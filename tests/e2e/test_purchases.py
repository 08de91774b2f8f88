"""Purchases: group commit in actor mode and the classic lock-per-request mode, idempotency
keys, sales closing, the transactional outbox and the notifier (log line, webhook)."""
import base64
import hashlib
import hmac
import http.server
import json
import random
import re
import secrets
import threading
import time
import unittest
import uuid

import psycopg2

from harness import Api, Client, Service, ServiceTestCase, TestDatabase, free_port, iso_in, metric, pg_dsn


def buy(port, token, event_id, quantity=1, key=None, request_id=None, ticket_type_id=None):
    """One purchase on a connection of its own, as a separate buyer would."""
    headers = {}
    if key is not None:
        headers["Idempotency-Key"] = key
    if request_id:
        headers["X-Request-Id"] = request_id
    c = Client(port)
    try:
        body = {"quantity": quantity}
        if ticket_type_id is not None:
            body["ticketTypeId"] = ticket_type_id
        return c.post(f"/api/events/{event_id}/purchases", body, token=token, headers=headers)
    finally:
        c.close()


def concurrently(n, fn):
    """Runs fn(i) on n threads released at once; returns the results in order."""
    results = [None] * n
    start = threading.Barrier(n)

    def run(i):
        start.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # recorded, asserted by the caller
            results[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def consistency(db, event_id):
    rows = db.query(
        "SELECT e.capacity, e.tickets_sold, coalesce(sum(p.quantity), 0), count(p.id) "
        "FROM events e LEFT JOIN purchases p ON p.event_id = e.id WHERE e.id = %s GROUP BY e.id", event_id)
    capacity, sold, total, purchases = rows[0]
    return {"capacity": capacity, "sold": sold, "sum": total, "purchases": purchases}


def assert_confirmations_delivered(test, db, services, event_id=None, timeout=30):
    """The outbox drains, and every purchase (of the event) has its purchase.confirmed log line on
    one of the services (run with --log.format json): each confirmation delivered at least once."""
    where, args = ("WHERE event_id = %s", (event_id,)) if event_id is not None else ("", ())
    test.assertTrue(wait_until(
        lambda: db.scalar("SELECT count(*) FROM pending_confirmations " + where, *args) == 0, timeout),
        "confirmations left undelivered")
    purchases = {row[0] for row in db.query("SELECT id FROM purchases " + where, *args)}
    logged = set()
    for service in services:
        logged |= {line["purchase_id"] for line in service.log_lines("purchase.confirmed")}
    test.assertEqual(purchases - logged, set(), "a confirmation was never delivered")


class PurchaseBasicsTest(ServiceTestCase):
    service_args = ("--purchase.max-per-order", "4", "--log.format", "json")

    def setUp(self):
        self.token, self.me = self.api.user_token()

    def test_a_purchase_is_201_with_location_and_readable_by_its_owner_and_admin(self):
        event = self.api.create_event(capacity=10)
        r = self.client.post(f"/api/events/{event['id']}/purchases", {"quantity": 2}, token=self.token)
        self.assertEqual(r.status, 201, r)
        p = r.json
        self.assertEqual((p["eventId"], p["participantId"], p["quantity"], p["status"]),
                         (event["id"], self.me["id"], 2, "CONFIRMED"))
        self.assertEqual(r.header("location"), f"/api/purchases/{p['id']}")
        self.assertEqual(self.client.get(r.header("location"), token=self.token).json, p)
        self.assertEqual(self.client.get(r.header("location"), token=self.api.admin_token()).json, p)
        other, _ = self.api.user_token()
        self.assertProblem(self.client.get(r.header("location"), token=other), 404)
        self.assertEqual(self.client.get(f"/api/events/{event['id']}").json["ticketsSold"], 2)

    def test_my_purchases_are_listed_newest_first_with_paging(self):
        event = self.api.create_event(capacity=10)
        ids = [self.client.post(f"/api/events/{event['id']}/purchases", {"quantity": 1}, token=self.token).json["id"]
               for _ in range(3)]
        page = self.client.get("/api/me/purchases?size=2", token=self.token).json
        self.assertEqual([p["id"] for p in page["items"]], ids[::-1][:2])
        self.assertEqual((page["totalItems"], page["totalPages"], page["page"], page["size"]), (3, 2, 0, 2))
        second = self.client.get("/api/me/purchases?size=2&page=1", token=self.token).json
        self.assertEqual([p["id"] for p in second["items"]], [ids[0]])
        self.assertProblem(self.client.get("/api/me/purchases", token=self.api.admin_token()), 403)
        self.assertEqual(self.field_errors(self.client.get("/api/me/purchases?size=0", token=self.token)),
                         {"size": "must be an integer between 1 and 100"})

    def test_event_participants_sum_tickets_per_participant(self):
        event = self.api.create_event(capacity=10)
        for q in (1, 2):
            self.client.post(f"/api/events/{event['id']}/purchases", {"quantity": q}, token=self.token)
        other, other_p = self.api.user_token()
        self.client.post(f"/api/events/{event['id']}/purchases", {"quantity": 4}, token=other)
        page = self.client.get(f"/api/events/{event['id']}/participants", token=self.api.admin_token()).json
        self.assertEqual([(i["participant"]["id"], i["ticketsPurchased"]) for i in page["items"]],
                         sorted([(self.me["id"], 3), (other_p["id"], 4)]))
        self.assertNotIn("password", json.dumps(page).lower())
        self.assertProblem(self.client.get(f"/api/events/{event['id']}/participants", token=self.token), 403)
        self.assertProblem(self.client.get("/api/events/999999/participants", token=self.api.admin_token()), 404)

    def test_bad_requests_change_nothing(self):
        event = self.api.create_event(capacity=10)
        path = f"/api/events/{event['id']}/purchases"
        self.assertEqual(self.field_errors(self.client.post(path, {"quantity": 0}, token=self.token)),
                         {"quantity": "must be greater than or equal to 1"})
        self.assertEqual(self.field_errors(self.client.post(path, {"quantity": 5}, token=self.token)),
                         {"quantity": "must be less than or equal to 4"})  # purchase.max-per-order
        self.assertIn("quantity", self.field_errors(self.client.post(path, {"quantity": "2"}, token=self.token)))
        self.assertIn("quantity", self.field_errors(self.client.post(path, {}, token=self.token)))
        self.assertProblem(self.client.post(path, raw_body=b"{", token=self.token), 400)
        self.assertProblem(self.client.post(path, raw_body=b"quantity=1", token=self.token,
                                            content_type="application/x-www-form-urlencoded"), 415)
        self.assertIn("Idempotency-Key", self.field_errors(
            self.client.post(path, {"quantity": 1}, token=self.token, headers={"Idempotency-Key": ""})))
        self.assertIn("Idempotency-Key", self.field_errors(
            self.client.post(path, {"quantity": 1}, token=self.token, headers={"Idempotency-Key": "k" * 65})))
        self.assertProblem(self.client.post("/api/events/abc/purchases", {"quantity": 1}, token=self.token), 400)
        self.assertProblem(self.client.post("/api/events/999999/purchases", {"quantity": 1}, token=self.token), 404)
        self.assertProblem(self.client.post(path, {"quantity": 1}, token=self.api.admin_token()), 403)
        self.assertProblem(self.client.post(path, {"quantity": 1}), 401)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", event["id"]), 0)

    def test_sold_out_says_how_many_are_left(self):
        event = self.api.create_event(capacity=3)
        path = f"/api/events/{event['id']}/purchases"
        self.assertEqual(self.client.post(path, {"quantity": 2}, token=self.token).status, 201)
        body = self.assertProblem(self.client.post(path, {"quantity": 2}, token=self.token), 409, "sold-out")
        self.assertEqual(body["ticketsAvailable"], 1)
        self.assertEqual(self.client.post(path, {"quantity": 1}, token=self.token).status, 201)
        self.assertEqual(self.assertProblem(self.client.post(path, {"quantity": 1}, token=self.token),
                                            409, "sold-out")["ticketsAvailable"], 0)

    def test_capacity_raised_by_an_admin_sells_again(self):
        event = self.api.create_event(capacity=1)
        path = f"/api/events/{event['id']}/purchases"
        self.assertEqual(self.client.post(path, {"quantity": 1}, token=self.token).status, 201)
        self.assertEqual(self.client.post(path, {"quantity": 1}, token=self.token).status, 409)
        body = {k: event[k] for k in ("name", "venue", "startsAt")}
        body["capacity"] = 2
        self.assertEqual(self.client.put(f"/api/events/{event['id']}", body, token=self.api.admin_token()).status, 200)
        self.assertEqual(self.client.post(path, {"quantity": 1}, token=self.token).status, 201)

    def test_sales_close_at_starts_at(self):
        event = self.api.create_event(capacity=5)
        self.db.query("UPDATE events SET starts_at = now() - interval '1 minute' WHERE id = %s", event["id"])
        r = self.client.post(f"/api/events/{event['id']}/purchases", {"quantity": 1}, token=self.token)
        self.assertProblem(r, 409, "sales-closed")
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", event["id"]), 0)

    def test_confirmation_log_line_carries_the_request_id(self):
        event = self.api.create_event(capacity=5)
        rid = "req-" + uuid.uuid4().hex
        r = self.client.post(f"/api/events/{event['id']}/purchases", {"quantity": 2}, token=self.token,
                             headers={"X-Request-Id": rid})
        self.assertEqual(r.header("x-request-id"), rid)
        line = self.wait_for_log("purchase.confirmed", lambda l: l.get("purchase_id") == r.json["id"])
        self.assertEqual((line["event_id"], line["participant_id"], line["quantity"], line["request_id"]),
                         (event["id"], self.me["id"], 2, rid))
        access = self.wait_for_log("http.request", lambda l: l.get("request_id") == rid)
        self.assertEqual(access["status"], 201)
        self.assertTrue(wait_until(lambda: self.db.scalar(  # delivered: its outbox row is gone
            "SELECT count(*) FROM pending_confirmations WHERE purchase_id = %s", r.json["id"]) == 0))

    def wait_for_log(self, event, predicate, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.service.log_lines(event):
                if predicate(line):
                    return line
            time.sleep(0.1)
        self.fail(f"no {event} log line")

    def metric(self, name):
        return metric(self.client, name)


def wait_until(predicate, timeout=15, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class IdempotencyTest(ServiceTestCase):
    def setUp(self):
        self.token, self.me = self.api.user_token()

    def post(self, event_id, quantity, key, token=None):
        return self.client.post(f"/api/events/{event_id}/purchases", {"quantity": quantity},
                                token=token or self.token, headers={"Idempotency-Key": key})

    def test_a_repeated_key_returns_the_original_purchase_even_after_sold_out(self):
        event = self.api.create_event(capacity=2)
        first = self.post(event["id"], 2, "order-1")
        self.assertEqual(first.status, 201)
        again = self.post(event["id"], 2, "order-1")
        self.assertEqual(again.status, 200)
        self.assertEqual(again.header("idempotent-replayed"), "true")
        self.assertEqual(again.json, first.json)
        self.assertEqual(again.header("location"), first.header("location"))
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", event["id"]), 2)

    def test_the_same_key_with_another_body_or_event_is_422(self):
        event = self.api.create_event(capacity=10)
        other = self.api.create_event(capacity=10)
        self.assertEqual(self.post(event["id"], 1, "order-2").status, 201)
        self.assertProblem(self.post(event["id"], 2, "order-2"), 422)
        self.assertProblem(self.post(other["id"], 1, "order-2"), 422)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE participant_id = %s", self.me["id"]), 1)

    def test_keys_belong_to_one_participant(self):
        event = self.api.create_event(capacity=10)
        other, _ = self.api.user_token()
        self.assertEqual(self.post(event["id"], 1, "shared-key").status, 201)
        self.assertEqual(self.post(event["id"], 1, "shared-key", token=other).status, 201)

    def test_a_key_whose_request_failed_can_be_used_again(self):
        event = self.api.create_event(capacity=1)
        self.assertEqual(self.post(event["id"], 2, "order-3").status, 409)
        self.assertEqual(self.post(event["id"], 1, "order-3").status, 201)

    def test_concurrent_duplicates_make_one_purchase(self):
        event = self.api.create_event(capacity=100)
        results = concurrently(40, lambda i: buy(self.service.port, self.token, event["id"], 3, key="dup-key"))
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses.count(201), 1, statuses)
        self.assertEqual(statuses.count(200), 39, statuses)
        self.assertEqual(len({r.json["id"] for r in results}), 1)
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", event["id"]), 3)

    def test_concurrent_duplicates_across_events_make_one_purchase(self):
        events = [self.api.create_event(capacity=100) for _ in range(4)]
        results = concurrently(20, lambda i: buy(self.service.port, self.token, events[i % 4]["id"], 1, key="cross"))
        statuses = [r.status for r in results]
        self.assertEqual(statuses.count(201), 1, statuses)
        winner = next(r for r in results if r.status == 201).json["eventId"]
        for r, i in zip(results, range(20)):
            if r.status != 201:
                self.assertEqual(r.status, 200 if events[i % 4]["id"] == winner else 422, r)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE participant_id = %s", self.me["id"]), 1)


class LastTicketsRaceMixin:
    """Hundreds of buyers, each on its own connection, for the last tickets, several rounds."""

    buyers = 200

    def race(self, service, db, api, capacity, rounds=3, services=None):
        tokens = [api.user_token()[0] for _ in range(20)]
        ports = [s.port for s in (services or [service])]
        for _ in range(rounds):
            event = api.create_event(capacity=capacity)
            results = concurrently(self.buyers, lambda i: buy(ports[i % len(ports)], tokens[i % len(tokens)],
                                                              event["id"], random.choice((1, 1, 2))))
            errors = [r for r in results if isinstance(r, Exception)]
            self.assertFalse(errors, errors[:3])
            statuses = [r.status for r in results]
            self.assertEqual(set(statuses) - {201, 409}, set(), [r for r in results if r.status not in (201, 409)][:3])
            sold = sum(r.json["quantity"] for r in results if r.status == 201)
            c = consistency(db, event["id"])
            self.assertEqual(c["sold"], capacity, c)
            self.assertEqual(sold, capacity, c)
            self.assertEqual(c["sum"], capacity, c)
            assert_confirmations_delivered(self, db, services or [service], event["id"])
            for r in results:
                if r.status == 409:
                    self.assertTrue(r.json["type"].endswith("/sold-out"), r)


class ActorModeRaceTest(LastTicketsRaceMixin, ServiceTestCase):
    service_args = ("--db.pool-size", "4", "--log.format", "json")

    def test_exactly_capacity_is_sold(self):
        self.race(self.service, self.db, self.api, capacity=37)


class LockPerRequestModeRaceTest(LastTicketsRaceMixin, ServiceTestCase):
    # One transaction at a time holds the event's row lock, so 200 buyers queue behind each
    # other: under ThreadSanitizer the last ones wait longer than the default 10 s request
    # timeout. This test is about how many are sold, not how fast (bench/purchases measures it).
    service_args = ("--purchase.mode", "lock-per-request", "--db.pool-size", "8", "--log.format", "json",
                    "--http.request-timeout", "60s")

    def test_exactly_capacity_is_sold(self):
        self.race(self.service, self.db, self.api, capacity=37)


class TwoProcessesTest(LastTicketsRaceMixin, unittest.TestCase):
    def test_two_servers_selling_one_event_from_one_database(self):
        db = TestDatabase()
        secret = uuid.uuid4().hex * 2
        try:
            for mode in ("actor", "lock-per-request"):
                services = [Service(db.url, "--purchase.mode", mode, "--log.format", "json", secret=secret,
                                    name=f"{mode}-{i}").start()
                            for i in range(2)]
                try:
                    api = Api(services[0].client())
                    self.race(services[0], db, api, capacity=41, rounds=2, services=services)
                finally:
                    for s in services:
                        self.assertEqual(s.stop(), 0)
        finally:
            db.drop()


class DatabaseFailureTest(ServiceTestCase):
    service_args = ("--db.lock-timeout", "300ms")

    def test_a_batch_that_cannot_get_the_row_lock_fails_whole_with_503(self):
        token, _ = self.api.user_token()
        event = self.api.create_event(capacity=10)
        blocker = self.db.connect()
        blocker.autocommit = False
        cur = blocker.cursor()
        cur.execute("SELECT * FROM events WHERE id = %s FOR UPDATE", (event["id"],))
        try:
            results = concurrently(5, lambda i: buy(self.service.port, token, event["id"]))
            for r in results:
                self.assertProblem(r, 503)
                self.assertIsNotNone(r.header("retry-after"))
        finally:
            blocker.rollback()
            blocker.close()
        self.assertEqual(consistency(self.db, event["id"])["purchases"], 0)
        self.assertEqual(buy(self.service.port, token, event["id"]).status, 201)
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", event["id"]), 1)


class PassivationTest(ServiceTestCase):
    service_args = ("--purchase.idle-timeout", "200ms")

    def test_idle_event_actors_are_passivated_and_come_back(self):
        token, _ = self.api.user_token()
        events = [self.api.create_event(capacity=5) for _ in range(5)]
        for e in events:
            self.assertEqual(buy(self.service.port, token, e["id"]).status, 201)
        self.assertTrue(wait_until(lambda: self.live_actors() == 0, timeout=5))
        self.assertEqual(buy(self.service.port, token, events[0]["id"]).status, 201)
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", events[0]["id"]), 2)

    def live_actors(self):
        m = re.search(r"^eventhub_event_actors (\S+)$", self.client.get("/actuator/prometheus").text, re.M)
        return float(m.group(1)) if m else -1


def webhook_secret(size=32):
    """A Standard Webhooks secret: `whsec_` + base64 of `size` random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(size)).decode()


def webhook_signature_valid(secret, headers, raw):
    """True when the webhook-signature header holds `v1,<base64 HMAC-SHA256(secret bytes,
    "<webhook-id>.<webhook-timestamp>.<raw body>")>` (computed here, independently of the server)."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + raw
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(s, expected) for s in (headers.get("webhook-signature") or "").split(" "))


class WebhookRequest:
    """One request a WebhookReceiver got: when, its path, headers (lower-case names), raw body,
    parsed body (None when not JSON), `n` (how many requests of the same webhook-id came before),
    the status answered and when."""

    def __init__(self, at, path, headers, raw, n):
        self.at, self.path, self.headers, self.raw, self.n = at, path, headers, raw, n
        try:
            self.body = json.loads(raw)
        except ValueError:
            self.body = None
        self.status = self.answered = None

    @property
    def id(self):
        return self.headers.get("webhook-id")

    def __repr__(self):
        return f"<{self.id} #{self.n} {self.status} {self.raw[:200]!r}>"


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up (a time-out) or a connection reset: nothing to report


class WebhookReceiver:
    """An HTTP server recording POSTed webhooks. `received`: (parsed body, headers, raw body) of
    each request answered 2xx; `requests`: every request (WebhookRequest). The first `failures`
    requests answer 500; `answer(request)` (optional) picks the answer of the others: a status, or
    (status, headers), or (status, headers, seconds to wait before answering). `secret` is the
    endpoint's signing secret when the receiver serves the configured endpoint (webhook_args), or
    whatever the test sets. stop() takes it off the network and start() brings it back on its port."""

    def __init__(self, failures=0, answer=None, secret=None, port=0, start=True):
        self.received, self.requests, self.failures, self.lock = [], [], failures, threading.Lock()
        self.answer, self.secret, self.server = answer, secret or webhook_secret(), None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/confirmations"
        if start:
            self.start()

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    n = sum(1 for r in receiver.requests if r.id == headers.get("webhook-id"))
                    request = WebhookRequest(time.time(), self.path, headers, raw, n)
                    receiver.requests.append(request)
                    fail = receiver.failures > 0
                    if fail:
                        receiver.failures -= 1
                answer = (500, {}, 0) if fail else receiver._answer(request)
                status, extra, wait = answer
                if wait:
                    time.sleep(wait)
                request.status, request.answered = status, time.time()
                if 200 <= status < 300:
                    with receiver.lock:
                        receiver.received.append((request.body, headers, raw))
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass
        self.server = _QuietServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def _answer(self, request):
        a = self.answer(request) if self.answer else 204
        a = [a] if isinstance(a, int) else list(a)
        a += [{}, 0][len(a) - 1:]
        return a[0], a[1], a[2]

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    close = stop

    def snapshot(self):
        """(received, requests), copies taken under the lock."""
        with self.lock:
            return list(self.received), list(self.requests)

    def bodies(self, type_=None, **data):
        """The parsed bodies answered 2xx, of one type and with these `data` fields if given."""
        return [b for b, _, _ in self.snapshot()[0]
                if isinstance(b, dict) and (type_ is None or b.get("type") == type_)
                and all((b.get("data") or {}).get(k) == v for k, v in data.items())]


RETRY_FAST = "200ms,200ms,200ms,200ms,200ms"


def webhook_args(receiver, schedule=RETRY_FAST):
    """The settings of a service whose configured endpoint (notify.webhook-url) is `receiver`."""
    return ("--notify.webhook-url", receiver.url, "--notify.webhook-secret", receiver.secret,
            "--notify.allow-private-targets", "true", "--notify.retry-schedule", schedule)


class WebhookTest(unittest.TestCase):
    def test_confirmations_are_posted_signed_and_retried_until_delivered(self):
        receiver = WebhookReceiver(failures=2)
        db = TestDatabase()
        svc = Service(db.url, *webhook_args(receiver), "--notify.sweep-interval", "100ms").start()
        try:
            api = Api(svc.client())
            token, me = api.user_token()
            event = api.create_event(capacity=10)
            ids = [buy(svc.port, token, event["id"], 1, request_id=f"hook-{i}").json["id"] for i in range(3)]
            self.assertTrue(wait_until(lambda: {b["data"]["purchaseId"] for b in receiver.bodies()} >= set(ids),
                                       20), receiver.requests)
            got = {b["data"]["purchaseId"]: (b, h, raw) for b, h, raw in receiver.received}
            ids_of = {}
            for i, pid in enumerate(ids):
                body, headers, raw = got[pid]
                self.assertEqual(set(body), {"type", "timestamp", "data"}, body)
                self.assertEqual(body["type"], "purchase.confirmed")
                data = body["data"]
                self.assertEqual((data["purchaseId"], data["eventId"], data["participantId"], data["quantity"],
                                  data["requestId"]), (pid, event["id"], me["id"], 1, f"hook-{i}"))
                self.assertTrue(webhook_signature_valid(receiver.secret, headers, raw), headers)
                self.assertRegex(headers["webhook-id"], r"^msg_\w+$")
                ids_of[pid] = headers["webhook-id"]
            self.assertEqual(len(set(ids_of.values())), 3, ids_of)  # one id per message
            for r in receiver.requests:  # a retry carries its message's id
                if r.body and r.body["data"]["purchaseId"] in ids_of:
                    self.assertEqual(r.id, ids_of[r.body["data"]["purchaseId"]], r)
            self.assertEqual(sum(1 for r in receiver.requests if r.status == 500), 2)
            self.assertTrue(wait_until(lambda: db.scalar("SELECT count(*) FROM pending_confirmations") == 0))
            admin = api.admin_token()
            hooks = svc.client().get("/api/webhooks", token=admin).json["items"]
            self.assertEqual([h["url"] for h in hooks], [receiver.url], hooks)
            def attempts():
                r = svc.client().get(f"/api/webhooks/{hooks[0]['id']}/deliveries?size=100", token=admin)
                self.assertEqual(r.status, 200, r)
                return r.json["items"]
            self.assertTrue(wait_until(lambda: len(attempts()) >= 5), attempts())
            self.assertEqual(sorted((a["outcome"], a["responseStatus"]) for a in attempts()),
                             [("DELIVERED", 204)] * 3 + [("FAILED", 500)] * 2, attempts)  # retried
            self.assertEqual(svc.stop(), 0)
        finally:
            svc.kill()
            receiver.close()
            db.drop()


class CrashTest(unittest.TestCase):
    def test_kill_9_during_load_loses_no_confirmed_purchase_and_delivers_every_confirmation(self):
        db = TestDatabase()
        args = ("--notify.sweep-interval", "200ms", "--notify.redelivery-delay", "1s", "--log.format", "json")
        svc = Service(db.url, *args).start()
        try:
            api = Api(svc.client())
            tokens = [api.user_token()[0] for _ in range(10)]
            event = api.create_event(capacity=100000)
            confirmed, stop = [], threading.Event()
            lock = threading.Lock()

            def buyer(i):
                c = Client(svc.port, timeout=5)
                while not stop.is_set():
                    try:
                        r = c.post(f"/api/events/{event['id']}/purchases", {"quantity": 1}, token=tokens[i % 10])
                    except OSError:
                        return
                    if r.status == 201:
                        with lock:
                            confirmed.append(r.json["id"])
            threads = [threading.Thread(target=buyer, args=(i,)) for i in range(16)]
            for t in threads:
                t.start()
            self.assertTrue(wait_until(lambda: len(confirmed) >= 300, 30))
            svc.kill()
            stop.set()
            for t in threads:
                t.join()
            with lock:
                seen = list(confirmed)
            present = {row[0] for row in db.query("SELECT id FROM purchases WHERE id = ANY(%s)", seen)}
            self.assertEqual(set(seen) - present, set(), "a purchase confirmed to a client was lost")
            c = consistency(db, event["id"])
            self.assertEqual(c["sold"], c["sum"], c)

            svc.start()  # its log file holds the lines of both runs
            assert_confirmations_delivered(self, db, [svc])
            self.assertEqual(svc.stop(), 0)
        finally:
            svc.kill()
            db.drop()


if __name__ == "__main__":
    unittest.main()
