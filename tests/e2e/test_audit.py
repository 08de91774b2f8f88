"""The audit log over real HTTP against real PostgreSQL (docs/api.md, "Audit log" and "Rules in
detail"): GET /api/audit (ADMIN only) and the append-only audit_log table.

Covered: for each group of actions, the one entry of the entity found by entityType + entityId,
with its action, actor (the caller, or null for the service itself: expiry, waitlist offers, an
endpoint disabled by a 410, failed and throttled logins), the caller's X-Request-Id and client
address, and before/after as the API shows the resource (null where there is none): events,
ticket types, participants (self-registered and made by an ADMIN), purchases (bought, confirmed
from a hold, cancelled by the owner and by an ADMIN), holds (created, released by the owner and
by an ADMIN, expired), waitlist entries (joined, offered, left), check-ins (single and batch),
webhooks (created, deleted, disabled), auth.login_failed and auth.throttled; a repeated request
that changes nothing writes no entry. The filters (actorId, action, entityType, entityId, from
inclusive, to exclusive), paging and the newest-first order; bad filters 400 naming the
parameter; USER and STAFF 403, no token 401. PostgreSQL refusing UPDATE, DELETE and TRUNCATE of
entries (also on a partition directly). A secret scan of every stored entry after a run of every
action: no password, hash, token, JWT signature, webhook secret, configured secret or signing key.
And a kill -9 under concurrent purchases, holds, confirms, releases and cancellations: every
change in PostgreSQL has exactly its entry and no entry is without its change; after a restart
the log is served."""
import base64
import datetime
import json
import random
import re
import secrets
import threading
import time
import unittest
import urllib.parse
import uuid

import psycopg2

from harness import ADMIN_PASSWORD, Api, Client, Service, ServiceTestCase, TestDatabase
from test_holds import make_users
from test_purchases import WebhookReceiver, wait_until, webhook_args

ENTRY_KEYS = {"id", "at", "actorId", "action", "entityType", "entityId", "before", "after", "requestId",
              "clientAddress"}
PAGE_KEYS = {"items", "page", "size", "totalItems", "totalPages"}
ACTIONS = ["event.created", "event.updated", "event.deleted", "ticket_type.created", "ticket_type.updated",
           "ticket_type.deleted", "participant.created", "purchase.confirmed", "purchase.cancelled",
           "hold.created", "hold.released", "hold.expired", "waitlist.joined", "waitlist.offered",
           "waitlist.left", "ticket.checked_in", "webhook.created", "webhook.deleted", "webhook.disabled",
           "auth.login_failed", "auth.throttled"]
ENTITY_TYPES = ["event", "ticket_type", "participant", "purchase", "hold", "waitlist_entry", "ticket", "webhook"]
WEBHOOK_KEYS = {"id", "url", "eventTypes", "enabled", "createdAt"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
ANY = object()
HOLD_TTL = 2.0
LOCAL = "127.0.0.1"


def rid(what):
    """A fresh X-Request-Id."""
    return f"{what}-{uuid.uuid4().hex[:12]}"


def when(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def us(iso):
    """An API time as integer microseconds since the epoch (exact)."""
    return (when(iso) - EPOCH) // datetime.timedelta(microseconds=1)


def normal(value):
    """A resource for comparison: times as integer milliseconds since the epoch (so that two
    spellings of one instant compare equal), the rest as it is."""
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, str) and ISO.match(value):
        return us(value) // 1000
    return value


def query_string(**params):
    return urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})


def call(port, method, path, body=None, token=None, headers=None, source=None):
    """One request on a connection of its own (threads, client addresses)."""
    c = Client(port, source_address=source)
    try:
        return c.request(method, path, body=body, token=token, headers=headers)
    finally:
        c.close()


class AuditCase(ServiceTestCase):
    """Calls and assertions shared by the classes below."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.api.admin_token()
        cls.admin_id = cls.client.get("/api/me", token=cls.admin).json["id"]
        cls.staff, cls.staff_me = cls.api.staff_token()
        cls.user, cls.me = cls.api.user_token()

    # --- requests carrying their own X-Request-Id

    def send(self, method, path, body=None, token=None, request_id=None, client=None):
        return (client or self.client).request(method, path, body=body, token=token,
                                               headers={"X-Request-Id": request_id or rid("req")})

    def ok(self, status, method, path, body=None, token=None, request_id=None, client=None):
        r = self.send(method, path, body, token, request_id, client)
        self.assertEqual(r.status, status, (method, path, body, r))
        return r.json

    def get(self, path, token=None):
        r = self.client.get(path, token=token or self.admin)
        self.assertEqual(r.status, 200, (path, r))
        return r.json

    def event(self, capacity=10, price=2500, **extra):
        extra.setdefault("ticketTypes", [{"name": "Standard", "priceCents": price, "currency": "EUR",
                                          "quota": capacity}])
        return self.api.create_event(capacity=capacity, **extra)

    # --- the audit API

    def audit(self, token=ANY, **params):
        return self.client.get("/api/audit?" + query_string(**params), token=self.admin if token is ANY else token)

    def page(self, **params):
        r = self.audit(**params)
        self.assertEqual(r.status, 200, (params, r))
        self.assertEqual(r.header("content-type"), "application/json", r)
        body = r.json
        self.assertEqual(set(body), PAGE_KEYS, r)
        for e in body["items"]:
            self.assertEqual(set(e), ENTRY_KEYS, e)
            self.assertIsInstance(e["id"], int, e)
            self.assertRegex(e["at"], ISO, e)
            self.assertIn(e["action"], ACTIONS, e)
            self.assertIn(e["entityType"], ENTITY_TYPES, e)
            for side in ("before", "after"):
                self.assertTrue(e[side] is None or isinstance(e[side], dict), e)
        return body

    def entries(self, **params):
        """Every entry matching the filters, page by page, as listed."""
        items, page = [], 0
        while True:
            body = self.page(page=page, size=100, **params)
            items += body["items"]
            page += 1
            if page >= body["totalPages"]:
                self.assertEqual(len(items), body["totalItems"], body)
                return items

    def of(self, entity_type, entity_id, action=None):
        """The entries of one entity (optionally of one action), newest first."""
        items = self.entries(entityType=entity_type, entityId=entity_id)
        for e in items:
            self.assertEqual((e["entityType"], e["entityId"]), (entity_type, entity_id), e)
        return [e for e in items if action is None or e["action"] == action]

    def one(self, entity_type, entity_id, action):
        found = self.of(entity_type, entity_id, action)
        self.assertEqual(len(found), 1, (entity_type, entity_id, action, self.of(entity_type, entity_id)))
        return found[0]

    def awaited(self, entity_type, entity_id, action, timeout=10):
        """The one entry of the action, waited for (changes the service makes by itself)."""
        self.assertTrue(wait_until(lambda: self.of(entity_type, entity_id, action), timeout=timeout),
                        (f"no {action} entry for {entity_type} {entity_id}", self.of(entity_type, entity_id)))
        return self.one(entity_type, entity_id, action)

    def assertEntry(self, e, action, entity_type, entity_id, actor_id, request_id=ANY, client_address=LOCAL,
                    before=ANY, after=ANY, code=False):
        """Checks one entry; a mismatch is reported as a subtest, so that the test goes on to the
        entries after it. code=True: the resource is a Ticket, whose `code` may be left out of the
        log (the contract: codes "may appear"), i.e. the real code, "" or null."""
        with self.subTest(entry=action, entity=f"{entity_type} {entity_id}"):
            self.assertEqual(set(e), ENTRY_KEYS, e)
            self.assertEqual((e["action"], e["entityType"], e["entityId"]), (action, entity_type, entity_id), e)
            self.assertEqual(e["actorId"], actor_id, ("actorId", e))
            if request_id is not ANY:
                self.assertEqual(e["requestId"], request_id, ("requestId", e))
            if client_address is not ANY:
                self.assertEqual(e["clientAddress"], client_address, ("clientAddress", e))
            self.assertLess(abs(us(e["at"]) / 1e6 - time.time()), 120, ("at", e))
            for side, want in (("before", before), ("after", after)):
                if want is ANY:
                    continue
                if want is None:
                    self.assertIsNone(e[side], (side, e))
                    continue
                got = e[side]
                self.assertIsInstance(got, dict, (side, e))
                self.assertEqual(set(got), set(want), (f"{side}: not the fields of the resource", got, want))
                if code:
                    self.assertIn(got.get("code"), (want["code"], "", None), (side, e))
                    got, want = dict(got, code=None), dict(want, code=None)
                self.assertEqual(normal(got), normal(want), (side, e))
        return e

    def assertNewestFirst(self, items):
        keys = [(us(e["at"]), e["id"]) for e in items]
        self.assertEqual(keys, sorted(keys, reverse=True), [(e["id"], e["at"], e["action"]) for e in items])


class AuditActionsTest(AuditCase):
    """One service: holds of 2 s, private webhook targets allowed (a local receiver answers 410),
    three failed logins lock an email."""

    service_args = ("--hold.ttl", "2s", "--hold.sweep-interval", "200ms", "--notify.allow-private-targets", "true",
                    "--notify.sweep-interval", "100ms", "--notify.retry-schedule", "200ms",
                    "--login.max-failures", "3", "--login.max-failures-per-address", "100000",
                    "--log.format", "json")

    # --- (1) one entry per change, per group of actions

    def test_event_created_updated_deleted(self):
        r1, r2, r3 = rid("ev-create"), rid("ev-update"), rid("ev-delete")
        body = {"name": "Audit " + uuid.uuid4().hex[:6], "venue": "Hall A", "startsAt": "2031-05-01T19:00:00Z",
                "capacity": 50, "description": "first"}
        ev = self.ok(201, "POST", "/api/events", body, self.admin, r1)
        self.assertEntry(self.one("event", ev["id"], "event.created"), "event.created", "event", ev["id"],
                         self.admin_id, r1, before=None, after=ev)
        shown = self.get(f"/api/events/{ev['id']}")
        updated = self.ok(200, "PUT", f"/api/events/{ev['id']}", dict(body, name=body["name"] + "!", capacity=60),
                          self.admin, r2)
        self.assertEqual((updated["name"], updated["capacity"]), (body["name"] + "!", 60), updated)
        self.assertEntry(self.one("event", ev["id"], "event.updated"), "event.updated", "event", ev["id"],
                         self.admin_id, r2, before=shown, after=updated)
        shown = self.get(f"/api/events/{ev['id']}")
        self.assertEqual(self.send("DELETE", f"/api/events/{ev['id']}", token=self.admin, request_id=r3).status, 204)
        self.assertEntry(self.one("event", ev["id"], "event.deleted"), "event.deleted", "event", ev["id"],
                         self.admin_id, r3, before=shown, after=None)
        items = self.of("event", ev["id"])
        self.assertEqual([e["action"] for e in items], ["event.deleted", "event.updated", "event.created"], items)
        self.assertNewestFirst(items)
        # refused changes write nothing: a second delete is 404, an update of a deleted event too
        self.assertEqual(self.send("DELETE", f"/api/events/{ev['id']}", token=self.admin).status, 404)
        self.assertEqual(self.send("PUT", f"/api/events/{ev['id']}", body, self.admin).status, 404)
        self.assertEqual(len(self.of("event", ev["id"])), 3)

    def test_ticket_type_created_updated_deleted(self):
        ev = self.api.create_event(capacity=20)
        base = f"/api/events/{ev['id']}/ticket-types"
        r1, r2, r3 = rid("tt-create"), rid("tt-update"), rid("tt-delete")
        t = self.ok(201, "POST", base, {"name": "VIP", "priceCents": 5000, "currency": "EUR", "quota": 5},
                    self.admin, r1)
        self.assertEntry(self.one("ticket_type", t["id"], "ticket_type.created"), "ticket_type.created",
                         "ticket_type", t["id"], self.admin_id, r1, before=None, after=t)
        shown = self.get(f"{base}/{t['id']}")
        u = self.ok(200, "PUT", f"{base}/{t['id']}", {"name": "VIP+", "priceCents": 6000, "currency": "EUR",
                                                      "quota": 4}, self.admin, r2)
        self.assertEqual((u["name"], u["priceCents"], u["quota"]), ("VIP+", 6000, 4), u)
        self.assertEntry(self.one("ticket_type", t["id"], "ticket_type.updated"), "ticket_type.updated",
                         "ticket_type", t["id"], self.admin_id, r2, before=shown, after=u)
        shown = self.get(f"{base}/{t['id']}")
        self.assertEqual(self.send("DELETE", f"{base}/{t['id']}", token=self.admin, request_id=r3).status, 204)
        self.assertEntry(self.one("ticket_type", t["id"], "ticket_type.deleted"), "ticket_type.deleted",
                         "ticket_type", t["id"], self.admin_id, r3, before=shown, after=None)
        self.assertEqual([e["action"] for e in self.of("ticket_type", t["id"])],
                         ["ticket_type.deleted", "ticket_type.updated", "ticket_type.created"])
        # the event's last type cannot be deleted: 409, no entry
        last = ev["ticketTypes"][0]["id"]
        self.assertEqual(self.send("DELETE", f"{base}/{last}", token=self.admin).status, 409)
        self.assertEqual(self.of("ticket_type", last, "ticket_type.deleted"), [])

    def test_participant_created_by_registration_and_by_an_admin_without_password_or_hash(self):
        password = "Reg-" + secrets.token_hex(8)
        r1 = rid("register")
        p = self.ok(201, "POST", "/api/auth/register", {"email": f"reg-{uuid.uuid4().hex[:10]}@example.com",
                                                        "password": password, "fullName": "Reg Istered"},
                    request_id=r1)
        e = self.assertEntry(self.one("participant", p["id"], "participant.created"), "participant.created",
                             "participant", p["id"], p["id"], r1, before=None, after=p)
        staff_password = "Staff-" + secrets.token_hex(8)
        r2 = rid("admin-creates")
        s = self.ok(201, "POST", "/api/participants", {"email": f"door-{uuid.uuid4().hex[:10]}@example.com",
                                                       "password": staff_password, "fullName": "Door",
                                                       "role": "STAFF"}, self.admin, r2)
        f = self.assertEntry(self.one("participant", s["id"], "participant.created"), "participant.created",
                             "participant", s["id"], self.admin_id, r2, before=None, after=s)
        self.assertEqual(f["after"]["role"], "STAFF")
        hashes = [row[0] for row in self.db.query("SELECT password_hash FROM participants WHERE id = ANY(%s)",
                                                  [p["id"], s["id"]])]
        for entry, pw in ((e, password), (f, staff_password)):
            text = json.dumps(entry)
            self.assertNotIn(pw, text)
            self.assertNotIn("$argon2", text)
            self.assertFalse([k for k in entry["after"] if "password" in k.lower() or "hash" in k.lower()], entry)
            for h in hashes:
                self.assertNotIn(h.rsplit("$", 1)[-1], text)
        # a refused registration (email taken) writes nothing
        before = len(self.entries(action="participant.created"))
        self.assertEqual(self.send("POST", "/api/auth/register", {"email": p["email"], "password": password,
                                                                  "fullName": "Again"}).status, 409)
        self.assertEqual(len(self.entries(action="participant.created")), before)

    def test_purchase_confirmed_and_cancelled_by_the_owner_and_by_an_admin(self):
        ev = self.event(capacity=10, price=2500)
        r1, r2, r3 = rid("buy"), rid("cancel-own"), rid("cancel-admin")
        p = self.ok(201, "POST", f"/api/events/{ev['id']}/purchases", {"quantity": 3}, self.user, r1)
        self.assertEntry(self.one("purchase", p["id"], "purchase.confirmed"), "purchase.confirmed", "purchase",
                         p["id"], self.me["id"], r1, before=None, after=p)
        c1 = self.ok(200, "POST", f"/api/purchases/{p['id']}/cancel", {"quantity": 1}, self.user, r2)
        c2 = self.ok(200, "POST", f"/api/purchases/{p['id']}/cancel", {}, self.admin, r3)
        self.assertEqual((c1["cancelledQuantity"], c2["cancelledQuantity"], c2["status"]), (1, 3, "CANCELLED"))
        by_admin, by_owner = self.of("purchase", p["id"], "purchase.cancelled")
        self.assertEntry(by_owner, "purchase.cancelled", "purchase", p["id"], self.me["id"], r2, before=p, after=c1)
        self.assertEntry(by_admin, "purchase.cancelled", "purchase", p["id"], self.admin_id, r3, before=c1, after=c2)
        with self.subTest("cancelledQuantity before/after"):
            self.assertEqual([(e["before"]["cancelledQuantity"], e["after"]["cancelledQuantity"])
                              for e in (by_owner, by_admin)], [(0, 1), (1, 3)], (by_owner, by_admin))
        with self.subTest("the last after is the purchase as it is now"):
            self.assertEqual(normal(by_admin["after"]), normal(self.get(f"/api/purchases/{p['id']}")))
        items = self.of("purchase", p["id"])
        self.assertEqual([e["action"] for e in items], ["purchase.cancelled", "purchase.cancelled",
                                                        "purchase.confirmed"], items)
        self.assertNewestFirst(items)
        # nothing left to cancel: 409, no entry; an idempotent replay of the purchase: no entry either
        self.assertEqual(self.send("POST", f"/api/purchases/{p['id']}/cancel", {}, self.admin).status, 409)
        self.assertEqual(len(self.of("purchase", p["id"], "purchase.cancelled")), 2)
        key = uuid.uuid4().hex
        headers = {"Idempotency-Key": key}
        first = self.client.post(f"/api/events/{ev['id']}/purchases", {"quantity": 1}, token=self.user,
                                 headers=headers)
        again = self.client.post(f"/api/events/{ev['id']}/purchases", {"quantity": 1}, token=self.user,
                                 headers=headers)
        self.assertEqual((first.status, again.status, again.json["id"]), (201, 200, first.json["id"]))
        self.assertEqual(len(self.of("purchase", first.json["id"], "purchase.confirmed")), 1)

    def test_a_confirmed_hold_is_audited_as_the_new_purchase(self):
        ev = self.event(capacity=5)
        r1, r2 = rid("hold"), rid("confirm")
        h = self.ok(201, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 2}, self.user, r1)
        self.assertEntry(self.one("hold", h["id"], "hold.created"), "hold.created", "hold", h["id"], self.me["id"],
                         r1, before=None, after=h)
        q = self.ok(201, "POST", f"/api/holds/{h['id']}/confirm", None, self.user, r2)
        self.assertEntry(self.one("purchase", q["id"], "purchase.confirmed"), "purchase.confirmed", "purchase",
                         q["id"], self.me["id"], r2, before=None, after=q)
        # confirmed again: the same purchase replayed, no second entry
        self.assertEqual(self.send("POST", f"/api/holds/{h['id']}/confirm", token=self.user).status, 200)
        self.assertEqual(len(self.of("purchase", q["id"], "purchase.confirmed")), 1)

    def test_hold_created_released_by_the_owner_and_an_admin_and_expired(self):
        ev = self.event(capacity=10)
        r0 = rid("hold-to-expire")
        expiring = self.ok(201, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 1}, self.user, r0)
        r1, r2, r3, r4 = rid("hold-1"), rid("release-own"), rid("hold-2"), rid("release-admin")
        h1 = self.ok(201, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 2}, self.user, r1)
        self.assertEqual(self.send("DELETE", f"/api/holds/{h1['id']}", token=self.user, request_id=r2).status, 204)
        released = self.get(f"/api/holds/{h1['id']}", self.user)
        self.assertEqual(released["status"], "RELEASED")
        self.assertEntry(self.one("hold", h1["id"], "hold.created"), "hold.created", "hold", h1["id"],
                         self.me["id"], r1, before=None, after=h1)
        e = self.assertEntry(self.one("hold", h1["id"], "hold.released"), "hold.released", "hold", h1["id"],
                             self.me["id"], r2, before=h1, after=released)
        with self.subTest("released: before HELD, after RELEASED"):
            self.assertEqual((e["before"]["status"], e["after"]["status"]), ("HELD", "RELEASED"), e)
        h2 = self.ok(201, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 1}, self.user, r3)
        self.assertEqual(self.send("DELETE", f"/api/holds/{h2['id']}", token=self.admin, request_id=r4).status, 204)
        self.assertEntry(self.one("hold", h2["id"], "hold.released"), "hold.released", "hold", h2["id"],
                         self.admin_id, r4, before=h2, after=self.get(f"/api/holds/{h2['id']}"))
        # released again: 204, but nothing changed, so no second entry
        self.assertEqual(self.send("DELETE", f"/api/holds/{h1['id']}", token=self.user).status, 204)
        self.assertEqual([e["action"] for e in self.of("hold", h1["id"])], ["hold.released", "hold.created"])

        # the first hold expires by itself: the service is the actor
        self.assertEntry(self.one("hold", expiring["id"], "hold.created"), "hold.created", "hold", expiring["id"],
                         self.me["id"], r0, before=None, after=expiring)
        e = self.awaited("hold", expiring["id"], "hold.expired", timeout=HOLD_TTL + 5)
        shown = self.get(f"/api/holds/{expiring['id']}")
        self.assertEqual(shown["status"], "EXPIRED")
        self.assertEntry(e, "hold.expired", "hold", expiring["id"], None, client_address=ANY, before=expiring,
                         after=shown)
        with self.subTest("expired: before HELD, after EXPIRED"):
            self.assertEqual((e["before"]["status"], e["after"]["status"]), ("HELD", "EXPIRED"), e)
        self.assertGreaterEqual(us(e["at"]), us(expiring["expiresAt"]) - 1000, e)
        # a release after expiry: 204, no entry
        self.assertEqual(self.send("DELETE", f"/api/holds/{expiring['id']}", token=self.user).status, 204)
        self.assertEqual([e["action"] for e in self.of("hold", expiring["id"])], ["hold.expired", "hold.created"])

    def test_waitlist_joined_offered_and_left(self):
        ev = self.event(capacity=1)
        seller, seller_me = self.api.user_token()
        p = self.ok(201, "POST", f"/api/events/{ev['id']}/purchases", {"quantity": 1}, seller)
        r1, r2, r3 = rid("join"), rid("free"), rid("leave")
        w = self.ok(201, "POST", f"/api/events/{ev['id']}/waitlist", {"quantity": 1}, self.user, r1)
        # The log keeps the entry, not its place in the queue (which moves as others join and
        # leave): entries record position null.
        w = dict(w, position=None)
        self.assertEntry(self.one("waitlist_entry", w["id"], "waitlist.joined"), "waitlist.joined", "waitlist_entry",
                         w["id"], self.me["id"], r1, before=None, after=w)
        self.ok(200, "POST", f"/api/purchases/{p['id']}/cancel", {"quantity": 1}, seller, r2)
        offered = self.get(f"/api/waitlist/{w['id']}", self.user)
        self.assertEqual(offered["status"], "OFFERED", offered)
        self.assertIsNotNone(offered["holdId"], offered)
        e = self.awaited("waitlist_entry", w["id"], "waitlist.offered")
        self.assertEntry(e, "waitlist.offered", "waitlist_entry", w["id"], None, client_address=ANY, before=w,
                         after=offered)
        with self.subTest("offered: after has the offer's holdId"):
            self.assertEqual(e["after"]["holdId"], offered["holdId"], e)
        self.assertEqual(self.send("DELETE", f"/api/waitlist/{w['id']}", token=self.user, request_id=r3).status, 204)
        left = self.get(f"/api/waitlist/{w['id']}", self.user)
        self.assertEqual(left["status"], "LEFT", left)
        self.assertEntry(self.one("waitlist_entry", w["id"], "waitlist.left"), "waitlist.left", "waitlist_entry",
                         w["id"], self.me["id"], r3, before=offered, after=left)
        items = self.of("waitlist_entry", w["id"])
        self.assertEqual([e["action"] for e in items], ["waitlist.left", "waitlist.offered", "waitlist.joined"])
        self.assertNewestFirst(items)
        # the seller's cancellation is audited as the seller's
        self.assertEqual(self.one("purchase", p["id"], "purchase.cancelled")["actorId"], seller_me["id"])

    def test_ticket_checked_in_single_and_batch(self):
        ev = self.event(capacity=10)
        p = self.ok(201, "POST", f"/api/events/{ev['id']}/purchases", {"quantity": 3}, self.user)
        sold_at = time.time()
        tickets = sorted(self.get(f"/api/purchases/{p['id']}/tickets", self.user), key=lambda t: t["id"])
        r1, r2 = rid("scan"), rid("batch")
        single = self.ok(201, "POST", f"/api/events/{ev['id']}/checkins", {"code": tickets[0]["code"],
                                                                           "scanId": rid("s")}, self.staff, r1)
        self.assertEntry(self.one("ticket", tickets[0]["id"], "ticket.checked_in"), "ticket.checked_in", "ticket",
                         tickets[0]["id"], self.staff_me["id"], r1, before=tickets[0], after=single["ticket"],
                         code=True)
        scanned = [sold_at + 0.001, sold_at + 0.002]  # offline scans after the sale, before now
        scans = [{"code": t["code"], "scanId": rid("b"), "scannedAt": iso_ms(at)} for t, at in zip(tickets[1:], scanned)]
        batch = self.ok(200, "POST", f"/api/events/{ev['id']}/checkins/batch", {"scans": scans}, self.admin, r2)
        self.assertEqual([x["result"] for x in batch["results"]], ["CHECKED_IN", "CHECKED_IN"], batch)
        after = {t["id"]: t for t in self.get(f"/api/purchases/{p['id']}/tickets", self.user)}
        for t, result in zip(tickets[1:], batch["results"]):
            e = self.assertEntry(self.one("ticket", t["id"], "ticket.checked_in"), "ticket.checked_in", "ticket",
                                 t["id"], self.admin_id, r2, before=t, after=after[t["id"]], code=True)
            with self.subTest("batch check-in at its scannedAt", ticket=t["id"]):
                self.assertEqual(e["after"]["status"], "CHECKED_IN")
                self.assertEqual(us(e["after"]["checkedInAt"]) // 1000, us(result["checkedInAt"]) // 1000, e)
        # an already checked-in ticket (single: 409; batch: ALREADY_CHECKED_IN, REPLAYED) writes nothing
        self.assertEqual(self.send("POST", f"/api/events/{ev['id']}/checkins", {"code": tickets[0]["code"]},
                                   self.staff).status, 409)
        again = self.ok(200, "POST", f"/api/events/{ev['id']}/checkins/batch",
                        {"scans": scans + [{"code": tickets[1]["code"], "scanId": rid("b"),
                                            "scannedAt": iso_ms(time.time())}]}, self.admin)
        self.assertEqual([x["result"] for x in again["results"]], ["REPLAYED", "REPLAYED", "ALREADY_CHECKED_IN"])
        for t in tickets:
            self.assertEqual(len(self.of("ticket", t["id"], "ticket.checked_in")), 1, t)

    def test_webhook_created_deleted_and_disabled_without_the_secret(self):
        r1, r2 = rid("hook-create"), rid("hook-delete")
        h = self.ok(201, "POST", "/api/webhooks", {"url": "http://127.0.0.1:9/audit", "eventTypes": ["hold.expired"]},
                    self.admin, r1)
        secret = h.pop("secret")
        e = self.assertEntry(self.one("webhook", h["id"], "webhook.created"), "webhook.created", "webhook", h["id"],
                             self.admin_id, r1, before=None, after=h)
        self.assertEqual(set(e["after"]), WEBHOOK_KEYS)
        shown = self.get(f"/api/webhooks/{h['id']}")
        self.assertEqual(self.send("DELETE", f"/api/webhooks/{h['id']}", token=self.admin, request_id=r2).status, 204)
        d = self.assertEntry(self.one("webhook", h["id"], "webhook.deleted"), "webhook.deleted", "webhook", h["id"],
                             self.admin_id, r2, before=shown, after=None)
        for entry in (e, d):
            text = json.dumps(entry)
            self.assertNotIn(secret, text)
            self.assertNotIn(secret[len("whsec_"):], text)
            self.assertNotIn(base64.b64decode(secret[len("whsec_"):]).hex(), text)

        # a receiver answering 410: the service disables the endpoint by itself
        gone = WebhookReceiver(answer=lambda req: 410)
        self.addCleanup(gone.close)
        g = self.ok(201, "POST", "/api/webhooks", {"url": gone.url, "eventTypes": ["purchase.confirmed"]}, self.admin)
        self.addCleanup(self.client.delete, f"/api/webhooks/{g['id']}", token=self.admin)
        ev = self.event(capacity=5)
        self.ok(201, "POST", f"/api/events/{ev['id']}/purchases", {"quantity": 1}, self.user)
        e = self.awaited("webhook", g["id"], "webhook.disabled", timeout=15)
        shown = self.get(f"/api/webhooks/{g['id']}")
        self.assertFalse(shown["enabled"], shown)
        self.assertEntry(e, "webhook.disabled", "webhook", g["id"], None, client_address=ANY,
                         before=dict(shown, enabled=True), after=shown)
        self.assertNotIn(g["secret"][len("whsec_"):], json.dumps(self.of("webhook", g["id"])))
        self.assertEqual([x["action"] for x in self.of("webhook", g["id"])], ["webhook.disabled", "webhook.created"])

    def test_failed_and_throttled_logins(self):
        password = "Right-" + secrets.token_hex(6)
        p = self.api.register(password=password)
        source = "127.0.0.5"
        c = Client(self.service.port, source_address=source)
        self.addCleanup(c.close)
        wrong = ["Wrong-" + secrets.token_hex(6) for _ in range(3)]
        ids = [rid("login-fail") for _ in wrong]
        for w, r in zip(wrong, ids):
            self.assertEqual(self.send("POST", "/api/auth/login", {"email": p["email"], "password": w},
                                       request_id=r, client=c).status, 401)
        failed = self.of("participant", p["id"], "auth.login_failed")
        self.assertEqual([e["requestId"] for e in failed], list(reversed(ids)), failed)
        for e, r in zip(failed, reversed(ids)):
            self.assertEntry(e, "auth.login_failed", "participant", p["id"], None, r, source, before=None, after=None)
        # locked (login.max-failures 3): the right password is refused, and audited as throttled
        r_throttled = rid("login-throttled")
        self.assertEqual(self.send("POST", "/api/auth/login", {"email": p["email"], "password": password},
                                   request_id=r_throttled, client=c).status, 429)
        self.assertEntry(self.one("participant", p["id"], "auth.throttled"), "auth.throttled", "participant",
                         p["id"], None, r_throttled, source, before=None, after=None)
        # an email that names nobody: entityId null
        r_ghost = rid("login-ghost")
        ghost_password = "Ghost-" + secrets.token_hex(6)
        self.assertEqual(self.send("POST", "/api/auth/login", {"email": f"ghost-{uuid.uuid4().hex[:8]}@example.com",
                                                               "password": ghost_password},
                                   request_id=r_ghost).status, 401)
        ghost = [e for e in self.entries(action="auth.login_failed") if e["requestId"] == r_ghost]
        self.assertEqual(len(ghost), 1, ghost)
        self.assertEntry(ghost[0], "auth.login_failed", "participant", None, None, r_ghost, LOCAL, before=None,
                         after=None)
        text = json.dumps(self.entries(action="auth.login_failed") + self.entries(action="auth.throttled"))
        for pw in wrong + [password, ghost_password]:
            self.assertNotIn(pw, text)
        # a successful login writes no entry
        before = len(self.of("participant", p["id"]))
        other_password = "Other-" + secrets.token_hex(6)
        q = self.api.register(password=other_password)
        self.api.login(q["email"], other_password)
        self.assertEqual([e["action"] for e in self.of("participant", q["id"])], ["participant.created"])
        self.assertEqual(len(self.of("participant", p["id"])), before)

    # --- (2) filters, paging, order

    def test_filters_paging_and_newest_first(self):
        password = "Filter-" + secrets.token_hex(6)
        r0 = rid("filter-register")
        u = self.ok(201, "POST", "/api/auth/register", {"email": f"filter-{uuid.uuid4().hex[:10]}@example.com",
                                                        "password": password, "fullName": "Filter"}, request_id=r0)
        token = self.api.login(u["email"], password)
        ev = self.event(capacity=20)
        bought = [self.ok(201, "POST", f"/api/events/{ev['id']}/purchases", {"quantity": 1}, token)
                  for _ in range(3)]
        h = self.ok(201, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 1}, token)
        self.assertEqual(self.send("DELETE", f"/api/holds/{h['id']}", token=token).status, 204)
        self.ok(200, "POST", f"/api/purchases/{bought[0]['id']}/cancel", {"quantity": 1}, token)
        done = [("participant.created", u["id"])] + [("purchase.confirmed", p["id"]) for p in bought] + \
               [("hold.created", h["id"]), ("hold.released", h["id"]), ("purchase.cancelled", bought[0]["id"])]

        mine = self.entries(actorId=u["id"])
        self.assertEqual([(e["action"], e["entityId"]) for e in mine], list(reversed(done)), mine)
        self.assertTrue(all(e["actorId"] == u["id"] for e in mine), mine)
        self.assertNewestFirst(mine)

        # paging: size 3 of 7
        pages = [self.page(actorId=u["id"], page=n, size=3) for n in range(4)]
        for n, body in enumerate(pages):
            self.assertEqual((body["page"], body["size"], body["totalItems"], body["totalPages"]), (n, 3, 7, 3), body)
        self.assertEqual([e for body in pages for e in body["items"]], mine)
        self.assertEqual([len(b["items"]) for b in pages], [3, 3, 1, 0])
        default = self.page()
        self.assertEqual((default["page"], default["size"]), (0, 20), default)
        self.assertEqual(len(default["items"]), min(20, default["totalItems"]))
        self.assertNewestFirst(default["items"])

        # action, entity type, entity id, each alone and together
        confirmed = self.entries(actorId=u["id"], action="purchase.confirmed")
        self.assertEqual([e["entityId"] for e in confirmed], [p["id"] for p in reversed(bought)], confirmed)
        everyone = self.entries(action="purchase.confirmed")
        self.assertTrue(all(e["action"] == "purchase.confirmed" for e in everyone))
        self.assertLessEqual({p["id"] for p in bought}, {e["entityId"] for e in everyone})
        self.assertNewestFirst(everyone)
        holds = self.entries(entityType="hold")
        self.assertTrue(all(e["entityType"] == "hold" for e in holds))
        self.assertLessEqual({("hold.created", h["id"]), ("hold.released", h["id"])},
                             {(e["action"], e["entityId"]) for e in holds})
        by_id = self.entries(entityId=bought[0]["id"])
        self.assertTrue(all(e["entityId"] == bought[0]["id"] for e in by_id), by_id)
        self.assertLessEqual({"purchase.confirmed", "purchase.cancelled"},
                             {e["action"] for e in by_id if e["entityType"] == "purchase"})
        self.assertEqual(self.page(actorId=u["id"], action="hold.released", entityType="hold",
                                   entityId=h["id"])["items"], [mine[1]])
        self.assertEqual(self.page(actorId=u["id"], action="event.created")["totalItems"], 0)
        self.assertEqual(self.page(actorId=987654321)["items"], [])

        # from inclusive, to exclusive, with the times as listed
        def window(frm=None, to=None):
            return [e for e in mine if (frm is None or us(e["at"]) >= us(frm)) and (to is None or us(e["at"]) < us(to))]
        oldest_first = list(reversed(mine))
        frm, to = oldest_first[2]["at"], oldest_first[5]["at"]
        cases = [(frm, to), (frm, None), (None, to), (oldest_first[0]["at"], None), (None, oldest_first[-1]["at"]),
                 (frm, frm), (to, frm)]
        for a, b in cases:
            with self.subTest(frm=a, to=b):
                got = self.entries(actorId=u["id"], **{"from": a, "to": b})
                self.assertEqual(got, window(a, b))
        self.assertIn(oldest_first[2], self.entries(actorId=u["id"], **{"from": frm}), "from is inclusive")
        self.assertNotIn(oldest_first[5], self.entries(actorId=u["id"], to=to), "to is exclusive")
        self.assertEqual(self.entries(actorId=u["id"], **{"from": frm, "to": frm}), [])
        # other spellings of times: an offset, whole seconds
        first = us(oldest_first[0]["at"])
        start = datetime.datetime.fromtimestamp(first // 1_000_000 - 1, datetime.timezone.utc)
        self.assertEqual(self.entries(actorId=u["id"], **{"from": start.strftime("%Y-%m-%dT%H:%M:%SZ")}), mine)
        shifted = start.astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat()
        self.assertEqual(self.entries(actorId=u["id"], **{"from": shifted}), mine)
        self.assertEqual(self.entries(actorId=u["id"], to=shifted), [])
        self.assertEqual(self.entries(actorId=u["id"], **{"from": "2100-01-01T00:00:00Z"}), [])

    # --- (3) bad filters, roles

    def test_bad_filters_are_400_naming_the_parameter(self):
        cases = [({"entityType": "nope"}, "entityType"), ({"entityType": "EVENT"}, "entityType"),
                 ({"entityType": "events"}, "entityType"), ({"action": "nope"}, "action"),
                 ({"action": "purchase.refunded"}, "action"), ({"action": "PURCHASE.CONFIRMED"}, "action"),
                 ({"entityId": "abc"}, "entityId"), ({"entityId": "1.5"}, "entityId"),
                 ({"entityId": "12x"}, "entityId"), ({"actorId": "x"}, "actorId"), ({"actorId": "1e3"}, "actorId"),
                 ({"from": "yesterday"}, "from"), ({"from": "2027-13-01T00:00:00Z"}, "from"),
                 ({"to": "12345"}, "to"), ({"to": "2027-02-30T25:00:00Z"}, "to"),
                 ({"page": "-1"}, "page"), ({"page": "x"}, "page"), ({"size": "0"}, "size"),
                 ({"size": "101"}, "size")]
        for params, field in cases:
            with self.subTest(params=params):
                r = self.audit(**params)
                self.assertIn(field, self.field_errors(r), r)
        r = self.audit(entityType="x", action="y", entityId="z", actorId="w", **{"from": "a", "to": "b"})
        self.assertEqual({"entityType", "action", "entityId", "actorId", "from", "to"} - set(self.field_errors(r)),
                         set(), r)

    def test_only_an_admin_reads_the_audit_log(self):
        for who, token, status in (("USER", self.user, 403), ("STAFF", self.staff, 403), ("nobody", None, 401),
                                   ("forged", self.admin[:-4] + "AAAA", 401)):
            for params in ({}, {"entityType": "event"}, {"entityType": "bad", "size": "0"}):
                with self.subTest(who=who, params=params):
                    r = self.audit(token=token, **params)
                    self.assertProblem(r, status)
                    if status == 401:
                        self.assertEqual(r.header("www-authenticate"), "Bearer", r)
                    self.assertNotIn("items", r.json)
        self.assertEqual(self.client.post("/api/audit", {}, token=self.admin).status, 405)

    # --- (4) append-only, enforced by PostgreSQL

    def test_postgresql_refuses_update_delete_and_truncate_of_entries(self):
        ev = self.api.create_event(capacity=3)
        e = self.one("event", ev["id"], "event.created")
        row = "SELECT row_to_json(a)::text FROM audit_log a WHERE id = %s"
        stored = self.db.scalar(row, e["id"])
        count = self.db.scalar("SELECT count(*) FROM audit_log")
        partition = self.db.scalar("SELECT tableoid::regclass::text FROM audit_log WHERE id = %s", e["id"])
        statements = [
            ("UPDATE audit_log SET action = 'event.deleted' WHERE id = %s", (e["id"],)),
            ("UPDATE audit_log SET after = NULL, before = NULL WHERE id = %s", (e["id"],)),
            ("UPDATE audit_log SET actor_id = NULL", ()),
            ("DELETE FROM audit_log WHERE id = %s", (e["id"],)),
            ("DELETE FROM audit_log", ()),
            (f'UPDATE "{partition}" SET request_id = \'forged\' WHERE id = %s', (e["id"],)),
            (f'DELETE FROM "{partition}" WHERE id = %s', (e["id"],)),
            ("TRUNCATE audit_log", ()),
            (f'TRUNCATE "{partition}"', ()),
        ]
        for sql, args in statements:
            with self.subTest(sql=sql):
                with self.assertRaises(psycopg2.Error) as cm:
                    self.db.query(sql, *args)
                self.assertIn("append-only", str(cm.exception), cm.exception)
                self.assertEqual(self.db.scalar(row, e["id"]), stored)
                self.assertGreaterEqual(self.db.scalar("SELECT count(*) FROM audit_log"), count)
        self.assertEqual(self.one("event", ev["id"], "event.created"), e)
        # inserting is what the log is for: it still works after the refusals
        self.api.create_event(capacity=3)
        self.assertGreater(self.db.scalar("SELECT count(*) FROM audit_log"), count)


def iso_ms(t):
    ms = int(round(t * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


# --- (5) no secret in any entry ---------------------------------------------------------------------

def renderings(data):
    """A byte string as it could be written down: hex (both cases), base64 and base64url, padded or not."""
    b64 = base64.b64encode(data).decode()
    url = base64.urlsafe_b64encode(data).decode()
    return {data.hex(), data.hex().upper(), b64, b64.rstrip("="), url, url.rstrip("=")}


class AuditSecretScanTest(unittest.TestCase):
    """Every action once, on a service with a token-signing secret, a tickets key secret and a
    configured webhook endpoint; then the text of every stored entry is searched for every secret
    the run used or the database keeps."""

    def test_no_entry_holds_a_password_hash_token_secret_or_signing_key(self):
        receiver = WebhookReceiver()
        gone = WebhookReceiver(answer=lambda req: 410)
        tickets_secret = secrets.token_hex(32)
        db = TestDatabase()
        svc = Service(db.url, *webhook_args(receiver, "200ms"), "--notify.sweep-interval", "100ms",
                      "--tickets.key-secret", tickets_secret, "--hold.ttl", "1s", "--hold.sweep-interval", "200ms",
                      "--login.max-failures", "2", "--login.max-failures-per-address", "100000")
        passwords, bodies = [ADMIN_PASSWORD], []
        try:
            svc.start()
            c = svc.client()
            send = c.request

            def recording(*a, **kw):
                r = send(*a, **kw)
                bodies.append(r)
                return r
            c.request = recording
            api = Api(c)

            def pw(what):
                p = f"Pw-{what}-{secrets.token_hex(8)}"
                passwords.append(p)
                return p

            def ok(status, method, path, body=None, token=None):
                r = c.request(method, path, body=body, token=token, headers={"X-Request-Id": rid("scan")})
                self.assertEqual(r.status, status, (method, path, r))
                return r.json

            admin = api.admin_token()
            user_pw, staff_pw, other_pw = pw("user"), pw("staff"), pw("other")
            user_p = api.register(password=user_pw)
            user = api.login(user_p["email"], user_pw)
            other_p = api.register(password=other_pw)
            other = api.login(other_p["email"], other_pw)
            staff, _ = api.staff_token(password=staff_pw)
            # failed, unknown and throttled logins (login.max-failures 2)
            for i in range(2):
                self.assertEqual(c.post("/api/auth/login", {"email": user_p["email"], "password": pw(f"guess{i}")})
                                 .status, 401)
            self.assertEqual(c.post("/api/auth/login", {"email": user_p["email"], "password": user_pw}).status, 429)
            self.assertEqual(c.post("/api/auth/login", {"email": "nobody-" + uuid.uuid4().hex[:8] + "@example.com",
                                                        "password": pw("ghost")}).status, 401)
            # events and ticket types
            ev = api.create_event(capacity=5, ticketTypes=[{"name": "A", "priceCents": 1000, "quota": 5}])
            gone_ev = api.create_event(capacity=5)
            ok(200, "PUT", f"/api/events/{gone_ev['id']}", {"name": "Renamed", "venue": "V",
                                                           "startsAt": gone_ev["startsAt"], "capacity": 6}, admin)
            t = ok(201, "POST", f"/api/events/{gone_ev['id']}/ticket-types", {"name": "B", "priceCents": 1, "quota": 2},
                   admin)
            ok(200, "PUT", f"/api/events/{gone_ev['id']}/ticket-types/{t['id']}", {"name": "B", "priceCents": 2,
                                                                                  "currency": "EUR", "quota": 2}, admin)
            ok(204, "DELETE", f"/api/events/{gone_ev['id']}/ticket-types/{t['id']}", token=admin)
            ok(204, "DELETE", f"/api/events/{gone_ev['id']}", token=admin)
            # webhooks: one created and deleted, one disabled by a 410
            h = ok(201, "POST", "/api/webhooks", {"url": "http://127.0.0.1:9/x", "eventTypes": ["hold.expired"]}, admin)
            ok(204, "DELETE", f"/api/webhooks/{h['id']}", token=admin)
            ok(201, "POST", "/api/webhooks", {"url": gone.url, "eventTypes": ["purchase.confirmed"]}, admin)
            # purchases, tickets, check-ins, a cancellation; holds released, confirmed and expired
            p = ok(201, "POST", f"/api/events/{ev['id']}/purchases", {"quantity": 3}, user)
            tickets = ok(200, "GET", f"/api/purchases/{p['id']}/tickets", token=user)
            ok(201, "POST", f"/api/events/{ev['id']}/checkins", {"code": tickets[0]["code"]}, staff)
            ok(200, "POST", f"/api/events/{ev['id']}/checkins/batch",
               {"scans": [{"code": tickets[1]["code"], "scanId": "scan-1", "scannedAt": iso_ms(time.time())}]}, admin)
            ok(200, "POST", f"/api/purchases/{p['id']}/cancel", {"quantity": 1}, user)
            held = ok(201, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 1}, user)
            ok(204, "DELETE", f"/api/holds/{held['id']}", token=user)
            held = ok(201, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 1}, user)
            ok(201, "POST", f"/api/holds/{held['id']}/confirm", token=user)
            ok(201, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 1}, other)  # left to expire
            # the waitlist: joined, offered (a cancellation frees the ticket), left
            one = api.create_event(capacity=1)
            q = ok(201, "POST", f"/api/events/{one['id']}/purchases", {"quantity": 1}, other)
            w = ok(201, "POST", f"/api/events/{one['id']}/waitlist", {"quantity": 1}, user)
            ok(200, "POST", f"/api/purchases/{q['id']}/cancel", {}, admin)
            ok(204, "DELETE", f"/api/waitlist/{w['id']}", token=user)

            def actions():
                return {row[0] for row in db.query("SELECT DISTINCT action FROM audit_log")}
            self.assertTrue(wait_until(lambda: actions() >= set(ACTIONS), timeout=15),
                            f"actions never audited: {set(ACTIONS) - actions()}")
            c.close()

            # every secret there is
            tokens = set()
            hook_secrets = {receiver.secret}
            for r in bodies:
                try:
                    body = r.json
                except ValueError:
                    continue
                if isinstance(body, dict) and isinstance(body.get("accessToken"), str):
                    tokens.add(body["accessToken"])
                if isinstance(body, dict) and isinstance(body.get("secret"), str):
                    hook_secrets.add(body["secret"])
            self.assertGreaterEqual(len(tokens), 4, "the access tokens issued were captured")
            self.assertGreaterEqual(len(hook_secrets), 3, "the webhook secrets were captured")
            needles = {}  # text -> what it is
            for p_ in passwords:
                needles[p_] = "a password"
            for token in tokens:
                needles[token] = "an access token"
                needles[token.rsplit(".", 1)[1]] = "a JWT signature"
            for s in hook_secrets:
                key = base64.b64decode(s[len("whsec_"):])
                needles[s] = "a webhook secret"
                for text in renderings(key):
                    needles[text] = "a webhook secret's key"
            needles[svc.secret] = "jwt.secret"
            needles[tickets_secret] = "tickets.key-secret"
            hashes = [row[0] for row in db.query("SELECT password_hash FROM participants")]
            self.assertGreaterEqual(len(hashes), 4)
            for h_ in hashes:
                needles[h_] = "a password hash"
                needles[h_.rsplit("$", 1)[-1]] = "a hash digest"
                needles[h_.rsplit("$", 2)[-2]] = "a hash salt"
            keys = db.query("SELECT event_id, public_key, sealed_secret FROM event_signing_keys")
            self.assertTrue(keys, "no signing key stored: the test needs one")
            for event_id, public, sealed in keys:
                for name, column in (("public_key", bytes(public)), ("sealed_secret", bytes(sealed))):
                    for text in renderings(column):
                        needles[text] = f"event_signing_keys.{name} of event {event_id}"
                for part in (bytes(sealed)[:24], bytes(sealed)[24:]):
                    for text in renderings(part):
                        needles[text] = f"part of event_signing_keys.sealed_secret of event {event_id}"
            for (sealed,) in db.query("SELECT sealed_secret FROM webhook_endpoints"):
                for text in renderings(bytes(sealed)):
                    needles[text] = "webhook_endpoints.sealed_secret"

            rows = [row[0] for row in db.query("SELECT row_to_json(a)::text FROM audit_log a")]
            self.assertGreater(len(rows), 30)
            short = [n for n in needles if len(n) < 12]
            self.assertEqual(short, [], "a needle too short to search for")
            for text in rows:
                for needle, what in needles.items():
                    self.assertNotIn(needle, text, f"{what} in an audit entry: {text[:600]}")
                self.assertNotIn("$argon2", text)
                self.assertNotIn("password", text.lower(), text[:600])
            self.assertEqual(svc.stop(), 0)
        finally:
            svc.kill()
            receiver.close()
            gone.close()
            db.drop()


# --- (6) kill -9 under load: no change without its entry, no entry without its change -------------

class AuditCrashTest(unittest.TestCase):
    """Concurrent purchases, holds (confirmed or released) and cancellations; a kill -9 mid-load;
    then PostgreSQL is checked: each change has exactly its entry, and each entry its change."""

    def check(self, db):
        def mismatches(sql):
            return db.query(sql)
        # each purchase: exactly one purchase.confirmed entry; no such entry without its purchase
        self.assertEqual(mismatches(
            "SELECT p.id, count(a.id) FROM purchases p LEFT JOIN audit_log a ON a.action = 'purchase.confirmed' "
            "AND a.entity_type = 'purchase' AND a.entity_id = p.id GROUP BY p.id HAVING count(a.id) <> 1"), [])
        self.assertEqual(mismatches(
            "SELECT a.id, a.entity_id, a.entity_type FROM audit_log a WHERE a.action = 'purchase.confirmed' AND "
            "(a.entity_type <> 'purchase' OR NOT EXISTS (SELECT 1 FROM purchases p WHERE p.id = a.entity_id))"), [])
        # each hold: one hold.created; each released hold: one hold.released; and vice versa
        self.assertEqual(mismatches(
            "SELECT h.id, count(a.id) FROM holds h LEFT JOIN audit_log a ON a.action = 'hold.created' "
            "AND a.entity_type = 'hold' AND a.entity_id = h.id GROUP BY h.id HAVING count(a.id) <> 1"), [])
        self.assertEqual(mismatches(
            "SELECT a.id, a.entity_id FROM audit_log a WHERE a.action = 'hold.created' AND "
            "(a.entity_type <> 'hold' OR NOT EXISTS (SELECT 1 FROM holds h WHERE h.id = a.entity_id))"), [])
        self.assertEqual(mismatches(
            "SELECT h.id, h.status, count(a.id) FROM holds h LEFT JOIN audit_log a ON a.action = 'hold.released' "
            "AND a.entity_type = 'hold' AND a.entity_id = h.id GROUP BY h.id, h.status "
            "HAVING count(a.id) <> (CASE WHEN h.status = 'RELEASED' THEN 1 ELSE 0 END)"), [])
        self.assertEqual(mismatches(
            "SELECT a.id, a.entity_id FROM audit_log a WHERE a.action = 'hold.released' AND "
            "NOT EXISTS (SELECT 1 FROM holds h WHERE h.id = a.entity_id AND h.status = 'RELEASED')"), [])
        # each purchase: as many purchase.cancelled entries as purchase_cancellations rows
        self.assertEqual(mismatches(
            "WITH c AS (SELECT purchase_id AS id, count(*) AS n FROM purchase_cancellations GROUP BY purchase_id), "
            "a AS (SELECT entity_id AS id, count(*) AS n FROM audit_log WHERE action = 'purchase.cancelled' "
            "AND entity_type = 'purchase' GROUP BY entity_id) "
            "SELECT coalesce(c.id, a.id), c.n, a.n FROM c FULL JOIN a ON a.id = c.id "
            "WHERE c.n IS DISTINCT FROM a.n"), [])

    def test_kill_9_under_load_leaves_every_change_with_exactly_its_entry(self):
        db = TestDatabase()
        svc = Service(db.url, "--db.pool-size", "4", "--log.format", "json")
        try:
            svc.start()
            api = Api(svc.client())
            admin = api.admin_token()
            users = make_users(svc.port, 8)
            events = [api.create_event(capacity=100000)["id"] for _ in range(2)]
            lock, stop = threading.Lock(), threading.Event()
            seen = {"purchases": set(), "holds": set(), "released": set(), "cancels": []}
            ops = [0]

            def worker(i):
                token = users[i][0]
                rnd = random.Random(i)
                c = Client(svc.port, timeout=5)
                mine = []
                while not stop.is_set():
                    ev = rnd.choice(events)
                    roll = rnd.random()
                    try:
                        if roll < 0.4 or not mine:
                            r = c.post(f"/api/events/{ev}/purchases", {"quantity": rnd.randint(1, 3)}, token=token)
                            if r.status == 201:
                                mine.append(r.json["id"])
                                with lock:
                                    seen["purchases"].add(r.json["id"])
                        elif roll < 0.75:
                            r = c.post(f"/api/events/{ev}/holds", {"quantity": 1}, token=token)
                            if r.status == 201:
                                hold_id = r.json["id"]
                                with lock:
                                    seen["holds"].add(hold_id)
                                if rnd.random() < 0.5:
                                    r = c.post(f"/api/holds/{hold_id}/confirm", token=token)
                                    if r.status == 201:
                                        mine.append(r.json["id"])
                                        with lock:
                                            seen["purchases"].add(r.json["id"])
                                else:
                                    r = c.delete(f"/api/holds/{hold_id}", token=token)
                                    if r.status == 204:
                                        with lock:
                                            seen["released"].add(hold_id)
                        else:
                            pid = rnd.choice(mine)
                            r = c.post(f"/api/purchases/{pid}/cancel", {"quantity": 1},
                                       token=admin if rnd.random() < 0.3 else token)
                            if r.status == 200 and r.header("idempotent-replayed") is None:
                                with lock:
                                    seen["cancels"].append(pid)
                            elif r.status == 409:
                                mine.remove(pid)
                        with lock:
                            ops[0] += 1
                    except OSError:
                        return
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            loaded = wait_until(lambda: ops[0] >= 400, timeout=10, interval=0.05)
            svc.kill()
            stop.set()
            for t in threads:
                t.join(30)
            self.assertTrue(loaded, f"only {ops[0]} operations before the kill")
            with lock:
                purchases, holds = set(seen["purchases"]), set(seen["holds"])
                released, cancels = set(seen["released"]), list(seen["cancels"])
            self.assertTrue(purchases and holds and released and cancels, seen)

            self.check(db)
            # what reached the clients is stored, with its entries
            stored = {row[0] for row in db.query("SELECT id FROM purchases WHERE id = ANY(%s)", list(purchases))}
            self.assertEqual(purchases - stored, set(), "a purchase answered 201 is missing")
            stored = {row[0] for row in db.query("SELECT id FROM holds WHERE id = ANY(%s)", list(holds))}
            self.assertEqual(holds - stored, set(), "a hold answered 201 is missing")
            stored = {row[0] for row in db.query("SELECT id FROM holds WHERE id = ANY(%s) AND status = 'RELEASED'",
                                                 list(released))}
            self.assertEqual(released - stored, set(), "a release answered 204 is missing")
            cancelled = dict(db.query("SELECT entity_id, count(*) FROM audit_log WHERE action = 'purchase.cancelled' "
                                      "GROUP BY entity_id"))
            for pid in set(cancels):
                self.assertGreaterEqual(cancelled.get(pid, 0), cancels.count(pid), pid)

            # restarted on the same database, the log is served, old entries included
            svc.start()
            c = svc.client()
            admin = Api(c).admin_token()
            total = db.scalar("SELECT count(*) FROM purchases")
            r = c.get("/api/audit?action=purchase.confirmed&size=1", token=admin)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["totalItems"], total, r)
            some = sorted(purchases)[0]
            r = c.get(f"/api/audit?entityType=purchase&entityId={some}", token=admin)
            self.assertEqual(r.status, 200, r)
            self.assertIn("purchase.confirmed", [e["action"] for e in r.json["items"]], r)
            r = c.post(f"/api/events/{events[0]}/purchases", {"quantity": 1}, token=users[0][0],
                       headers={"X-Request-Id": "after-restart"})
            self.assertEqual(r.status, 201, r)
            r = c.get(f"/api/audit?entityType=purchase&entityId={r.json['id']}", token=admin)
            self.assertEqual([(e["action"], e["requestId"]) for e in r.json["items"]],
                             [("purchase.confirmed", "after-restart")], r)
            c.close()
            self.check(db)
            self.assertEqual(svc.stop(), 0)
        finally:
            svc.kill()
            db.drop()


if __name__ == "__main__":
    unittest.main()
