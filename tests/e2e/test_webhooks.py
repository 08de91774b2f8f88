"""Webhooks over real HTTP against real PostgreSQL (docs/api.md, "Webhooks"): the endpoints'
API (POST, GET, DELETE /api/webhooks, GET /api/webhooks/{id}/deliveries; ADMIN only; bad bodies
400 naming the field; the secret shown once; loopback, private, link-local, multicast and
unresolvable targets 422 naming url unless notify.allow-private-targets, the configured endpoint
listed and not deletable); deliveries by the Standard Webhooks spec, every notification type with
its data, signed per endpoint and verified here with Python's hmac and by the official npm package
`standardwebhooks` (tests/node/verify_standardwebhooks.js), endpoints filtered by type; retries
per notify.retry-schedule with the same webhook-id and a fresh signature, Retry-After honoured,
the attempts in the deliveries API, the schedule exhausted, 410 disabling an endpoint at once,
redirects not followed, time-outs; a slow endpoint not delaying a fast one; and a receiver down
for a while and a kill -9 of the server while messages are pending losing no confirmation."""
import base64
import json
import os
import re
import subprocess
import time
import unittest
import uuid

import node_tools
from harness import Api, Service, ServiceTestCase, TestDatabase
from test_holds import ts
from test_purchases import (WebhookReceiver, buy, concurrently, wait_until, webhook_args, webhook_secret,
                            webhook_signature_valid)

TYPES = ["purchase.confirmed", "purchase.cancelled", "hold.expired", "waitlist.offered", "ticket.checked_in"]
ENDPOINT_KEYS = {"id", "url", "eventTypes", "enabled", "createdAt"}
PAGE_KEYS = {"items", "page", "size", "totalItems", "totalPages"}
ATTEMPT_KEYS = {"webhookId", "messageId", "type", "attempt", "outcome", "responseStatus", "durationMs",
                "attemptedAt"}
DATA_KEYS = {
    "purchase.confirmed": {"purchaseId", "eventId", "participantId", "ticketTypeId", "quantity", "totalCents",
                           "currency", "requestId"},
    "purchase.cancelled": {"purchaseId", "eventId", "participantId", "quantity", "refundedCents", "currency",
                           "requestId"},
    "hold.expired": {"holdId", "eventId", "participantId", "quantity"},
    "waitlist.offered": {"waitlistEntryId", "holdId", "eventId", "participantId", "quantity", "expiresAt"},
    "ticket.checked_in": {"ticketId", "eventId", "purchaseId", "checkedInAt"},
}
SUBJECT = {"purchase.confirmed": "purchaseId", "purchase.cancelled": "purchaseId", "hold.expired": "holdId",
           "waitlist.offered": "waitlistEntryId", "ticket.checked_in": "ticketId"}
TIME_FIELDS = {"expiresAt", "checkedInAt"}
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|\+00:00)$")
UNKNOWN = 987654321
CONFIRMATIONS = ["purchase.confirmed"]


def tag():
    return uuid.uuid4().hex[:12]


def secret_bytes(secret):
    """The key of a `whsec_` secret: strict standard base64 after the prefix, else None."""
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        return None
    try:
        return base64.b64decode(secret[len("whsec_"):], validate=True)
    except ValueError:
        return None


def verify_with_node(deliveries, name):
    """Runs tests/node/verify_standardwebhooks.js (the official `standardwebhooks` package) on
    (secret, headers, raw body) deliveries; returns the finished process."""
    path = node_tools.output_path(f"webhook-deliveries-{name}-{tag()}.jsonl")
    with open(path, "w") as f:
        for secret, headers, raw in deliveries:
            record = {"secret": secret, "headers": {k: headers.get(k) for k in SIGNATURE_HEADERS}}
            try:
                record["body"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                record["bodyBase64"] = base64.b64encode(raw).decode()
            f.write(json.dumps(record) + "\n")
    r = node_tools.run("verify_standardwebhooks.js", path, timeout=60)
    if r.returncode == 0:
        os.remove(path)
    return r


def overlap(intervals):
    """The largest number of (start, end) intervals open at one instant."""
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda p: (p[0], p[1]))
    best = current = 0
    for _, delta in points:
        current += delta
        best = max(best, current)
    return best


class WebhookCase(ServiceTestCase):
    """Calls and assertions shared by the classes below."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.api.admin_token()
        cls.user, cls.me = cls.api.user_token()
        cls.staff, _ = cls.api.staff_token()

    # --- the webhooks API

    def create_hook(self, url, event_types=None, cleanup=True):
        body = {"url": url}
        if event_types is not None:
            body["eventTypes"] = event_types
        r = self.client.post("/api/webhooks", body, token=self.admin)
        self.assertEqual(r.status, 201, (body, r))
        self.assertEqual(set(r.json), ENDPOINT_KEYS | {"secret"}, r)
        if cleanup:
            self.addCleanup(self.client.delete, f"/api/webhooks/{r.json['id']}", token=self.admin)
        return r.json

    def endpoint(self, hook_id):
        r = self.client.get(f"/api/webhooks/{hook_id}", token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), ENDPOINT_KEYS, r)
        return r.json

    def endpoints(self):
        """Every endpoint listed, page by page."""
        items, page = [], 0
        while True:
            r = self.client.get(f"/api/webhooks?page={page}&size=100", token=self.admin)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(set(r.json), PAGE_KEYS, r)
            items += r.json["items"]
            page += 1
            if page >= r.json["totalPages"]:
                return items

    def deliveries(self, hook_id):
        """Every attempt of the endpoint, as listed (newest first), page by page."""
        items, page = [], 0
        while True:
            r = self.client.get(f"/api/webhooks/{hook_id}/deliveries?page={page}&size=100", token=self.admin)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(set(r.json), PAGE_KEYS, r)
            for a in r.json["items"]:
                self.assertEqual(set(a), ATTEMPT_KEYS, a)
            items += r.json["items"]
            page += 1
            if page >= r.json["totalPages"]:
                return items

    def attempts_by_message(self, hook_id):
        """{messageId: [attempt, ...] in attempt order}."""
        out = {}
        for a in self.deliveries(hook_id):
            out.setdefault(a["messageId"], []).append(a)
        return {m: sorted(v, key=lambda a: a["attempt"]) for m, v in out.items()}

    def receiver(self, event_types=None, **kw):
        """A WebhookReceiver registered as an endpoint (deleted, then closed, after the test);
        its secret is the one the POST answered."""
        receiver = WebhookReceiver(**kw)
        self.addCleanup(receiver.close)
        hook = self.create_hook(receiver.url, event_types)
        receiver.secret, receiver.hook = hook["secret"], hook
        return receiver

    # --- events, purchases

    def event(self, capacity=10, price=2500, currency="EUR"):
        return self.api.create_event(capacity=capacity, ticketTypes=[
            {"name": "Standard", "priceCents": price, "currency": currency, "quota": capacity}])

    def bought(self, event_id, quantity=1, token=None, request_id=None):
        r = buy(self.service.port, token or self.user, event_id, quantity, request_id=request_id)
        self.assertEqual(r.status, 201, r)
        return r.json

    def cancelled(self, purchase_id, quantity, token=None, request_id=None):
        r = self.client.post(f"/api/purchases/{purchase_id}/cancel", {"quantity": quantity},
                             token=token or self.admin, headers={"X-Request-Id": request_id or tag()})
        self.assertEqual(r.status, 200, r)
        return r.json

    # --- what a receiver got

    def requests_for(self, receiver, key, value):
        """The requests the receiver got whose data[key] is value, in arrival order."""
        return [r for r in receiver.snapshot()[1]
                if isinstance(r.body, dict) and (r.body.get("data") or {}).get(key) == value]

    def delivered(self, receiver, key, values, timeout=15):
        """Waits until the receiver answered 2xx to a message of each value of data[key]."""
        values = set(values)
        ok = wait_until(lambda: values <= {(b.get("data") or {}).get(key) for b in receiver.bodies()}, timeout)
        self.assertTrue(ok, (f"not delivered to {receiver.url}:",
                             values - {(b.get("data") or {}).get(key) for b in receiver.bodies()},
                             receiver.snapshot()[1][-5:]))

    def assertSigned(self, secret, request_or_headers, raw=None):
        headers = getattr(request_or_headers, "headers", request_or_headers)
        raw = getattr(request_or_headers, "raw", raw)
        self.assertRegex(headers.get("webhook-id") or "", r"^msg_[A-Za-z0-9_]+$", headers)
        self.assertRegex(headers.get("webhook-timestamp") or "", r"^[0-9]+$", headers)
        self.assertTrue(headers.get("webhook-signature", "").startswith("v1,"), headers)
        self.assertTrue(webhook_signature_valid(secret, headers, raw), (headers, raw[:300]))


class WebhookApiTest(WebhookCase):
    """The endpoints' API on a service with the default notify.allow-private-targets (false)."""

    service_args = ("--log.format", "json")

    def count(self):
        return len(self.endpoints())

    def test_create_list_get_delete_and_the_secret_is_shown_only_once(self):
        before = time.time()
        a = self.create_hook("https://8.8.8.8/hooks/" + tag(), cleanup=False)
        b = self.create_hook("http://[2001:4860:4860::8888]:8080/in", ["hold.expired", "purchase.confirmed"])
        self.assertEqual(sorted(a["eventTypes"]), sorted(TYPES), a)  # default: every type
        self.assertEqual(sorted(b["eventTypes"]), ["hold.expired", "purchase.confirmed"], b)
        self.assertEqual((a["enabled"], b["enabled"]), (True, True))
        self.assertEqual(b["url"], "http://[2001:4860:4860::8888]:8080/in")
        self.assertLess(abs(ts(a["createdAt"]) - (before + time.time()) / 2), 30, a)
        for h in (a, b):
            key = secret_bytes(h["secret"])
            self.assertIsNotNone(key, h["secret"])
            self.assertEqual(len(key), 32, h["secret"])
            self.assertEqual(h["secret"], "whsec_" + base64.b64encode(key).decode())
        self.assertNotEqual(a["secret"], b["secret"])
        self.assertNotEqual(a["id"], b["id"])

        # GET shows it without the secret, in the listing too
        for h in (a, b):
            got = self.endpoint(h["id"])
            self.assertEqual(got, {k: v for k, v in h.items() if k != "secret"})
            r = self.client.get(f"/api/webhooks/{h['id']}", token=self.admin)
            self.assertNotIn(h["secret"], r.text)
            self.assertNotIn(h["secret"][len("whsec_"):], r.text)
        r = self.client.get("/api/webhooks", token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["page"], r.json["size"]), (0, 20), r)
        listed = {h["id"]: h for h in r.json["items"]}
        self.assertEqual(listed[a["id"]], self.endpoint(a["id"]))
        self.assertEqual(listed[b["id"]], self.endpoint(b["id"]))
        for h in (a, b):
            self.assertNotIn(h["secret"][len("whsec_"):], r.text)
            self.assertNotIn(h["secret"][len("whsec_"):], self.service.output(), "a secret in the log")
        total = r.json["totalItems"]
        self.assertGreaterEqual(total, 2)
        one = self.client.get("/api/webhooks?page=1&size=1", token=self.admin).json
        self.assertEqual((one["page"], one["size"], one["totalItems"], one["totalPages"], len(one["items"])),
                         (1, 1, total, total, 1), one)
        self.assertEqual(set(one["items"][0]), ENDPOINT_KEYS)
        # a new endpoint has no attempts yet
        fresh = self.client.get(f"/api/webhooks/{a['id']}/deliveries", token=self.admin)
        self.assertEqual(fresh.status, 200, fresh)
        self.assertEqual((fresh.json["items"], fresh.json["totalItems"], fresh.json["totalPages"]), ([], 0, 0))

        # DELETE: 204, then it is gone
        r = self.client.delete(f"/api/webhooks/{a['id']}", token=self.admin)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assertProblem(self.client.get(f"/api/webhooks/{a['id']}", token=self.admin), 404)
        self.assertProblem(self.client.delete(f"/api/webhooks/{a['id']}", token=self.admin), 404)
        self.assertProblem(self.client.get(f"/api/webhooks/{a['id']}/deliveries", token=self.admin), 404)
        self.assertNotIn(a["id"], {h["id"] for h in self.endpoints()})
        self.assertIn(b["id"], {h["id"] for h in self.endpoints()})
        for path in (f"/api/webhooks/{UNKNOWN}", f"/api/webhooks/{UNKNOWN}/deliveries"):
            self.assertProblem(self.client.get(path, token=self.admin), 404)
        for path in ("/api/webhooks", f"/api/webhooks/{b['id']}/deliveries"):
            for query, field in (("size=0", "size"), ("size=101", "size"), ("page=-1", "page"), ("page=x", "page")):
                with self.subTest(path=path, query=query):
                    self.assertIn(field, self.field_errors(self.client.get(f"{path}?{query}", token=self.admin)))
        self.assertProblem(self.client.delete(f"/api/webhooks/{UNKNOWN}", token=self.admin), 404)

    def test_only_an_admin_may_use_the_webhooks_api(self):
        h = self.create_hook("https://8.8.4.4/hooks/" + tag())
        before = self.endpoints()
        calls = [("POST", "/api/webhooks", {"url": "https://8.8.8.8/x"}), ("GET", "/api/webhooks", None),
                 ("GET", f"/api/webhooks/{h['id']}", None), ("DELETE", f"/api/webhooks/{h['id']}", None),
                 ("GET", f"/api/webhooks/{h['id']}/deliveries", None)]
        for who, token, status in (("USER", self.user, 403), ("STAFF", self.staff, 403), ("nobody", None, 401)):
            for method, path, body in calls:
                with self.subTest(who=who, method=method, path=path):
                    r = self.client.request(method, path, body=body, token=token)
                    self.assertProblem(r, status)
        self.assertEqual(self.endpoints(), before, "a refused call changed the endpoints")

    def test_bad_bodies_are_400_naming_the_field(self):
        before = self.count()
        good = "https://8.8.8.8/hooks"
        cases = [({}, "url"), ({"url": ""}, "url"), ({"url": None}, "url"), ({"url": 42}, "url"),
                 ({"url": ["https://8.8.8.8/"]}, "url"), ({"url": "not a url"}, "url"), ({"url": "8.8.8.8/x"}, "url"),
                 ({"url": "ftp://8.8.8.8/x"}, "url"), ({"url": "file:///etc/passwd"}, "url"),
                 ({"url": "mailto:ops@example.com"}, "url"), ({"url": "javascript:alert(1)"}, "url"),
                 ({"url": "http://"}, "url"), ({"url": "https://" + "a" * 2100 + ".com/"}, "url"),
                 ({"url": good, "eventTypes": []}, "eventTypes"),
                 ({"url": good, "eventTypes": ["purchase.confirmed", "purchase.refunded"]}, "eventTypes"),
                 ({"url": good, "eventTypes": ["PURCHASE.CONFIRMED"]}, "eventTypes"),
                 ({"url": good, "eventTypes": "purchase.confirmed"}, "eventTypes"),
                 ({"url": good, "eventTypes": [1]}, "eventTypes"),
                 ({"url": good, "eventTypes": [None]}, "eventTypes")]
        for body, field in cases:
            with self.subTest(body=json.dumps(body)[:80]):
                r = self.client.post("/api/webhooks", body, token=self.admin)
                self.assertIn(field, self.field_errors(r), r)
        both = self.field_errors(self.client.post("/api/webhooks", {"url": "ftp://x", "eventTypes": ["nope"]},
                                                  token=self.admin))
        self.assertEqual(set(both), {"url", "eventTypes"}, both)
        for raw in (b"", b"{", b"[]", b'"https://8.8.8.8/"', b"null"):
            with self.subTest(raw=raw):
                self.assertProblem(self.client.post("/api/webhooks", raw_body=raw, token=self.admin), 400)
        self.assertEqual(self.count(), before, "a refused body created an endpoint")

    def test_loopback_private_link_local_multicast_and_unresolvable_targets_are_422_naming_url(self):
        before = self.count()
        refused = ["http://127.0.0.1/hook", "http://127.0.0.1:8080/hook", "http://localhost/hook",
                   "http://localhost:9000/hook", "http://[::1]/hook", "http://[::1]:8443/hook",
                   "http://10.0.0.5/hook", "https://10.255.255.254/hook", "http://192.168.1.1/hook",
                   "http://172.16.0.1/hook", "http://172.31.255.254/hook", "http://169.254.169.254/latest/meta-data/",
                   "http://224.0.0.1/hook", "http://0.0.0.0/hook", "http://[fd00::1]/hook",
                   f"http://no-such-host-{tag()}.invalid/hook"]
        for url in refused:
            with self.subTest(url=url):
                r = self.client.post("/api/webhooks", {"url": url}, token=self.admin)
                body = self.assertProblem(r, 422)
                self.assertIn("url", [e.get("field") for e in body.get("errors") or []], r)
        # other spellings of the same networks: refused too (400 or 422), never registered
        for url in ["http://127.1/hook", "http://2130706433/hook", "http://0x7f000001/hook",
                    "http://[::ffff:127.0.0.1]/hook", "http://[::ffff:a00:1]/hook", "http://LOCALHOST/hook",
                    "http://localhost./hook", "http://user:pw@127.0.0.1/hook", "http://[fe80::1]/hook",
                    "http://[ff02::1]/hook", "http://[::]/hook", "http://[fc00::1]/hook"]:
            with self.subTest(url=url):
                r = self.client.post("/api/webhooks", {"url": url}, token=self.admin)
                self.assertIn(r.status, (400, 422), r)
                body = self.assertProblem(r, r.status)
                self.assertIn("url", [e.get("field") for e in body.get("errors") or []], r)
        self.assertEqual(self.count(), before, "a refused target was registered")
        self.create_hook("http://8.8.8.8:8080/ok")  # a public address is fine


class WebhookDeliveryTest(WebhookCase):
    """Deliveries from one service: private targets allowed (the receivers are on 127.0.0.1), a
    configured endpoint, two retries 200 ms apart, holds of 2 s."""

    configured = None

    @classmethod
    def setUpClass(cls):
        cls.configured = WebhookReceiver()
        cls.service_args = (*webhook_args(cls.configured, "200ms,200ms"), "--notify.sweep-interval", "100ms",
                            "--notify.timeout", "10s", "--hold.ttl", "2s", "--hold.sweep-interval", "200ms",
                            "--log.format", "json")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.configured.close()

    def test_loopback_targets_are_accepted_when_private_targets_are_allowed(self):
        for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook",
                    "http://10.1.2.3/hook", "http://192.168.0.10:8080/hook"):
            with self.subTest(url=url):
                h = self.create_hook(url)
                self.assertEqual((h["url"], h["enabled"]), (url, True), h)

    def test_the_configured_endpoint_is_listed_and_cannot_be_deleted(self):
        mine = [h for h in self.endpoints() if h["url"] == self.configured.url]
        self.assertEqual(len(mine), 1, self.endpoints())
        h = mine[0]
        self.assertEqual((sorted(h["eventTypes"]), h["enabled"]), (sorted(TYPES), True), h)
        self.assertEqual(self.endpoint(h["id"]), h)
        self.assertProblem(self.client.delete(f"/api/webhooks/{h['id']}", token=self.admin), 409)
        self.assertEqual(self.endpoint(h["id"]), h)
        self.assertNotIn(self.configured.secret[len("whsec_"):], self.service.output(), "the secret in the log")

    def test_every_type_arrives_with_its_data_signed_per_endpoint(self):
        start = time.time()
        mine = self.receiver()                               # every type, the secret POST answered
        checkins = self.receiver(["ticket.checked_in"])      # one type only
        expiries = self.receiver(["hold.expired", "waitlist.offered"])
        self.assertNotEqual(mine.secret, self.configured.secret)
        ev = self.event(capacity=10, price=2500, currency="EUR")
        type_id = ev["ticketTypes"][0]["id"]
        expected = {}  # (type, subject) -> data

        # a hold left to expire (hold.ttl 2s)
        r = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 2}, token=self.user)
        self.assertEqual(r.status, 201, r)
        hold = r.json
        expected[("hold.expired", hold["id"])] = {"holdId": hold["id"], "eventId": ev["id"],
                                                  "participantId": self.me["id"], "quantity": 2}
        # a purchase, part of it cancelled
        rid = "buy-" + tag()
        p = self.bought(ev["id"], 3, request_id=rid)
        expected[("purchase.confirmed", p["id"])] = {
            "purchaseId": p["id"], "eventId": ev["id"], "participantId": self.me["id"], "ticketTypeId": type_id,
            "quantity": 3, "totalCents": 7500, "currency": "EUR", "requestId": rid}
        rid = "cancel-" + tag()
        self.cancelled(p["id"], 1, request_id=rid)
        expected[("purchase.cancelled", p["id"])] = {
            "purchaseId": p["id"], "eventId": ev["id"], "participantId": self.me["id"], "quantity": 1,
            "refundedCents": 2500, "currency": "EUR", "requestId": rid}
        # a check-in of one of its tickets still valid
        r = self.client.get(f"/api/purchases/{p['id']}/tickets", token=self.user)
        self.assertEqual(r.status, 200, r)
        ticket = [t for t in r.json if t["status"] == "VALID"][0]
        r = self.client.post(f"/api/events/{ev['id']}/checkins", {"code": ticket["code"]}, token=self.staff)
        self.assertEqual(r.status, 201, r)
        expected[("ticket.checked_in", ticket["id"])] = {"ticketId": ticket["id"], "eventId": ev["id"],
                                                         "purchaseId": p["id"], "checkedInAt": r.json["checkedInAt"]}
        # a waitlist offer: a sold-out event, a waiting buyer, the seller's purchase cancelled
        sold_out = self.event(capacity=1, price=1000, currency="EUR")
        seller, seller_me = self.api.user_token()
        rid = "sell-" + tag()
        q = self.bought(sold_out["id"], 1, token=seller, request_id=rid)
        expected[("purchase.confirmed", q["id"])] = {
            "purchaseId": q["id"], "eventId": sold_out["id"], "participantId": seller_me["id"],
            "ticketTypeId": sold_out["ticketTypes"][0]["id"], "quantity": 1, "totalCents": 1000, "currency": "EUR",
            "requestId": rid}
        r = self.client.post(f"/api/events/{sold_out['id']}/waitlist", {"quantity": 1}, token=self.user)
        self.assertEqual(r.status, 201, r)
        entry = r.json
        rid = "free-" + tag()
        self.cancelled(q["id"], 1, request_id=rid)
        expected[("purchase.cancelled", q["id"])] = {
            "purchaseId": q["id"], "eventId": sold_out["id"], "participantId": seller_me["id"], "quantity": 1,
            "refundedCents": 1000, "currency": "EUR", "requestId": rid}
        r = self.client.get(f"/api/waitlist/{entry['id']}", token=self.user)
        self.assertEqual((r.status, r.json["status"]), (200, "OFFERED"), r)
        offer = self.client.get(f"/api/holds/{r.json['holdId']}", token=self.user).json
        expected[("waitlist.offered", entry["id"])] = {
            "waitlistEntryId": entry["id"], "holdId": offer["id"], "eventId": sold_out["id"],
            "participantId": self.me["id"], "quantity": 1, "expiresAt": offer["expiresAt"]}
        events = {ev["id"], sold_out["id"]}

        def ours(receiver):
            """{(type, subject): [requests answered 2xx]} of this test's events."""
            out = {}
            for req in receiver.snapshot()[1]:
                b = req.body
                if req.status is not None and 200 <= req.status < 300 and isinstance(b, dict) \
                        and (b.get("data") or {}).get("eventId") in events:
                    out.setdefault((b.get("type"), b["data"].get(SUBJECT.get(b.get("type")))), []).append(req)
            return out

        wanted = {"configured": (self.configured, set(expected)), "mine": (mine, set(expected)),
                  "checkins": (checkins, {k for k in expected if k[0] == "ticket.checked_in"}),
                  "expiries": (expiries, {k for k in expected if k[0] in ("hold.expired", "waitlist.offered")})}
        for name, (receiver, keys) in wanted.items():
            self.assertTrue(wait_until(lambda: keys <= set(ours(receiver)), timeout=20),
                            (name, keys - set(ours(receiver)), receiver.snapshot()[1][-5:]))
        time.sleep(0.5)  # ten sweeps: anything not subscribed to would have come by now
        to_node, ids = [], {}
        for name, (receiver, keys) in wanted.items():
            got = ours(receiver)
            self.assertEqual(set(got), keys, f"{name} got types it did not subscribe to")
            for req in receiver.snapshot()[1]:  # whatever else came: only subscribed types
                if name in ("checkins", "expiries") and isinstance(req.body, dict):
                    self.assertIn(req.body.get("type"), receiver.hook["eventTypes"], req)
            for key, reqs in got.items():
                with self.subTest(endpoint=name, message=key):
                    self.assertEqual(len({r.id for r in reqs}), 1, reqs)  # repeats keep their id
                    ids[(name, key)] = reqs[0].id
                    for req in reqs:
                        body = req.body
                        self.assertEqual(set(body), {"type", "timestamp", "data"}, body)
                        self.assertEqual(set(body["data"]), DATA_KEYS[key[0]], body)
                        want = expected[key]
                        self.assertEqual({k: v for k, v in body["data"].items() if k not in TIME_FIELDS},
                                         {k: v for k, v in want.items() if k not in TIME_FIELDS}, body)
                        for k in TIME_FIELDS & set(want):
                            self.assertAlmostEqual(ts(body["data"][k]), ts(want[k]), delta=0.001, msg=body)
                        self.assertRegex(body["timestamp"], ISO_UTC)
                        self.assertTrue(start - 5 <= ts(body["timestamp"]) <= time.time() + 5, body)
                        self.assertLess(abs(int(req.headers["webhook-timestamp"]) - req.at), 10, req.headers)
                        self.assertEqual(req.headers.get("content-type", "").split(";")[0].strip(),
                                         "application/json", req.headers)
                        self.assertSigned(receiver.secret, req)
                        other = self.configured.secret if receiver is not self.configured else mine.secret
                        self.assertFalse(webhook_signature_valid(other, req.headers, req.raw),
                                         "signed with another endpoint's secret")
                        to_node.append((receiver.secret, req.headers, req.raw))
        # one webhook-id per message and endpoint
        self.assertEqual(len(set(ids.values())), len(ids), ids)

        r = verify_with_node(to_node, "types")
        self.assertEqual(r.returncode, 0, f"standardwebhooks refused a delivery:\n{r.stdout}\n{r.stderr}")
        self.assertIn(f"verified {len(to_node)} deliveries", r.stdout)
        # the check can fail: a delivery under the wrong secret, or with another id, is refused
        secret, headers, raw = to_node[0]
        r = verify_with_node([(webhook_secret(), headers, raw), (secret, dict(headers, **{"webhook-id": "msg_0"}),
                                                                  raw)], "forged")
        self.assertEqual(r.returncode, 1, (r.stdout, r.stderr))
        self.assertIn("2 failure(s)", r.stderr)

    def test_a_failed_attempt_is_retried_with_the_same_id_and_a_fresh_signature(self):
        receiver = self.receiver(CONFIRMATIONS, answer=lambda req: 500 if req.n == 0 else 204)
        ev = self.event()
        pids = [self.bought(ev["id"])["id"] for _ in range(3)]
        self.delivered(receiver, "purchaseId", pids)
        header_ids = {}
        for pid in pids:
            reqs = self.requests_for(receiver, "purchaseId", pid)
            with self.subTest(purchase=pid):
                self.assertEqual([r.status for r in reqs], [500, 204], reqs)
                first, retry = reqs
                self.assertEqual(first.id, retry.id)
                self.assertGreaterEqual(int(retry.headers["webhook-timestamp"]),
                                        int(first.headers["webhook-timestamp"]))
                self.assertGreaterEqual(retry.at - first.answered, 0.15, "retried before the 200ms pause")
                self.assertEqual((retry.body["type"], retry.body["data"]), (first.body["type"], first.body["data"]))
                self.assertSigned(receiver.secret, first)
                self.assertSigned(receiver.secret, retry)
                header_ids[first.id] = pid
        # the deliveries API: attempt 1 FAILED (500), attempt 2 DELIVERED, newest first
        hook_id = receiver.hook["id"]
        self.assertTrue(wait_until(lambda: all(len(self.attempts_by_message(hook_id).get(m, [])) == 2
                                               for m in header_ids), timeout=10), self.deliveries(hook_id))
        listed = self.deliveries(hook_id)
        self.assertEqual(len(listed), 6, listed)
        for message_id, attempts in self.attempts_by_message(hook_id).items():
            self.assertIn(message_id, header_ids)
            self.assertEqual([(a["attempt"], a["outcome"], a["responseStatus"], a["type"], a["webhookId"])
                              for a in attempts],
                             [(1, "FAILED", 500, "purchase.confirmed", hook_id),
                              (2, "DELIVERED", 204, "purchase.confirmed", hook_id)], attempts)
            for a in attempts:
                self.assertIsInstance(a["durationMs"], int, a)
                self.assertTrue(0 <= a["durationMs"] < 10000, a)
                self.assertRegex(a["attemptedAt"], ISO_UTC)
            self.assertLess(listed.index(attempts[1]), listed.index(attempts[0]), "not newest first")
        page = self.client.get(f"/api/webhooks/{hook_id}/deliveries?page=1&size=4", token=self.admin).json
        self.assertEqual((page["page"], page["size"], page["totalItems"], page["totalPages"], page["items"]),
                         (1, 4, 6, 2, listed[4:]), page)
        times = [ts(a["attemptedAt"]) for a in listed]
        self.assertEqual(times, sorted(times, reverse=True),
                         f"not newest first: {[(a['messageId'], a['attempt'], a['attemptedAt']) for a in listed]}")

    def test_retry_after_is_honoured(self):
        receiver = self.receiver(CONFIRMATIONS, answer=lambda req: (503, {"Retry-After": "2"}) if req.n == 0 else 204)
        ev = self.event()
        pid = self.bought(ev["id"])["id"]
        self.delivered(receiver, "purchaseId", [pid], timeout=15)
        first, retry = self.requests_for(receiver, "purchaseId", pid)
        self.assertEqual((first.status, retry.status, first.id), (503, 204, retry.id))
        waited = retry.at - first.answered
        self.assertGreaterEqual(waited, 1.8, "Retry-After: 2 not honoured (the schedule says 200ms)")
        self.assertLess(waited, 6, "retried far later than Retry-After asked")
        self.assertTrue(wait_until(lambda: len(self.deliveries(receiver.hook["id"])) == 2, timeout=5))
        self.assertEqual([(a["attempt"], a["outcome"], a["responseStatus"]) for a in
                          self.deliveries(receiver.hook["id"])], [(2, "DELIVERED", 204), (1, "FAILED", 503)])

    def test_410_disables_the_endpoint_at_once_and_the_others_keep_receiving(self):
        gone = self.receiver(CONFIRMATIONS, answer=lambda req: 410)
        alive = self.receiver(CONFIRMATIONS)
        ev = self.event()
        first = self.bought(ev["id"])["id"]
        self.assertTrue(wait_until(lambda: self.requests_for(gone, "purchaseId", first), timeout=10))
        self.assertTrue(wait_until(lambda: self.endpoint(gone.hook["id"])["enabled"] is False, timeout=10),
                        self.endpoint(gone.hook["id"]))
        self.assertEqual({h["id"]: h["enabled"] for h in self.endpoints()}.get(gone.hook["id"]), False)
        self.assertTrue(wait_until(lambda: [l for l in self.service.log_lines("webhook.disabled")
                                            if gone.hook["id"] in l.values()
                                            or str(gone.hook["id"]) in map(str, l.values())], timeout=10),
                        self.service.log_lines("webhook.disabled"))
        self.assertTrue(wait_until(lambda: self.deliveries(gone.hook["id"]), timeout=10))
        self.assertEqual([(a["attempt"], a["outcome"], a["responseStatus"]) for a in self.deliveries(gone.hook["id"])],
                         [(1, "GONE", 410)])
        more = [self.bought(ev["id"])["id"] for _ in range(3)]
        self.delivered(alive, "purchaseId", [first] + more)
        time.sleep(1)  # five times the retry pause, ten sweeps: a delivery to the disabled endpoint would be here
        self.assertEqual([(r.body["data"]["purchaseId"], r.status) for r in gone.snapshot()[1]], [(first, 410)],
                         "a disabled endpoint got more deliveries")
        self.assertEqual(len(self.deliveries(gone.hook["id"])), 1)
        self.assertFalse(self.endpoint(gone.hook["id"])["enabled"])

    def test_after_the_last_retry_of_the_schedule_the_message_is_failed(self):
        receiver = self.receiver(CONFIRMATIONS, answer=lambda req: 500)
        ev = self.event()
        pids = [self.bought(ev["id"])["id"] for _ in range(2)]
        hook_id = receiver.hook["id"]
        self.assertTrue(wait_until(lambda: len(self.deliveries(hook_id)) >= 6, timeout=10), self.deliveries(hook_id))
        time.sleep(1.2)  # six times the schedule's pause: a fourth attempt would have come
        for pid in pids:
            reqs = self.requests_for(receiver, "purchaseId", pid)
            with self.subTest(purchase=pid):
                self.assertEqual(len(reqs), 3, reqs)  # the first attempt and two retries
                self.assertEqual(len({r.id for r in reqs}), 1, reqs)
                for a, b in zip(reqs, reqs[1:]):
                    self.assertGreaterEqual(b.at - a.answered, 0.15, reqs)
                for r in reqs:
                    self.assertSigned(receiver.secret, r)
        by_message = self.attempts_by_message(hook_id)
        self.assertEqual(len(by_message), 2, by_message)
        for attempts in by_message.values():
            self.assertEqual([(a["attempt"], a["outcome"], a["responseStatus"]) for a in attempts],
                             [(1, "FAILED", 500), (2, "FAILED", 500), (3, "FAILED", 500)], attempts)
        self.delivered(self.configured, "purchaseId", pids)  # the other endpoints are not held up
        self.assertTrue(self.endpoint(hook_id)["enabled"])    # failing is not gone

    def test_a_redirect_is_not_followed(self):
        target = WebhookReceiver()
        self.addCleanup(target.close)
        redirecting = self.receiver(CONFIRMATIONS, answer=lambda req: (302, {"Location": target.url}))
        ev = self.event()
        pid = self.bought(ev["id"])["id"]
        hook_id = redirecting.hook["id"]
        self.assertTrue(wait_until(lambda: len(self.deliveries(hook_id)) >= 3, timeout=10), self.deliveries(hook_id))
        time.sleep(0.6)
        self.assertEqual([r.status for r in self.requests_for(redirecting, "purchaseId", pid)], [302] * 3)
        self.assertEqual(target.snapshot()[1], [], "the redirect was followed")
        self.assertEqual([(a["attempt"], a["outcome"], a["responseStatus"]) for a in self.deliveries(hook_id)],
                         [(3, "FAILED", 302), (2, "FAILED", 302), (1, "FAILED", 302)])

    def test_a_deleted_endpoint_gets_nothing_more(self):
        receiver = self.receiver(CONFIRMATIONS, answer=lambda req: (503, {"Retry-After": "1"}))
        ev = self.event()
        pid = self.bought(ev["id"])["id"]
        self.assertTrue(wait_until(lambda: self.requests_for(receiver, "purchaseId", pid), timeout=10))
        r = self.client.delete(f"/api/webhooks/{receiver.hook['id']}", token=self.admin)
        self.assertEqual(r.status, 204, r)
        self.assertTrue(len(self.requests_for(receiver, "purchaseId", pid)) == 1, "retried before Retry-After")
        self.delivered(self.configured, "purchaseId", [pid])
        time.sleep(1.6)  # the retry was due 1 s after the first attempt
        self.assertEqual(len(self.requests_for(receiver, "purchaseId", pid)), 1,
                         "a deleted endpoint still got a retry")

    def test_a_slow_endpoint_does_not_delay_a_fast_one(self):
        slow = self.receiver(CONFIRMATIONS, answer=lambda req: (204, {}, 3.0))
        fast = self.receiver(CONFIRMATIONS)
        ev = self.event(capacity=20)
        pids = [self.bought(ev["id"])["id"] for _ in range(8)]
        self.delivered(fast, "purchaseId", pids, timeout=10)
        fast_done = max(r.at for pid in pids for r in self.requests_for(fast, "purchaseId", pid))
        self.delivered(slow, "purchaseId", pids, timeout=40)
        slow_reqs = [r for pid in pids for r in self.requests_for(slow, "purchaseId", pid)]
        first_answer = min(r.answered for r in slow_reqs)
        self.assertLess(fast_done, first_answer - 1.0,
                        "the fast endpoint waited for the slow one (all 8 should arrive before its first answer)")
        in_flight = overlap([(r.at, r.answered) for r in slow_reqs])
        self.assertLessEqual(in_flight, 4, "more than notify.endpoint-concurrency (4) POSTs at once")
        self.assertGreaterEqual(in_flight, 2, "the slow endpoint got one POST at a time")
        self.assertTrue(wait_until(lambda: len(self.deliveries(slow.hook["id"])) == 8, timeout=10))
        attempts = self.deliveries(slow.hook["id"])
        self.assertEqual({(a["attempt"], a["outcome"], a["responseStatus"]) for a in attempts},
                         {(1, "DELIVERED", 204)}, attempts)
        self.assertTrue(all(a["durationMs"] >= 2900 for a in attempts), attempts)


class WebhookTimeoutTest(WebhookCase):
    """notify.timeout: an attempt without an answer in time is TIMED_OUT, then retried."""

    service_args = ("--notify.allow-private-targets", "true", "--notify.timeout", "1s", "--notify.retry-schedule",
                    "200ms,200ms", "--notify.sweep-interval", "100ms")

    def test_an_answer_later_than_the_timeout_is_timed_out_and_retried(self):
        receiver = self.receiver(answer=lambda req: (500, {}, 3.0) if req.n == 0 else 204)
        ev = self.event()
        pid = self.bought(ev["id"])["id"]
        self.delivered(receiver, "purchaseId", [pid], timeout=15)
        first, retry = self.requests_for(receiver, "purchaseId", pid)[:2]
        self.assertEqual(first.id, retry.id)
        self.assertLess(retry.at - first.at, 2.5, "the retry waited for the slow answer")
        self.assertGreaterEqual(retry.at - first.at, 1.0, "retried before the timeout")
        self.assertTrue(wait_until(lambda: len(self.deliveries(receiver.hook["id"])) >= 2, timeout=5))
        attempts = list(reversed(self.deliveries(receiver.hook["id"])))
        self.assertEqual([(a["attempt"], a["outcome"], a["responseStatus"]) for a in attempts],
                         [(1, "TIMED_OUT", None), (2, "DELIVERED", 204)], attempts)
        self.assertTrue(900 <= attempts[0]["durationMs"] < 2900, attempts[0])


class WebhookSettingsTest(unittest.TestCase):
    """Bad notify.* settings stop the service before it starts: exit 2, one line naming the key."""

    def test_bad_webhook_settings_exit_2_naming_the_key(self):
        db = TestDatabase()
        try:
            url = ("--notify.webhook-url", "http://127.0.0.1:9/hook")
            short = "whsec_" + base64.b64encode(os.urandom(16)).decode()
            cases = [(url, "notify.webhook-secret"),  # a url needs its secret
                     (url + ("--notify.webhook-secret", short), "notify.webhook-secret"),
                     (url + ("--notify.webhook-secret", os.urandom(32).hex()), "notify.webhook-secret"),
                     (url + ("--notify.webhook-secret", "whsec_" + "!" * 44), "notify.webhook-secret"),
                     (("--notify.webhook-url", "ftp://127.0.0.1/x", "--notify.webhook-secret", webhook_secret()),
                      "notify.webhook-url"),
                     (("--notify.retry-schedule", "5x"), "notify.retry-schedule"),
                     (("--notify.retry-schedule", "1s,,2s"), "notify.retry-schedule"),
                     (("--notify.retry-schedule", ""), "notify.retry-schedule"),
                     (("--notify.allow-private-targets", "yes"), "notify.allow-private-targets"),
                     (("--notify.timeout", "soon"), "notify.timeout"),
                     (("--notify.endpoint-concurrency", "0"), "notify.endpoint-concurrency")]
            for args, key in cases:
                with self.subTest(args=" ".join(args)[:90]):
                    svc = Service(db.url, *args)
                    r = subprocess.run(svc.args, capture_output=True, text=True, timeout=60)
                    self.assertEqual(r.returncode, 2, (r.returncode, r.stderr[-500:], r.stdout[-500:]))
                    lines = r.stderr.strip().splitlines()
                    self.assertEqual(len(lines), 1, r.stderr)
                    self.assertIn(key, lines[0])
                    for secret in [a for a in args if a.startswith("whsec_")]:
                        self.assertNotIn(secret[len("whsec_"):], r.stderr + r.stdout, "the secret printed")
        finally:
            db.drop()


class WebhookRecoveryTest(unittest.TestCase):
    SCHEDULE = "300ms,500ms" + ",1s" * 18  # 20 at most

    def test_a_receiver_down_and_a_kill_9_while_messages_are_pending_lose_no_confirmation(self):
        receiver = WebhookReceiver(start=False)  # its port refuses connections until start()
        db = TestDatabase()
        svc = Service(db.url, *webhook_args(receiver, self.SCHEDULE), "--notify.sweep-interval", "100ms",
                      "--log.format", "json", "--db.pool-size", "4")
        try:
            svc.start()
            api = Api(svc.client())
            admin = api.admin_token()
            tokens = [api.user_token()[0] for _ in range(4)]
            event = api.create_event(capacity=10000)
            hook_id = [h for h in svc.client().get("/api/webhooks", token=admin).json["items"]
                       if h["url"] == receiver.url][0]["id"]

            def attempted():
                r = svc.client().get(f"/api/webhooks/{hook_id}/deliveries?size=100", token=admin)
                return r.json["items"] if r.status == 200 else []

            def buy_all(n):
                results = concurrently(n, lambda i: buy(svc.port, tokens[i % 4], event["id"]))
                self.assertEqual([getattr(r, "status", r) for r in results], [201] * n, results)
                return [r.json["id"] for r in results]

            # the receiver is down: messages are attempted, fail, and stay pending
            before = buy_all(12)
            self.assertTrue(wait_until(lambda: len({a["messageId"] for a in attempted()}) >= 12, timeout=15),
                            attempted())
            self.assertTrue(all(a["outcome"] in ("FAILED", "TIMED_OUT") for a in attempted()), attempted())
            svc.kill()  # kill -9 with every message pending
            svc.start()
            after = buy_all(8)

            def retried():  # every message attempted at least twice, also those from before the kill
                counts = {}
                for a in attempted():
                    counts[a["messageId"]] = counts.get(a["messageId"], 0) + 1
                return len(counts) >= 20 and min(counts.values()) >= 2
            self.assertTrue(wait_until(retried, timeout=15), attempted())
            self.assertEqual(receiver.requests, [])
            receiver.start()
            stored = {row[0] for row in db.query("SELECT id FROM purchases WHERE event_id = %s", event["id"])}
            self.assertEqual(stored, set(before + after))
            ok = wait_until(lambda: stored <= {b["data"]["purchaseId"] for b in receiver.bodies()}, timeout=30)
            self.assertTrue(ok, ("confirmations never delivered:",
                                 stored - {b["data"]["purchaseId"] for b in receiver.bodies()}))
            # each purchase: one message, one webhook-id however often it was sent; all signed
            ids = {}
            for body, headers, raw in receiver.received:
                self.assertEqual(body["type"], "purchase.confirmed", body)
                self.assertTrue(webhook_signature_valid(receiver.secret, headers, raw), headers)
                ids.setdefault(body["data"]["purchaseId"], set()).add(headers["webhook-id"])
            self.assertTrue(all(len(v) == 1 for v in ids.values()), ids)
            self.assertEqual(len({next(iter(v)) for v in ids.values()}), len(stored), ids)
            # the deliveries API: each message delivered, after its failed attempts
            self.assertTrue(wait_until(lambda: len({a["messageId"] for a in attempted()
                                                    if a["outcome"] == "DELIVERED"}) == len(stored), timeout=10))
            by_message = {}
            page = 0
            while True:
                r = svc.client().get(f"/api/webhooks/{hook_id}/deliveries?page={page}&size=100", token=admin)
                for a in r.json["items"]:
                    by_message.setdefault(a["messageId"], []).append(a)
                page += 1
                if page >= r.json["totalPages"]:
                    break
            self.assertEqual(set(by_message), {next(iter(v)) for v in ids.values()})
            for message_id, attempts in by_message.items():
                delivered = [a["attempt"] for a in attempts if a["outcome"] == "DELIVERED"]
                failed = [a["attempt"] for a in attempts if a["outcome"] != "DELIVERED"]
                self.assertTrue(failed, attempts)
                self.assertGreater(min(delivered), max(failed), attempts)
                self.assertEqual(len(failed), len(set(failed)), f"an attempt number repeated: {attempts}")
            self.assertTrue(wait_until(lambda: db.scalar("SELECT count(*) FROM pending_confirmations") == 0))
            self.assertEqual(svc.stop(), 0)
        finally:
            svc.kill()
            receiver.close()
            db.drop()


if __name__ == "__main__":
    unittest.main()
