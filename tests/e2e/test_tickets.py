"""Tickets and check-in over real HTTP against real PostgreSQL, one process: n tickets per purchase
of n (also through a confirmed hold), who may read them (GET /api/purchases/{id}/tickets,
/api/me/tickets, /api/tickets/{id}/qr.svg); codes EH1.<eventId>.<ticketId>.<nonce>.<signature>
verified offline with only the event's public key (GET /api/events/{id}/checkin-key) by OpenSSL's
Ed25519 through Python's `cryptography`, altered and forged codes failing; the QR code rendered by
rsvg-convert and decoded by zbarimg; POST /api/events/{id}/checkins: STAFF and ADMIN only, scanId
replays, already-checked-in, ticket-cancelled, unknown-ticket for anything not genuine, bad bodies;
50 simultaneous scans of one ticket check it in exactly once; POST /api/events/{id}/checkins/batch:
1000 offline scans compared entry by entry with what the contract makes of them (earliest
scannedAt wins, REPLAYED scanIds, forgeries, a cancelled and an earlier checked-in ticket), the
same batch again, its limits (1..1000 scans, 1 MiB); stats; cancellations with checked-in tickets;
one ticket.checked_in notification per check-in; a check-in surviving kill -9 and a restart."""
import collections
import datetime
import json
import random
import time
import unittest
import uuid

import ticket_tools as tt
from harness import Api, Client, ServiceTestCase
from test_holds import ts, wait_for_log
from test_purchases import concurrently, wait_until

TICKET_KEYS = {"id", "purchaseId", "eventId", "ticketTypeId", "participantId", "code", "status", "checkedInAt"}
RESULT_KEYS = {"scanId", "result", "ticketId", "checkedInAt"}
UNKNOWN = 987654321
PRICE = 1500
ABSENT = object()
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
MIB = 1024 * 1024


def tag():
    return uuid.uuid4().hex[:12]


def us(iso):
    """An API time as integer microseconds since the epoch (exact, whatever the offset)."""
    if iso is None:
        return None
    dt = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00").replace("z", "+00:00"))
    return (dt - EPOCH) // datetime.timedelta(microseconds=1)


def iso_ms(t, offset_minutes=0):
    """Epoch seconds (millisecond precision kept) as ISO-8601: `Z`, or a `+HH:MM` offset."""
    ms = int(round(t * 1000))
    local = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc) + datetime.timedelta(
        minutes=offset_minutes)
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}"
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    return text + f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"


def checked_in_lines(service, event_id=None):
    """The ticket.checked_in log lines (JSON) of the service, optionally of one event."""
    return [line for line in service.log_lines("ticket.checked_in")
            if event_id is None or line.get("event_id") == event_id]


class TicketCase(ServiceTestCase):
    """Calls and assertions shared by the classes below."""

    service_args = ("--log.format", "json", "--notify.sweep-interval", "200ms", "--purchase.max-per-order", "50")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.api.admin_token()
        cls.staff, _ = cls.api.staff_token()
        cls.user, cls.me = cls.api.user_token()
        cls.other, cls.other_me = cls.api.user_token()

    # --- calls ---------------------------------------------------------------------------------

    def create(self, capacity=20, price=PRICE, **extra):
        if "ticketTypes" not in extra:
            extra["ticketTypes"] = [{"name": "Standard", "priceCents": price, "quota": capacity}]
        return self.api.create_event(capacity=capacity, **extra)

    def buy(self, event_id, quantity=1, token=None, type_id=None):
        body = {"quantity": quantity}
        if type_id is not None:
            body["ticketTypeId"] = type_id
        r = self.client.post(f"/api/events/{event_id}/purchases", body, token=token or self.user)
        self.assertEqual(r.status, 201, r)
        return r.json

    def tickets(self, purchase_id, token=None):
        r = self.client.get(f"/api/purchases/{purchase_id}/tickets", token=token or self.user)
        self.assertEqual(r.status, 200, r)
        self.assertIsInstance(r.json, list, r)
        return sorted(r.json, key=lambda t: t["id"])

    def public_key(self, event_id, token=None):
        r = self.client.get(f"/api/events/{event_id}/checkin-key", token=token or self.staff)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json.get("algorithm"), "Ed25519", r)
        tt.public_key(r.json["publicKey"])  # 32 raw bytes, base64url without padding
        return r.json["publicKey"]

    def checkin(self, event_id, code=ABSENT, scan_id=ABSENT, token=ABSENT, body=ABSENT, client=None):
        if body is ABSENT:
            body = {}
            if code is not ABSENT:
                body["code"] = code
            if scan_id is not ABSENT:
                body["scanId"] = scan_id
        return (client or self.client).post(f"/api/events/{event_id}/checkins", body,
                                            token=self.staff if token is ABSENT else token)

    def checked_in(self, event_id, ticket, scan_id=ABSENT, token=ABSENT):
        """A first, successful check-in of `ticket`, its answer checked."""
        before = time.time()
        r = self.checkin(event_id, ticket["code"], scan_id, token)
        self.assertEqual(r.status, 201, r)
        body = r.json
        self.assertEqual(set(body), {"ticket", "checkedInAt", "scanId"}, r)
        self.assertEqual(body["ticket"], dict(ticket, status="CHECKED_IN", checkedInAt=body["checkedInAt"]), r)
        self.assertEqual(body["scanId"], None if scan_id is ABSENT else scan_id, r)
        self.assertLess(abs(ts(body["checkedInAt"]) - (before + time.time()) / 2), 30, r)
        return body

    def batch(self, event_id, scans, token=ABSENT, client=None):
        return (client or self.client).post(f"/api/events/{event_id}/checkins/batch", {"scans": scans},
                                            token=self.staff if token is ABSENT else token)

    def stats(self, event_id, token=None):
        r = self.client.get(f"/api/events/{event_id}/checkins/stats", token=token or self.staff)
        self.assertEqual(r.status, 200, r)
        return {k: r.json.get(k) for k in ("ticketsValid", "ticketsCheckedIn", "ticketsCancelled")}

    def assertStats(self, event_id, valid, checked_in, cancelled):
        self.assertEqual(self.stats(event_id), {"ticketsValid": valid, "ticketsCheckedIn": checked_in,
                                                "ticketsCancelled": cancelled})

    def cancel(self, purchase_id, quantity=ABSENT, token=None):
        body = None if quantity is ABSENT else {"quantity": quantity}
        return self.client.post(f"/api/purchases/{purchase_id}/cancel", body, token=token or self.user)

    def get_event(self, event_id):
        r = self.client.get(f"/api/events/{event_id}")
        self.assertEqual(r.status, 200, r)
        return r.json

    def get_purchase(self, purchase_id, token=None):
        r = self.client.get(f"/api/purchases/{purchase_id}", token=token or self.user)
        self.assertEqual(r.status, 200, r)
        return r.json

    # --- assertions ----------------------------------------------------------------------------

    def assertFieldErrors(self, r, *fields):
        got = self.field_errors(r)
        for field in fields:
            self.assertIn(field, got, r)
        return got

    def assertEntryError(self, r, name):
        """A 400 whose errors name a field of a batch entry (e.g. scans[1].scannedAt)."""
        got = self.field_errors(r)
        self.assertTrue(any(name in field for field in got), r)

    def assertStatuses(self, purchase_id, expected, token=None):
        """The statuses of a purchase's tickets in id order."""
        self.assertEqual([t["status"] for t in self.tickets(purchase_id, token)], expected)

    def assertAlreadyCheckedIn(self, r, checked_in_at):
        body = self.assertProblem(r, 409, "already-checked-in")
        self.assertIn("checkedInAt", body, r)
        self.assertEqual(us(body["checkedInAt"]), us(checked_in_at), r)
        return body


class TicketsTest(TicketCase):

    # --- 1. tickets of purchases and holds -------------------------------------------------------

    def test_a_purchase_of_n_has_n_valid_tickets_its_owner_and_an_admin_see_and_nobody_else(self):
        ev = self.create(capacity=30, ticketTypes=[{"name": "Standard", "priceCents": PRICE, "quota": 30},
                                                   {"name": "VIP", "priceCents": 5000, "quota": 5}])
        standard, vip = [t["id"] for t in ev["ticketTypes"]]
        seen_ids, seen_codes = set(), set()
        for quantity, type_id in ((3, vip), (1, standard), (10, standard)):
            p = self.buy(ev["id"], quantity, type_id=type_id)
            got = self.tickets(p["id"])
            self.assertEqual(len(got), quantity, got)
            for t in got:
                self.assertEqual(set(t), TICKET_KEYS, t)
                self.assertEqual({k: t[k] for k in TICKET_KEYS - {"id", "code"}},
                                 {"purchaseId": p["id"], "eventId": ev["id"], "ticketTypeId": type_id,
                                  "participantId": self.me["id"], "status": "VALID", "checkedInAt": None}, t)
                self.assertIsInstance(t["id"], int)
                parts = tt.parse_code(t["code"])
                self.assertIsNotNone(parts, t["code"])
                self.assertEqual((parts["eventId"], parts["ticketId"]), (ev["id"], t["id"]), t)
            ids, codes = {t["id"] for t in got}, {t["code"] for t in got}
            self.assertEqual((len(ids), len(codes)), (quantity, quantity))
            self.assertFalse(ids & seen_ids or codes & seen_codes, "a ticket shared by two purchases")
            seen_ids |= ids
            seen_codes |= codes
            # the ADMIN sees the same, the owner again the same
            self.assertEqual(self.tickets(p["id"], token=self.admin), got)
            self.assertEqual(self.tickets(p["id"]), got)
            path = f"/api/purchases/{p['id']}/tickets"
            self.assertProblem(self.client.get(path, token=self.other), 404)
            self.assertProblem(self.client.get(path, token=self.staff), 403)
            for token in (None, self.user + "x"):
                r = self.client.get(path, token=token)
                self.assertProblem(r, 401)
                self.assertEqual(r.header("www-authenticate"), "Bearer", r)
        for token in (self.user, self.admin):
            self.assertProblem(self.client.get(f"/api/purchases/{UNKNOWN}/tickets", token=token), 404)
            for bad in ("abc", "0", "-1"):
                self.assertProblem(self.client.get(f"/api/purchases/{bad}/tickets", token=token), 400)
        self.assertStats(ev["id"], 14, 0, 0)

    def test_a_confirmed_hold_gets_its_tickets_once(self):
        ev = self.create(capacity=10)
        r = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 2}, token=self.user)
        self.assertEqual(r.status, 201, r)
        h = r.json
        self.assertStats(ev["id"], 0, 0, 0)  # held tickets are no tickets yet
        c = self.client.post(f"/api/holds/{h['id']}/confirm", token=self.user)
        self.assertEqual(c.status, 201, c)
        p = c.json
        got = self.tickets(p["id"])
        self.assertEqual([(t["purchaseId"], t["eventId"], t["ticketTypeId"], t["participantId"], t["status"],
                           t["checkedInAt"]) for t in got],
                         [(p["id"], ev["id"], h["ticketTypeId"], self.me["id"], "VALID", None)] * 2)
        again = self.client.post(f"/api/holds/{h['id']}/confirm", token=self.user)
        self.assertEqual((again.status, again.json["id"]), (200, p["id"]), again)
        self.assertEqual(self.tickets(p["id"]), got)  # no second set
        self.assertStats(ev["id"], 2, 0, 0)
        key = self.public_key(ev["id"])
        for t in got:
            self.assertTrue(tt.verifies(key, t["code"]), t)
        self.checked_in(ev["id"], got[0])

    def test_my_tickets_is_a_page_of_the_callers_tickets_filtered_by_event(self):
        me, _ = self.api.user_token()
        ev1, ev2 = self.create(capacity=10), self.create(capacity=10)
        mine = {}
        for ev, quantity in ((ev1, 2), (ev2, 3), (ev1, 1)):
            for t in self.tickets(self.buy(ev["id"], quantity, token=me)["id"], token=me):
                mine[t["id"]] = t
        self.buy(ev1["id"], 2, token=self.other)  # someone else's
        r = self.client.get("/api/me/tickets?size=100", token=me)
        self.assertEqual(r.status, 200, r)
        page = r.json
        self.assertEqual((page["page"], page["size"], page["totalItems"], page["totalPages"]), (0, 100, 6, 1))
        self.assertEqual(sorted(page["items"], key=lambda t: t["id"]), sorted(mine.values(), key=lambda t: t["id"]))
        for ev in (ev1, ev2):
            r = self.client.get(f"/api/me/tickets?eventId={ev['id']}&size=100", token=me)
            self.assertEqual(r.status, 200, r)
            expected = sorted((t for t in mine.values() if t["eventId"] == ev["id"]), key=lambda t: t["id"])
            self.assertEqual(r.json["totalItems"], 3, r)
            self.assertEqual(sorted(r.json["items"], key=lambda t: t["id"]), expected)
        # pages of 2: every ticket once
        seen = []
        for n in range(3):
            r = self.client.get(f"/api/me/tickets?page={n}&size=2", token=me)
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json["page"], r.json["size"], r.json["totalItems"], r.json["totalPages"]),
                             (n, 2, 6, 3), r)
            self.assertEqual(len(r.json["items"]), 2, r)
            seen += [t["id"] for t in r.json["items"]]
        self.assertEqual(sorted(seen), sorted(mine))
        self.assertEqual(self.client.get("/api/me/tickets?page=3&size=2", token=me).json["items"], [])
        # a check-in shows in the page
        first = min(mine)
        self.checked_in(ev1["id"] if mine[first]["eventId"] == ev1["id"] else ev2["id"], mine[first])
        items = self.client.get("/api/me/tickets?size=100", token=me).json["items"]
        self.assertEqual([t["status"] for t in items if t["id"] == first], ["CHECKED_IN"])
        # the bad parameters of any Page
        self.assertIn("page", self.field_errors(self.client.get("/api/me/tickets?page=-1", token=me)))
        self.assertIn("size", self.field_errors(self.client.get("/api/me/tickets?size=0", token=me)))
        self.assertIn("size", self.field_errors(self.client.get("/api/me/tickets?size=101", token=me)))
        self.assertIn("page", self.field_errors(self.client.get("/api/me/tickets?page=x", token=me)))
        # a USER route
        nobody, _ = self.api.user_token()
        r = self.client.get("/api/me/tickets", token=nobody)
        self.assertEqual((r.status, r.json["items"], r.json["totalItems"]), (200, [], 0), r)
        for token in (self.staff, self.admin):
            self.assertProblem(self.client.get("/api/me/tickets", token=token), 403)
            self.assertProblem(self.client.get(f"/api/me/tickets?eventId={ev1['id']}", token=token), 403)
        r = self.client.get("/api/me/tickets")
        self.assertProblem(r, 401)
        self.assertEqual(r.header("www-authenticate"), "Bearer", r)

    # --- 2. codes and keys -----------------------------------------------------------------------

    def test_codes_verify_offline_with_only_the_events_public_key_and_altered_ones_do_not(self):
        ev1, ev2 = self.create(capacity=10), self.create(capacity=10)
        key1, key2 = self.public_key(ev1["id"]), self.public_key(ev2["id"])
        self.assertNotEqual(key1, key2, "two events share a check-in key")
        self.assertEqual(self.public_key(ev1["id"], token=self.admin), key1)
        self.assertEqual(self.public_key(ev1["id"]), key1)  # stable
        r = self.client.get(f"/api/events/{ev1['id']}/checkin-key", token=self.staff)
        self.assertEqual(set(r.json), {"algorithm", "publicKey"}, r)
        self.assertEqual(len(r.json["publicKey"]), 43, r)  # 32 bytes, no padding
        for token in (self.user, self.other):
            self.assertProblem(self.client.get(f"/api/events/{ev1['id']}/checkin-key", token=token), 403)
        r = self.client.get(f"/api/events/{ev1['id']}/checkin-key")
        self.assertProblem(r, 401)
        self.assertEqual(r.header("www-authenticate"), "Bearer", r)
        self.assertProblem(self.client.get(f"/api/events/{UNKNOWN}/checkin-key", token=self.staff), 404)
        self.assertProblem(self.client.get("/api/events/abc/checkin-key", token=self.staff), 400)

        t1 = self.tickets(self.buy(ev1["id"], 4)["id"])
        t2 = self.tickets(self.buy(ev2["id"], 2, token=self.other)["id"], token=self.other)
        nonces = set()
        for tickets, key, wrong, ev in ((t1, key1, key2, ev1), (t2, key2, key1, ev2)):
            for t in tickets:
                code = t["code"]
                parts = tt.parse_code(code)
                self.assertIsNotNone(parts, f"not EH1.<eventId>.<ticketId>.<nonce>.<signature>: {code}")
                self.assertEqual((parts["eventId"], parts["ticketId"]), (ev["id"], t["id"]))
                self.assertEqual((len(parts["nonce"]), len(parts["signature"])), (16, 64))
                self.assertNotIn("=", code)
                nonces.add(parts["nonce"])
                self.assertTrue(tt.verifies(key, code), f"{code} does not verify under {key}")
                self.assertFalse(tt.verifies(wrong, code), "a code verifies under another event's key")
                for bad in (tt.altered_nonce(code), tt.altered_signature(code), tt.altered_signature(code, 0),
                            tt.altered_signature(code, 60), tt.forged(code), tt.with_event(code, UNKNOWN)):
                    self.assertNotEqual(bad, code)
                    self.assertFalse(tt.verifies(key, bad), f"an altered code verifies: {bad}")
        self.assertEqual(len(nonces), 6, "nonces repeat")
        # the keys stay what they were after tickets were issued
        self.assertEqual((self.public_key(ev1["id"]), self.public_key(ev2["id"])), (key1, key2))

    # --- 3. QR codes -----------------------------------------------------------------------------

    def test_the_qr_svg_is_served_to_the_owner_and_an_admin_only(self):
        ev = self.create(capacity=5)
        t = self.tickets(self.buy(ev["id"], 1)["id"])[0]
        path = f"/api/tickets/{t['id']}/qr.svg"
        for token in (self.user, self.admin):
            r = self.client.get(path, token=token)
            self.assertEqual(r.status, 200, r)
            self.assertTrue((r.header("content-type") or "").startswith("image/svg+xml"), r.headers)
            self.assertIn("<svg", r.text)
        self.assertProblem(self.client.get(path, token=self.other), 404)
        self.assertProblem(self.client.get(path, token=self.staff), 403)
        r = self.client.get(path)
        self.assertProblem(r, 401)
        self.assertEqual(r.header("www-authenticate"), "Bearer", r)
        for token in (self.user, self.admin):
            self.assertProblem(self.client.get(f"/api/tickets/{UNKNOWN}/qr.svg", token=token), 404)
            self.assertProblem(self.client.get("/api/tickets/abc/qr.svg", token=token), 400)

    def test_the_qr_svg_decodes_to_the_tickets_code(self):
        tt.qr_tools()
        ev = self.create(capacity=5)
        tickets = self.tickets(self.buy(ev["id"], 2)["id"])
        for t in tickets:
            for token in (self.user, self.admin):
                r = self.client.get(f"/api/tickets/{t['id']}/qr.svg", token=token)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(tt.decode_qr(r.raw), t["code"], f"QR of ticket {t['id']}")
        # what the QR holds checks in
        self.checked_in(ev["id"], tickets[0])

    # --- 4. check-in -----------------------------------------------------------------------------

    def test_staff_and_admin_check_in_once_and_the_same_scan_id_answers_the_same(self):
        ev = self.create(capacity=10)
        p = self.buy(ev["id"], 3)
        t1, t2, t3 = self.tickets(p["id"])
        s1 = "door-1-" + tag()
        first = self.checked_in(ev["id"], t1, s1)
        got = self.tickets(p["id"])
        self.assertEqual(got, [dict(t1, status="CHECKED_IN", checkedInAt=first["checkedInAt"]), t2, t3])
        self.assertEqual(self.tickets(p["id"], token=self.admin), got)
        # the same scanId: the same answer, from whoever sends it
        for token in (self.staff, self.admin):
            r = self.checkin(ev["id"], t1["code"], s1, token)
            self.assertEqual((r.status, r.json), (200, first), r)
        # another scan of the ticket: 409 with the time it was checked in
        failed = "door-2-" + tag()
        self.assertAlreadyCheckedIn(self.checkin(ev["id"], t1["code"], failed), first["checkedInAt"])
        self.assertAlreadyCheckedIn(self.checkin(ev["id"], t1["code"]), first["checkedInAt"])
        self.assertAlreadyCheckedIn(self.checkin(ev["id"], t1["code"], "door-3-" + tag(), self.admin),
                                    first["checkedInAt"])
        self.assertEqual(self.tickets(p["id"]), got)
        # a scanId that failed is not remembered: it checks in another ticket
        second = self.checked_in(ev["id"], t2, failed)
        self.assertEqual(second["ticket"]["id"], t2["id"])
        # an ADMIN checks in, without a scanId, and a 64-character scanId is fine
        third = self.checked_in(ev["id"], t3, token=self.admin)
        self.assertIsNone(third["scanId"])
        self.assertAlreadyCheckedIn(self.checkin(ev["id"], t3["code"], "s" * 64), third["checkedInAt"])
        self.assertEqual([(t["status"], us(t["checkedInAt"])) for t in self.tickets(p["id"])],
                         [("CHECKED_IN", us(a["checkedInAt"])) for a in (first, second, third)])
        self.assertStats(ev["id"], 0, 3, 0)
        t4 = self.tickets(self.buy(ev["id"], 1)["id"])[0]
        self.checked_in(ev["id"], t4, "s" * 63 + "4")
        self.assertStats(ev["id"], 0, 4, 0)

    def test_only_staff_and_admin_check_in_and_a_user_or_no_token_changes_nothing(self):
        ev = self.create(capacity=5)
        p = self.buy(ev["id"], 1)
        [t] = self.tickets(p["id"])
        paths = [("POST", f"/api/events/{ev['id']}/checkins", {"code": t["code"], "scanId": "u-" + tag()}),
                 ("POST", f"/api/events/{ev['id']}/checkins", {"code": 5}),  # the role before the body
                 ("POST", f"/api/events/{ev['id']}/checkins/batch",
                  {"scans": [{"code": t["code"], "scanId": "u-" + tag(), "scannedAt": "2020-01-01T00:00:00Z"}]}),
                 ("POST", f"/api/events/{ev['id']}/checkins/batch", {"scans": []}),
                 ("POST", "/api/events/abc/checkins", {"code": t["code"]}),
                 ("GET", f"/api/events/{ev['id']}/checkins/stats", None),
                 ("GET", f"/api/events/{ev['id']}/checkin-key", None)]
        for method, path, body in paths:
            for token in (self.user, self.other):
                self.assertProblem(self.client.request(method, path, body=body, token=token), 403)
            for token in (None, self.staff + "x", "not-a-jwt"):
                r = self.client.request(method, path, body=body, token=token)
                self.assertProblem(r, 401)
                self.assertEqual(r.header("www-authenticate"), "Bearer", r)
        self.assertStatuses(p["id"], ["VALID"])
        self.assertStats(ev["id"], 1, 0, 0)
        self.checked_in(ev["id"], t)

    def test_codes_that_are_not_genuine_or_of_another_event_are_unknown_tickets(self):
        ev, elsewhere = self.create(capacity=10), self.create(capacity=10)
        p = self.buy(ev["id"], 2)
        t1, t2 = self.tickets(p["id"])
        q = self.buy(elsewhere["id"], 1, token=self.other)
        [o] = self.tickets(q["id"], token=self.other)
        code = t1["code"]
        bad = [tt.forged(code), tt.forged(code), tt.altered_nonce(code), tt.altered_signature(code),
               tt.altered_signature(code, 0), tt.altered_signature(code, 42), tt.altered_signature(code, 84),
               tt.forged(t2["code"]),
               o["code"], tt.with_event(o["code"], ev["id"]), tt.with_event(code, elsewhere["id"]),
               tt.with_event(code, UNKNOWN),
               # t2's signature under t1's head and nonce
               code.rsplit(".", 1)[0] + "." + t2["code"].rsplit(".", 1)[1],
               *tt.garbage_codes(ev["id"], t1["id"], code)]
        key = self.public_key(ev["id"])
        scan_ids = []
        for i, c in enumerate(bad):
            self.assertFalse(tt.verifies(key, c), c)
            scan_id = f"bad-{i}-{tag()}"
            scan_ids.append(scan_id)
            for sid, token in ((scan_id, self.staff), (ABSENT, self.admin)):
                r = self.checkin(ev["id"], c, sid, token)
                self.assertProblem(r, 404, "unknown-ticket")
        self.assertStatuses(p["id"], ["VALID", "VALID"])
        self.assertStatuses(q["id"], ["VALID"], token=self.other)
        self.assertStats(ev["id"], 2, 0, 0)
        self.assertStats(elsewhere["id"], 1, 0, 0)
        # the genuine codes check in, at their own event only; a refused scanId is not remembered
        self.checked_in(ev["id"], t1, scan_ids[0])
        self.checked_in(elsewhere["id"], o, scan_ids[1])
        self.assertProblem(self.checkin(ev["id"], o["code"]), 404, "unknown-ticket")  # still not this event's
        self.assertStats(ev["id"], 1, 1, 0)
        self.assertStats(elsewhere["id"], 0, 1, 0)

    def test_a_very_long_string_is_no_genuine_code_and_so_an_unknown_ticket(self):
        # The contract bounds no code's length: a long string that is not a code is an unknown
        # ticket like any other, singly and in a batch (where it must not refuse the other scans).
        ev = self.create(capacity=5)
        p = self.buy(ev["id"], 1)
        [t] = self.tickets(p["id"])
        for long in ("x" * 5000, t["code"] + "A" * 1000):
            self.assertProblem(self.checkin(ev["id"], long, "long-" + tag()), 404, "unknown-ticket")
        sid_long, sid_good = "long-" + tag(), "good-" + tag()
        when = iso_ms(time.time() - 1)
        r = self.batch(ev["id"], [{"code": "x" * 5000, "scanId": sid_long, "scannedAt": when},
                                  {"code": t["code"], "scanId": sid_good, "scannedAt": when}])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(x["scanId"], x["result"], x["ticketId"]) for x in r.json["results"]],
                         [(sid_long, "UNKNOWN_TICKET", None), (sid_good, "CHECKED_IN", t["id"])], r)

    def test_bad_bodies_are_400_naming_the_field_and_change_nothing(self):
        ev = self.create(capacity=5)
        p = self.buy(ev["id"], 1)
        [t] = self.tickets(p["id"])
        path = f"/api/events/{ev['id']}/checkins"
        cases = [({}, ["code"]), ({"scanId": "x"}, ["code"]), ({"code": None}, ["code"]), ({"code": 123}, ["code"]),
                 ({"code": ["x"]}, ["code"]), ({"code": {"c": t["code"]}}, ["code"]), ({"code": True}, ["code"]),
                 ({"code": t["code"], "scanId": ""}, ["scanId"]),
                 ({"code": t["code"], "scanId": "x" * 65}, ["scanId"]),
                 ({"code": t["code"], "scanId": 5}, ["scanId"]),
                 ({"code": t["code"], "scanId": ["a"]}, ["scanId"]),
                 ({"code": t["code"], "scanId": "a\nb"}, ["scanId"]),
                 ({"code": t["code"], "scanId": "tab\there"}, ["scanId"]),
                 ({"code": 1, "scanId": ""}, ["code", "scanId"])]
        for body, fields in cases:
            for token in (self.staff, self.admin):
                got = self.assertFieldErrors(self.checkin(ev["id"], body=body, token=token), *fields)
                self.assertEqual(sorted(got), sorted(fields), body)
        for raw in (b"{", b"[]", b'"code"', b"null", b""):
            self.assertProblem(self.client.post(path, raw_body=raw, token=self.staff), 400)
        self.assertProblem(self.client.post(path, raw_body=json.dumps({"code": t["code"]}).encode(), token=self.staff,
                                            content_type="text/plain"), 415)
        self.assertProblem(Client(self.service.port).post(path, {"code": t["code"] + "x" * (65 * 1024)},
                                                          token=self.staff), 413)
        for bad in ("abc", "0", "-1", "1.5"):
            self.assertProblem(self.checkin(bad, t["code"]), 400)
        self.assertProblem(self.checkin(UNKNOWN, t["code"]), 404)
        r = self.client.get(path, token=self.staff)
        self.assertEqual(r.status, 405, r)
        self.assertIn("POST", r.header("allow") or "", r)
        self.assertStatuses(p["id"], ["VALID"])
        self.assertStats(ev["id"], 1, 0, 0)
        self.checked_in(ev["id"], t, "x" * 64)

    def test_a_scan_id_is_remembered_per_event_whatever_code_comes_with_it(self):
        ev, elsewhere = self.create(capacity=5), self.create(capacity=5)
        p = self.buy(ev["id"], 2)
        a1, a2 = self.tickets(p["id"])
        [b1] = self.tickets(self.buy(elsewhere["id"], 1)["id"])
        scan_id = "device-" + tag()
        first = self.checked_in(ev["id"], a1, scan_id)
        # the same scanId with another ticket's code answers the check-in it made
        r = self.checkin(ev["id"], a2["code"], scan_id)
        self.assertEqual((r.status, r.json), (200, first), r)
        r = self.batch(ev["id"], [{"code": a2["code"], "scanId": scan_id, "scannedAt": iso_ms(time.time() - 1)}])
        self.assertEqual(r.status, 200, r)
        [got] = r.json["results"]
        self.assertEqual((set(got), got["scanId"], got["result"], got["ticketId"], us(got["checkedInAt"])),
                         (RESULT_KEYS, scan_id, "REPLAYED", a1["id"], us(first["checkedInAt"])), r)
        self.assertStatuses(p["id"], ["CHECKED_IN", "VALID"])
        # at another event the scanId is new
        self.checked_in(elsewhere["id"], b1, scan_id)
        self.assertStats(ev["id"], 1, 1, 0)

    # --- 5. exactly once -------------------------------------------------------------------------

    def test_fifty_simultaneous_scans_of_one_ticket_check_it_in_exactly_once(self):
        ev = self.create(capacity=10)
        p = self.buy(ev["id"], 3)
        tickets = self.tickets(p["id"])
        port = self.service.port
        for n, t in enumerate(tickets):
            scan_ids = [f"race-{n}-{i}-{tag()}" for i in range(50)]

            def scan(i):
                c = Client(port)
                try:
                    return self.checkin(ev["id"], t["code"], scan_ids[i], self.admin if i % 10 == 9 else self.staff,
                                        client=c)
                finally:
                    c.close()
            results = concurrently(50, scan)
            self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
            counts = collections.Counter(r.status for r in results)
            self.assertEqual((counts[201], counts[409]), (1, 49), counts)
            [won] = [(i, r) for i, r in enumerate(results) if r.status == 201]
            i, r = won
            self.assertEqual(r.json["scanId"], scan_ids[i])
            self.assertEqual(r.json["ticket"], dict(t, status="CHECKED_IN", checkedInAt=r.json["checkedInAt"]))
            for other in results:
                if other.status == 409:
                    self.assertAlreadyCheckedIn(other, r.json["checkedInAt"])
            self.assertEqual(self.tickets(p["id"])[n]["checkedInAt"], r.json["checkedInAt"])
            self.assertStats(ev["id"], 2 - n, n + 1, 0)
            # the winning scanId replays; the losers' check in nothing
            again = self.checkin(ev["id"], t["code"], scan_ids[i])
            self.assertEqual((again.status, again.json), (200, r.json), again)
        # one notification per ticket, not one per scan
        ids = {t["id"] for t in tickets}
        self.assertTrue(wait_until(lambda: ids <= {l.get("ticket_id") for l in checked_in_lines(self.service)}, 10),
                        "ticket.checked_in lines missing")
        time.sleep(0.5)
        self.assertEqual(collections.Counter(l.get("ticket_id") for l in checked_in_lines(self.service)
                                             if l.get("ticket_id") in ids), {i: 1 for i in ids})

    def test_twenty_simultaneous_scans_with_one_scan_id_check_in_once_and_all_answer_the_same(self):
        ev = self.create(capacity=5)
        p = self.buy(ev["id"], 1)
        [t] = self.tickets(p["id"])
        scan_id = "same-" + tag()
        port = self.service.port

        def scan(i):
            c = Client(port)
            try:
                return self.checkin(ev["id"], t["code"], scan_id, client=c)
            finally:
                c.close()
        results = concurrently(20, scan)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        counts = collections.Counter(r.status for r in results)
        self.assertEqual((counts[201], counts[200]), (1, 19), counts)
        answers = {json.dumps(r.json, sort_keys=True) for r in results}
        self.assertEqual(len(answers), 1, answers)
        self.assertStats(ev["id"], 0, 1, 0)

    # --- 6. batches ------------------------------------------------------------------------------

    def test_a_batch_of_1000_offline_scans_is_answered_entry_by_entry_and_replayed_when_sent_again(self):
        seed = random.randrange(1 << 30)
        rnd = random.Random(seed)
        ctx = f"(random seed {seed})"
        ev, elsewhere = self.create(capacity=320), self.create(capacity=20)
        buyer, _ = self.api.user_token()
        purchases = [self.buy(ev["id"], 50, token=buyer) for _ in range(6)]
        issued = {p["id"]: self.tickets(p["id"], token=buyer) for p in purchases}
        foreign = self.tickets(self.buy(elsewhere["id"], 10, token=buyer)["id"], token=buyer)
        # one cancelled ticket: the highest id of its purchase
        p0 = purchases[0]
        r = self.cancel(p0["id"], 1, token=buyer)
        self.assertEqual((r.status, r.json["cancelledQuantity"], r.json["status"]), (200, 1, "CONFIRMED"), r)
        self.assertStatuses(p0["id"], ["VALID"] * 49 + ["CANCELLED"], token=buyer)
        cancelled = issued[p0["id"]][-1]
        every = [t for p in purchases for t in issued[p["id"]]]
        early = issued[purchases[1]["id"]][0]        # checked in by a single scan before the batch
        untouched = issued[purchases[2]["id"]][:5]   # only forged scans of these
        skip = {cancelled["id"], early["id"]} | {t["id"] for t in untouched}
        fresh = [t for t in every if t["id"] not in skip]
        self.assertEqual(len(fresh), 293)

        # offline scan times: after the sale, before the single check-in of `early`
        start = time.time()
        slots = 8
        slot_time = [start + 0.02 + k * 0.05 for k in range(slots)]
        run = tag()
        entries = []

        def entry(kind, code, ticket_id, when, scan_id=None):
            offset = rnd.choice([0] * 8 + [120, -300])  # a few with an offset instead of Z
            e = {"kind": kind, "code": code, "ticket": ticket_id, "scanId": scan_id or f"b-{run}-{len(entries)}",
                 "scannedAt": iso_ms(when, offset)}
            e["us"] = us(e["scannedAt"])
            entries.append(e)
            return e

        # genuine scans: every fresh ticket once or more (at most 4, each at its own time)
        forgeries, fixed = 60, 3 + 3 + 1
        repeats = 100
        counts = [1] * len(fresh)
        for _ in range(1000 - forgeries - fixed - repeats - len(fresh)):
            i = rnd.choice([i for i, c in enumerate(counts) if c < 4])
            counts[i] += 1
        genuine_of = collections.defaultdict(list)
        for t, n in zip(fresh, counts):
            for k in rnd.sample(range(slots), n):
                genuine_of[t["id"]].append(entry("genuine", t["code"], t["id"], slot_time[k]))
        # forgeries of this event's tickets and of the other event's
        forged_codes = ([tt.forged(t["code"]) for t in untouched + fresh[:10]] +
                        [tt.altered_nonce(t["code"]) for t in fresh[10:20]] +
                        [tt.altered_signature(t["code"], rnd.randrange(1, 84)) for t in fresh[20:30]] +
                        [t["code"] for t in foreign] +
                        [tt.with_event(t["code"], ev["id"]) for t in foreign[:5]] +
                        tt.garbage_codes(ev["id"], fresh[0]["id"], fresh[0]["code"])[:10])
        self.assertEqual(len(forged_codes), forgeries)
        for c in forged_codes:
            entry("forged", c, None, rnd.choice(slot_time))
        for _ in range(3):
            entry("cancelled", cancelled["code"], cancelled["id"], rnd.choice(slot_time))
            entry("early", early["code"], early["id"], rnd.choice(slot_time))  # earlier than its check-in
        early_scan_id = f"early-{run}"
        entry("early-replay", early["code"], early["id"], rnd.choice(slot_time), early_scan_id)
        rnd.shuffle(entries)
        # scanIds repeated inside the batch: a winner's scanId again, later in the batch and later in time
        winner = {tid: min(es, key=lambda e: e["us"]) for tid, es in genuine_of.items()}
        candidates = [w for w in winner.values() if w["us"] < us(iso_ms(slot_time[-1]))]
        for w in rnd.sample(candidates, repeats):
            e = entry("repeat", w["code"], w["ticket"], slot_time[-1], w["scanId"])
            entries.pop()
            at = entries.index(w)
            entries.insert(rnd.randint(at + 1, len(entries)), e)
        self.assertEqual(len(entries), 1000)
        self.assertEqual(len({e["scanId"] for e in entries}), 1000 - repeats)

        # the single check-in of `early`, after every scannedAt of the batch
        while time.time() < slot_time[-1] + 0.05:
            time.sleep(0.05)
        single = self.checked_in(ev["id"], early, early_scan_id)
        self.assertGreater(us(single["checkedInAt"]), max(e["us"] for e in entries))

        def expected_first(e):
            kind, tid = e["kind"], e["ticket"]
            if kind == "forged":
                return (e["scanId"], "UNKNOWN_TICKET", None, None)
            if kind == "cancelled":
                return (e["scanId"], "TICKET_CANCELLED", tid, None)
            if kind == "early":
                return (e["scanId"], "ALREADY_CHECKED_IN", tid, us(single["checkedInAt"]))
            if kind == "early-replay":
                return (e["scanId"], "REPLAYED", tid, us(single["checkedInAt"]))
            w = winner[tid]
            if kind == "repeat":
                return (e["scanId"], "REPLAYED", tid, w["us"])
            return (e["scanId"], "CHECKED_IN" if e is w else "ALREADY_CHECKED_IN", tid, w["us"])
        expected = [expected_first(e) for e in entries]
        # sent again: every scan that checked in is a replay now, the rest answer as before
        expected_again = [(s, "REPLAYED", tid, at) if result == "CHECKED_IN" else (s, result, tid, at)
                          for s, result, tid, at in expected]
        self.assertEqual(collections.Counter(x[1] for x in expected)["CHECKED_IN"], 293)

        scans = [{"code": e["code"], "scanId": e["scanId"], "scannedAt": e["scannedAt"]} for e in entries]
        data = json.dumps({"scans": scans}).encode()
        self.assertTrue(64 * 1024 < len(data) < MIB, len(data))  # over the general limit, under its own

        def compare(r, want, label):
            self.assertEqual(r.status, 200, r)
            results = r.json["results"]
            self.assertEqual(len(results), 1000, f"{label} {ctx}")
            wrong = []
            for i, (e, got, exp) in enumerate(zip(entries, results, want)):
                if set(got) != RESULT_KEYS:
                    wrong.append((i, e["kind"], "keys", sorted(got)))
                    continue
                have = (got["scanId"], got["result"], got["ticketId"], us(got["checkedInAt"]))
                if have != exp:
                    wrong.append((i, e["kind"], e["scannedAt"], "expected", exp, "got", got))
            kinds = collections.Counter(w[1] for w in wrong)
            if wrong:
                self.fail(f"{label}: {len(wrong)} of 1000 results differ, by kind {dict(kinds)} {ctx}; "
                          f"first ones: {wrong[:8]}")

        compare(self.client.post(f"/api/events/{ev['id']}/checkins/batch", raw_body=data, token=self.staff),
                expected, "first upload")

        def state():
            return {t["id"]: (t["status"], us(t["checkedInAt"]))
                    for p in purchases for t in self.tickets(p["id"], token=buyer)}
        want_state = {t["id"]: ("VALID", None) for t in every}
        want_state.update({tid: ("CHECKED_IN", w["us"]) for tid, w in winner.items()})
        want_state[early["id"]] = ("CHECKED_IN", us(single["checkedInAt"]))
        want_state[cancelled["id"]] = ("CANCELLED", None)
        now = state()
        self.assertEqual({k: v for k, v in now.items() if v != want_state[k]}, {}, ctx)
        self.assertStats(ev["id"], 5, 294, 1)
        self.assertStats(elsewhere["id"], 10, 0, 0)
        self.assertEqual([t["status"] for t in self.tickets(foreign[0]["purchaseId"], token=buyer)], ["VALID"] * 10)

        compare(self.client.post(f"/api/events/{ev['id']}/checkins/batch", raw_body=data, token=self.admin),
                expected_again, "second upload")
        self.assertEqual(state(), now)
        self.assertStats(ev["id"], 5, 294, 1)

        # one ticket.checked_in notification per checked-in ticket, none for the replays
        want_ids = set(winner) | {early["id"]}
        self.assertTrue(wait_until(lambda: {l.get("ticket_id") for l in checked_in_lines(self.service, ev["id"])}
                                   >= want_ids, 20), "ticket.checked_in lines missing")
        time.sleep(0.5)
        self.assertEqual(collections.Counter(l.get("ticket_id") for l in checked_in_lines(self.service, ev["id"])),
                         {tid: 1 for tid in want_ids})

    def test_a_batch_has_1_to_1000_scans_in_at_most_1_MiB_and_a_bad_entry_refuses_it_whole(self):
        ev = self.create(capacity=10)
        p = self.buy(ev["id"], 5)
        tickets = self.tickets(p["id"])
        when = iso_ms(time.time() - 60)
        run = tag()

        def scans(n):
            return [{"code": tickets[i % 5]["code"], "scanId": f"lim-{run}-{i}", "scannedAt": when}
                    for i in range(n)]
        path = f"/api/events/{ev['id']}/checkins/batch"
        self.assertIn("scans", self.field_errors(self.batch(ev["id"], scans(1001))))
        self.assertIn("scans", self.field_errors(self.batch(ev["id"], [])))
        for body in ({}, {"scans": None}, {"scans": "x"}, {"scans": {"code": tickets[0]["code"]}}):
            self.assertIn("scans", self.field_errors(self.client.post(path, body, token=self.staff)), body)
        good = scans(1)[0]
        for field, bad in (("scannedAt", ABSENT), ("scannedAt", "yesterday"), ("scannedAt", 5),
                           ("scannedAt", "2027-13-01T00:00:00Z"), ("code", ABSENT), ("code", 5),
                           ("scanId", ABSENT), ("scanId", ""), ("scanId", "x" * 65)):
            entry = {k: v for k, v in scans(2)[1].items() if k != field}
            if bad is not ABSENT:
                entry[field] = bad
            self.assertEntryError(self.batch(ev["id"], [good, entry]), field)
        self.assertProblem(self.client.post(path, raw_body=b"{", token=self.staff), 400)
        self.assertProblem(self.client.post(path, raw_body=b"[]", token=self.staff), 400)
        # over 1 MiB: 413 (1000 genuine scans padded with an unknown field)
        body = {"scans": scans(1000), "padding": ""}
        body["padding"] = "p" * (MIB + 1 - len(json.dumps(body).encode()))
        data = json.dumps(body).encode()
        self.assertEqual(len(data), MIB + 1)
        self.assertProblem(tt.post_large(self.service.port, path, data, self.staff), 413)
        self.assertStatuses(p["id"], ["VALID"] * 5)
        self.assertStats(ev["id"], 5, 0, 0)
        # exactly 1000 scans, padded to just under 1 MiB: read and applied
        body["padding"] = "p" * (MIB - 1 - len(json.dumps(dict(body, padding="")).encode()))
        data = json.dumps(body).encode()
        self.assertEqual(len(data), MIB - 1)
        r = Client(self.service.port).post(path, raw_body=data, token=self.staff)
        self.assertEqual(r.status, 200, r)
        results = r.json["results"]
        self.assertEqual([x["scanId"] for x in results], [s["scanId"] for s in body["scans"]])
        self.assertEqual(collections.Counter(x["result"] for x in results),
                         {"CHECKED_IN": 5, "ALREADY_CHECKED_IN": 995})
        self.assertEqual({us(x["checkedInAt"]) for x in results}, {us(when)})
        self.assertEqual([us(t["checkedInAt"]) for t in self.tickets(p["id"])], [us(when)] * 5)
        self.assertStats(ev["id"], 0, 5, 0)

    # --- 7. stats --------------------------------------------------------------------------------

    def test_stats_count_valid_checked_in_and_cancelled_tickets(self):
        ev = self.create(capacity=20)
        self.assertStats(ev["id"], 0, 0, 0)
        a = self.buy(ev["id"], 4)
        b = self.buy(ev["id"], 2)
        c = self.buy(ev["id"], 3, token=self.other)
        self.assertStats(ev["id"], 9, 0, 0)
        ta = self.tickets(a["id"])
        self.checked_in(ev["id"], ta[0])
        self.checked_in(ev["id"], ta[1], token=self.admin)
        self.assertEqual(self.cancel(b["id"]).status, 200)
        self.assertEqual(self.cancel(c["id"], 1, token=self.other).status, 200)
        self.assertStats(ev["id"], 4, 2, 3)
        self.assertEqual(self.stats(ev["id"], token=self.admin), self.stats(ev["id"]))
        r = self.client.get(f"/api/events/{ev['id']}/checkins/stats", token=self.staff)
        self.assertEqual(set(r.json) >= {"ticketsValid", "ticketsCheckedIn", "ticketsCancelled"}, True, r)
        for token in (self.user, self.other):
            self.assertProblem(self.client.get(f"/api/events/{ev['id']}/checkins/stats", token=token), 403)
        self.assertProblem(self.client.get(f"/api/events/{ev['id']}/checkins/stats"), 401)
        self.assertProblem(self.client.get(f"/api/events/{UNKNOWN}/checkins/stats", token=self.staff), 404)
        self.assertProblem(self.client.get("/api/events/abc/checkins/stats", token=self.staff), 400)

    # --- 8. cancellation and checked-in tickets --------------------------------------------------

    def test_a_cancel_without_quantity_cancels_the_valid_tickets_and_leaves_the_checked_in_one(self):
        ev = self.create(capacity=10)
        p = self.buy(ev["id"], 3)
        t1, t2, t3 = self.tickets(p["id"])
        self.checked_in(ev["id"], t1)
        r = self.cancel(p["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual({k: r.json[k] for k in ("cancelledQuantity", "refundedCents", "status")},
                         {"cancelledQuantity": 2, "refundedCents": 2 * PRICE, "status": "CONFIRMED"}, r)
        self.assertStatuses(p["id"], ["CHECKED_IN", "CANCELLED", "CANCELLED"])
        e = self.get_event(ev["id"])
        self.assertEqual((e["ticketsSold"], e["ticketsAvailable"]), (1, 9))
        self.assertStats(ev["id"], 0, 1, 2)
        # nothing VALID left, one checked in: checked-in, whatever quantity is sent
        for quantity in (ABSENT, 1, 3):
            for token in (self.user, self.admin):
                self.assertProblem(self.cancel(p["id"], quantity, token), 409, "checked-in")
        self.assertEqual(self.get_purchase(p["id"])["cancelledQuantity"], 2)
        # the cancelled tickets scan as cancelled, singly and in a batch
        for t in (t2, t3):
            self.assertProblem(self.checkin(ev["id"], t["code"], "c-" + tag()), 409, "ticket-cancelled")
            self.assertProblem(self.checkin(ev["id"], t["code"], token=self.admin), 409, "ticket-cancelled")
        sid = "c-" + tag()
        r = self.batch(ev["id"], [{"code": t2["code"], "scanId": sid, "scannedAt": iso_ms(time.time() - 5)}])
        self.assertEqual((r.status, r.json), (200, {"results": [{"scanId": sid, "result": "TICKET_CANCELLED",
                                                                   "ticketId": t2["id"], "checkedInAt": None}]}), r)
        self.assertStatuses(p["id"], ["CHECKED_IN", "CANCELLED", "CANCELLED"])
        self.assertStats(ev["id"], 0, 1, 2)

    def test_cancellations_take_the_valid_tickets_with_the_highest_ids_first(self):
        ev = self.create(capacity=10)
        p = self.buy(ev["id"], 4)
        t1, t2, t3, t4 = self.tickets(p["id"])
        self.checked_in(ev["id"], t3)
        r = self.cancel(p["id"], 1)
        self.assertEqual((r.status, r.json["cancelledQuantity"]), (200, 1), r)
        self.assertStatuses(p["id"], ["VALID", "VALID", "CHECKED_IN", "CANCELLED"])
        r = self.cancel(p["id"], 1, token=self.admin)
        self.assertEqual((r.status, r.json["cancelledQuantity"]), (200, 2), r)
        self.assertStatuses(p["id"], ["VALID", "CANCELLED", "CHECKED_IN", "CANCELLED"])
        # two not cancelled, one of them VALID: two asked is checked-in, nothing changes
        before = (self.get_purchase(p["id"]), self.tickets(p["id"]), self.get_event(ev["id"])["ticketsSold"])
        self.assertProblem(self.cancel(p["id"], 2), 409, "checked-in")
        self.assertEqual((self.get_purchase(p["id"]), self.tickets(p["id"]), self.get_event(ev["id"])["ticketsSold"]),
                         before)
        r = self.cancel(p["id"])
        self.assertEqual((r.status, r.json["cancelledQuantity"], r.json["refundedCents"], r.json["status"]),
                         (200, 3, 3 * PRICE, "CONFIRMED"), r)
        self.assertStatuses(p["id"], ["CANCELLED", "CANCELLED", "CHECKED_IN", "CANCELLED"])
        self.assertStats(ev["id"], 0, 1, 3)
        self.assertProblem(self.checkin(ev["id"], t1["code"]), 409, "ticket-cancelled")
        self.assertProblem(self.checkin(ev["id"], t4["code"]), 409, "ticket-cancelled")

    def test_cancelling_more_than_the_valid_tickets_is_409_checked_in_and_changes_nothing(self):
        ev = self.create(capacity=10)
        p = self.buy(ev["id"], 3)
        tickets = self.tickets(p["id"])
        self.checked_in(ev["id"], tickets[1])
        q = self.buy(ev["id"], 2)
        for t in self.tickets(q["id"]):
            self.checked_in(ev["id"], t)

        def state():
            return ([self.get_purchase(x["id"]) for x in (p, q)], [self.tickets(x["id"]) for x in (p, q)],
                    self.get_event(ev["id"]), self.stats(ev["id"]))
        before = state()
        self.assertEqual(before[3], {"ticketsValid": 2, "ticketsCheckedIn": 3, "ticketsCancelled": 0})
        for token in (self.user, self.admin):
            self.assertProblem(self.cancel(p["id"], 3, token), 409, "checked-in")
            for quantity in (ABSENT, 1, 2):  # every ticket checked in
                self.assertProblem(self.cancel(q["id"], quantity, token), 409, "checked-in")
        self.assertEqual(state(), before)
        self.assertEqual(before[0][0]["cancelledQuantity"], 0)
        # what may be cancelled still is
        r = self.cancel(p["id"], 2)
        self.assertEqual((r.status, r.json["cancelledQuantity"]), (200, 2), r)
        self.assertStatuses(p["id"], ["CANCELLED", "CHECKED_IN", "CANCELLED"])

    # --- 9. notifications ------------------------------------------------------------------------

    def test_each_check_in_writes_one_ticket_checked_in_notification(self):
        ev = self.create(capacity=5)
        p = self.buy(ev["id"], 2)
        t1, t2 = self.tickets(p["id"])
        scan_id = "note-" + tag()
        first = self.checked_in(ev["id"], t1, scan_id)
        line = wait_for_log([self.service], "ticket.checked_in", lambda l: l.get("ticket_id") == t1["id"])
        self.assertIsNotNone(line, f"no ticket.checked_in log line naming ticket_id {t1['id']}: "
                                   f"{checked_in_lines(self.service)[-3:]}")
        self.assertEqual((line.get("event_id"), line.get("purchase_id")), (ev["id"], p["id"]), line)
        # a replay, a second scan and a refused one write nothing
        self.assertEqual(self.checkin(ev["id"], t1["code"], scan_id).status, 200)
        self.assertProblem(self.checkin(ev["id"], t1["code"]), 409, "already-checked-in")
        self.assertProblem(self.checkin(ev["id"], tt.forged(t2["code"])), 404, "unknown-ticket")
        # a batch check-in writes one too
        sid = "note-b-" + tag()
        r = self.batch(ev["id"], [{"code": t2["code"], "scanId": sid, "scannedAt": iso_ms(time.time() - 2)}])
        self.assertEqual(r.json["results"][0]["result"], "CHECKED_IN", r)
        self.assertIsNotNone(wait_for_log([self.service], "ticket.checked_in",
                                          lambda l: l.get("ticket_id") == t2["id"]), "no line for the batch")
        time.sleep(0.5)
        self.assertEqual(collections.Counter(l.get("ticket_id") for l in checked_in_lines(self.service, ev["id"])),
                         {t1["id"]: 1, t2["id"]: 1})
        self.assertEqual(us(first["checkedInAt"]), us(self.tickets(p["id"])[0]["checkedInAt"]))


class TicketRestartTest(TicketCase):
    """A check-in survives kill -9 and a restart on the same database."""

    def test_check_ins_survive_kill_9_and_the_keys_and_scan_ids_too(self):
        ev = self.create(capacity=5)
        p = self.buy(ev["id"], 3)
        t1, t2, t3 = self.tickets(p["id"])
        key = self.public_key(ev["id"])
        scan_id = "before-kill-" + tag()
        first = self.checked_in(ev["id"], t1, scan_id)
        when = iso_ms(time.time() - 3)
        batch_scan = {"code": t2["code"], "scanId": "batch-" + tag(), "scannedAt": when}
        r = self.batch(ev["id"], [batch_scan])
        self.assertEqual(r.json["results"][0]["result"], "CHECKED_IN", r)

        self.service.kill()
        self.service.start()
        self.client.close()
        type(self).client = self.service.client()
        type(self).api = Api(self.client)

        self.assertEqual([(t["status"], us(t["checkedInAt"])) for t in self.tickets(p["id"])],
                         [("CHECKED_IN", us(first["checkedInAt"])), ("CHECKED_IN", us(when)), ("VALID", None)])
        self.assertStats(ev["id"], 1, 2, 0)
        self.assertEqual(self.public_key(ev["id"]), key)
        self.assertEqual([t["code"] for t in self.tickets(p["id"])], [t1["code"], t2["code"], t3["code"]])
        self.assertAlreadyCheckedIn(self.checkin(ev["id"], t1["code"]), first["checkedInAt"])
        r = self.checkin(ev["id"], t1["code"], scan_id)
        self.assertEqual((r.status, r.json), (200, first), r)
        r = self.batch(ev["id"], [batch_scan])
        self.assertEqual(r.json["results"], [{"scanId": batch_scan["scanId"], "result": "REPLAYED",
                                              "ticketId": t2["id"], "checkedInAt": r.json["results"][0]["checkedInAt"]}])
        self.assertEqual(us(r.json["results"][0]["checkedInAt"]), us(when))
        # a code issued before the restart still checks in
        self.checked_in(ev["id"], t3, "after-restart-" + tag())
        self.assertStats(ev["id"], 0, 3, 0)
        # every check-in notified (at least once, across both runs)
        ids = {t1["id"], t2["id"], t3["id"]}
        self.assertTrue(wait_until(lambda: ids <= {l.get("ticket_id") for l in checked_in_lines(self.service)}, 15),
                        checked_in_lines(self.service))


if __name__ == "__main__":
    unittest.main()
