"""Holds over real HTTP against real PostgreSQL: a hold keeps tickets for one buyer until it is
confirmed into a purchase, released, or expires (hold.ttl). The lifecycle and its answers, the
figures of the event and its types, idempotency keys per kind of request, validation and roles
(each refusal changes nothing), expiry read at once from expiresAt and stored within 2 s (also
when the event's actor was passivated, and after a kill -9 and restart), races for the last
tickets, the buyer limit under concurrent holds of one participant, confirms racing expiry
around expiresAt, and the price fixed when the tickets are first held."""
import concurrent.futures
import contextlib
import datetime
import random
import re
import time
import unittest
import uuid

from harness import Api, Client, ServiceTestCase, iso_in, metric
from test_purchases import concurrently, wait_until

HOLD_KEYS = {"id", "eventId", "ticketTypeId", "participantId", "quantity", "status", "expiresAt", "createdAt",
             "purchaseId"}
PURCHASE_KEYS = {"id", "eventId", "participantId", "ticketTypeId", "quantity", "unitPriceCents", "currency",
                 "totalCents", "cancelledQuantity", "refundedCents", "status", "purchasedAt"}
UNKNOWN = 987654321
SLACK = 0.3       # clock and scheduling slack around expiresAt, seconds
STORED_WITHIN = 2.0  # the contract: the status is stored within 2 s of expiresAt


def tag():
    return uuid.uuid4().hex[:12]


def ts(iso):
    """An ISO-8601 time of the API (…Z, optional fraction) as seconds since the epoch."""
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def hold(port, token, event_id, quantity=1, type_id=None, key=None):
    """One hold on a connection of its own, as a separate buyer would."""
    body = {"quantity": quantity}
    if type_id is not None:
        body["ticketTypeId"] = type_id
    headers = {"Idempotency-Key": key} if key is not None else None
    c = Client(port)
    try:
        return c.post(f"/api/events/{event_id}/holds", body, token=token, headers=headers)
    finally:
        c.close()


def confirm(port, token, hold_id):
    c = Client(port)
    try:
        return c.post(f"/api/holds/{hold_id}/confirm", token=token)
    finally:
        c.close()


def release(port, token, hold_id):
    c = Client(port)
    try:
        return c.delete(f"/api/holds/{hold_id}", token=token)
    finally:
        c.close()


def purchase(port, token, event_id, quantity=1, type_id=None):
    body = {"quantity": quantity}
    if type_id is not None:
        body["ticketTypeId"] = type_id
    c = Client(port)
    try:
        return c.post(f"/api/events/{event_id}/purchases", body, token=token)
    finally:
        c.close()


def make_users(port, n, parallel=8):
    """n registered USERs signed in, a few at a time (one hashing thread serves them all)."""
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda i: Api(Client(port)).user_token(), range(n)))


def live_actors(client):
    m = re.search(r"^eventhub_event_actors (\S+)$", client.get("/actuator/prometheus").text, re.M)
    return float(m.group(1)) if m else -1


_purchase_sql = {}


def purchase_of(db):
    """The SQL of the purchase id of a hold `h`: the column holds.purchase_id where the schema has
    one, else the purchase that names the hold (purchases.hold_id)."""
    if db.name not in _purchase_sql:
        columns = {row[0] for row in db.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'holds'")}
        _purchase_sql[db.name] = ("h.purchase_id" if "purchase_id" in columns else
                                  "(SELECT hp.id FROM purchases hp WHERE hp.hold_id = h.id)")
    return _purchase_sql[db.name]


def hold_row(db, hold_id):
    """(event_id, ticket_type_id, participant_id, quantity, status, purchase id) of a stored hold,
    or None."""
    rows = db.query("SELECT h.event_id, h.ticket_type_id, h.participant_id, h.quantity, h.status, "
                    f"{purchase_of(db)} FROM holds h WHERE h.id = %s", hold_id)
    return rows[0] if rows else None


def stored_status(db, hold_id):
    rows = db.query("SELECT status FROM holds WHERE id = %s", hold_id)
    return rows[0][0] if rows else None


def wait_stored(db, hold_ids, status, deadline, interval=0.05):
    """Polls PostgreSQL (only: no request reaches the service) until every hold's stored status is
    `status`, or the deadline (epoch seconds) passes. Returns the holds still not there."""
    conn = db.connect()
    try:
        cur = conn.cursor()
        while True:
            cur.execute("SELECT id FROM holds WHERE id = ANY(%s) AND status <> %s", (list(hold_ids), status))
            left = {row[0] for row in cur.fetchall()}
            if not left or time.time() > deadline:
                return left
            time.sleep(interval)
    finally:
        conn.close()


def wait_for_log(services, event, predicate, timeout=10):
    """The first JSON log line of `event` matching predicate on any of the services, or None."""
    deadline = time.time() + timeout
    while True:
        for service in services:
            for line in service.log_lines(event):
                if predicate(line):
                    return line
        if time.time() > deadline:
            return None
        time.sleep(0.1)


def inventory(test, db, event_id):
    """What PostgreSQL holds for an event, checked against its own rows: tickets_sold is the sum of
    the purchases, tickets_held the sum of the HELD holds, for the event and for each type, and
    neither the event nor a type has more sold plus held than it may."""
    capacity, sold, held = db.query("SELECT capacity, tickets_sold, tickets_held FROM events WHERE id = %s",
                                    event_id)[0]
    purchased = db.scalar("SELECT coalesce(sum(quantity), 0) FROM purchases WHERE event_id = %s", event_id)
    holding = db.scalar("SELECT coalesce(sum(quantity), 0) FROM holds WHERE event_id = %s AND status = 'HELD'",
                        event_id)
    figures = {"capacity": capacity, "sold": sold, "held": held, "purchased": purchased, "holding": holding}
    test.assertEqual(sold, purchased, figures)
    test.assertEqual(held, holding, figures)
    test.assertLessEqual(sold + held, capacity, figures)
    types = {}
    for tid, quota, t_sold, t_held, t_purchased, t_holding in db.query(
            "SELECT t.id, t.quota, t.tickets_sold, t.tickets_held, "
            "(SELECT coalesce(sum(p.quantity), 0) FROM purchases p WHERE p.ticket_type_id = t.id), "
            "(SELECT coalesce(sum(h.quantity), 0) FROM holds h WHERE h.ticket_type_id = t.id AND h.status = 'HELD') "
            "FROM ticket_types t WHERE t.event_id = %s ORDER BY t.id", event_id):
        row = {"quota": quota, "sold": t_sold, "held": t_held, "purchased": t_purchased, "holding": t_holding}
        test.assertEqual(t_sold, t_purchased, (tid, row))
        test.assertEqual(t_held, t_holding, (tid, row))
        test.assertLessEqual(t_sold + t_held, quota, (tid, row))
        types[tid] = row
    figures["types"] = types
    return figures


class HoldCase(ServiceTestCase):
    """Calls and assertions shared by the classes below."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.api.admin_token()

    def setUp(self):
        self.user, self.me = self.api.user_token()

    def create(self, capacity=10, **extra):
        return self.api.create_event(capacity=capacity, **extra)

    def two_types(self, capacity=10, **extra):
        return self.create(capacity=capacity, ticketTypes=[{"name": "Floor", "priceCents": 1500, "quota": 6},
                                                           {"name": "Balcony", "priceCents": 3000, "currency": "USD",
                                                            "quota": 10}], **extra)

    def get_event(self, event_id):
        r = self.client.get(f"/api/events/{event_id}")
        self.assertEqual(r.status, 200, r)
        return r.json

    def hold(self, event_id, quantity=1, type_id=None, token=None, key=None):
        body = {"quantity": quantity}
        if type_id is not None:
            body["ticketTypeId"] = type_id
        headers = {"Idempotency-Key": key} if key is not None else None
        return self.client.post(f"/api/events/{event_id}/holds", body, token=token or self.user, headers=headers)

    def held(self, event_id, quantity=1, type_id=None, token=None, key=None):
        r = self.hold(event_id, quantity, type_id, token, key)
        self.assertEqual(r.status, 201, r)
        return r.json

    def confirm(self, hold_id, token=None):
        return self.client.post(f"/api/holds/{hold_id}/confirm", token=token or self.user)

    def release(self, hold_id, token=None):
        return self.client.delete(f"/api/holds/{hold_id}", token=token or self.user)

    def get_hold(self, hold_id, token=None):
        r = self.client.get(f"/api/holds/{hold_id}", token=token or self.user)
        self.assertEqual(r.status, 200, r)
        return r.json

    def buy(self, event_id, quantity=1, type_id=None, token=None):
        body = {"quantity": quantity}
        if type_id is not None:
            body["ticketTypeId"] = type_id
        return self.client.post(f"/api/events/{event_id}/purchases", body, token=token or self.user)

    def db_hold(self, hold_id):
        row = hold_row(self.db, hold_id)
        self.assertIsNotNone(row, f"hold {hold_id} is not in the database")
        return row

    def assertAvailability(self, ev):
        """The contract's formulas, no waitlist: held counts only unexpired holds."""
        event_available = max(0, ev["capacity"] - ev["ticketsSold"] - ev["ticketsHeld"])
        self.assertEqual(ev["ticketsAvailable"], event_available, ev)
        self.assertEqual(ev["ticketsSold"], sum(t["ticketsSold"] for t in ev["ticketTypes"]), ev)
        self.assertEqual(ev["ticketsHeld"], sum(t["ticketsHeld"] for t in ev["ticketTypes"]), ev)
        for t in ev["ticketTypes"]:
            self.assertEqual(t["ticketsAvailable"],
                             max(0, min(t["quota"] - t["ticketsSold"] - t["ticketsHeld"], event_available)), t)

    def state(self, event_ids):
        """Everything a refused request must leave as it was: every hold row, the purchases, the
        counters of the events and their types in PostgreSQL, and the events as the API shows them."""
        return (self.db.query("SELECT h.id, h.event_id, h.ticket_type_id, h.participant_id, h.quantity, h.status, "
                              f"h.expires_at, {purchase_of(self.db)} FROM holds h ORDER BY h.id"),
                self.db.query("SELECT count(*), coalesce(sum(quantity), 0) FROM purchases"),
                self.db.query("SELECT id, tickets_sold, tickets_held FROM events WHERE id = ANY(%s) ORDER BY id",
                              list(event_ids)),
                self.db.query("SELECT id, quota, tickets_sold, tickets_held FROM ticket_types "
                              "WHERE event_id = ANY(%s) ORDER BY id", list(event_ids)),
                [self.get_event(e) for e in event_ids])

    @contextlib.contextmanager
    def unchanged(self, *event_ids):
        before = self.state(event_ids)
        yield
        self.assertEqual(self.state(event_ids), before, "a refused request changed something")


class HoldLifecycleTest(HoldCase):
    TTL = 7 * 60
    service_args = ("--hold.ttl", "7m", "--purchase.max-per-order", "4", "--log.format", "json")

    def test_a_hold_is_201_with_location_and_keeps_its_tickets_from_the_event_and_its_type(self):
        ev = self.two_types(capacity=10, name=f"Held {tag()}")
        floor, balcony = ev["ticketTypes"]
        before = time.time()
        r = self.hold(ev["id"], 2, floor["id"])
        after = time.time()
        self.assertEqual(r.status, 201, r)
        h = r.json
        self.assertEqual(set(h), HOLD_KEYS)
        self.assertEqual(r.header("location"), f"/api/holds/{h['id']}")
        self.assertEqual({k: h[k] for k in HOLD_KEYS - {"id", "expiresAt", "createdAt"}},
                         {"eventId": ev["id"], "ticketTypeId": floor["id"], "participantId": self.me["id"],
                          "quantity": 2, "status": "HELD", "purchaseId": None})
        self.assertTrue(before - 1 <= ts(h["createdAt"]) <= after + 1, (before, h, after))
        self.assertTrue(before + self.TTL - 1 <= ts(h["expiresAt"]) <= after + self.TTL + 1, (before, h, after))
        self.assertAlmostEqual(ts(h["expiresAt"]) - ts(h["createdAt"]), self.TTL, delta=1)

        # read back by its owner and the ADMIN
        self.assertEqual(self.get_hold(h["id"]), h)
        self.assertEqual(self.get_hold(h["id"], token=self.admin), h)

        now = self.get_event(ev["id"])
        self.assertAvailability(now)
        types = {t["id"]: t for t in now["ticketTypes"]}
        self.assertEqual((now["ticketsSold"], now["ticketsHeld"], now["ticketsAvailable"]), (0, 2, 8))
        self.assertEqual({k: types[floor["id"]][k] for k in ("ticketsSold", "ticketsHeld", "ticketsAvailable")},
                         {"ticketsSold": 0, "ticketsHeld": 2, "ticketsAvailable": 4})
        self.assertEqual({k: types[balcony["id"]][k] for k in ("ticketsSold", "ticketsHeld", "ticketsAvailable")},
                         {"ticketsSold": 0, "ticketsHeld": 0, "ticketsAvailable": 8})  # the event binds
        self.assertEqual(self.client.get(f"/api/events/{ev['id']}/ticket-types/{floor['id']}").json,
                         types[floor["id"]])

        self.assertEqual(self.db_hold(h["id"]), (ev["id"], floor["id"], self.me["id"], 2, "HELD", None))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 0)
        figures = inventory(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["held"]), (0, 2))
        self.assertEqual(figures["types"][floor["id"]]["held"], 2)
        # the listing shows the held tickets within listing.max-age
        self.assertTrue(wait_until(lambda: [(e["ticketsHeld"], e["ticketsAvailable"]) for e in self.client.get(
            f"/api/events?size=100&q={ev['name'].split()[-1]}").json["items"]] == [(2, 8)], timeout=5))

        # on a single-type event the type may be left out: the only type
        single = self.create(capacity=5)
        s = self.held(single["id"], 3)
        self.assertEqual((s["ticketTypeId"], s["quantity"]), (single["ticketTypes"][0]["id"], 3))
        now = self.get_event(single["id"])
        self.assertEqual((now["ticketsHeld"], now["ticketsAvailable"], now["ticketTypes"][0]["ticketsHeld"],
                          now["ticketTypes"][0]["ticketsAvailable"]), (3, 2, 3, 2))

    def test_my_holds_are_listed_newest_first_with_paging(self):
        ev = self.create(capacity=10)
        other_ev = self.create(capacity=10)
        ids = [self.held(e["id"], 1)["id"] for e in (ev, other_ev, ev)]
        self.assertEqual(self.release(ids[1]).status, 204)
        page = self.client.get("/api/me/holds?size=2", token=self.user)
        self.assertEqual(page.status, 200, page)
        page = page.json
        self.assertEqual([h["id"] for h in page["items"]], ids[::-1][:2])
        self.assertEqual((page["totalItems"], page["totalPages"], page["page"], page["size"]), (3, 2, 0, 2))
        self.assertEqual(page["items"][0], self.get_hold(ids[2]))
        self.assertEqual(page["items"][1]["status"], "RELEASED")
        second = self.client.get("/api/me/holds?size=2&page=1", token=self.user).json
        self.assertEqual([h["id"] for h in second["items"]], [ids[0]])
        self.assertEqual([h["id"] for h in self.client.get("/api/me/holds", token=self.user).json["items"]],
                         ids[::-1])
        other, _ = self.api.user_token()
        self.assertEqual(self.client.get("/api/me/holds", token=other).json["totalItems"], 0)
        self.assertEqual(self.field_errors(self.client.get("/api/me/holds?size=0", token=self.user)),
                         {"size": "must be an integer between 1 and 100"})
        self.assertIn("page", self.field_errors(self.client.get("/api/me/holds?page=-1", token=self.user)))
        self.assertProblem(self.client.get("/api/me/holds", token=self.admin), 403)
        self.assertProblem(self.client.get("/api/me/holds"), 401)

    def test_confirm_makes_one_purchase_and_again_answers_the_same_purchase(self):
        ev = self.two_types(capacity=10)
        floor, balcony = ev["ticketTypes"]
        h = self.held(ev["id"], 3, balcony["id"])
        r = self.confirm(h["id"])
        self.assertEqual(r.status, 201, r)
        p = r.json
        self.assertEqual(set(p), PURCHASE_KEYS)
        self.assertEqual(r.header("location"), f"/api/purchases/{p['id']}")
        self.assertEqual({k: p[k] for k in PURCHASE_KEYS - {"id", "purchasedAt"}},
                         {"eventId": ev["id"], "participantId": self.me["id"], "ticketTypeId": balcony["id"],
                          "quantity": 3, "unitPriceCents": 3000, "currency": "USD", "totalCents": 9000,
                          "cancelledQuantity": 0, "refundedCents": 0, "status": "CONFIRMED"})
        self.assertEqual(self.client.get(r.header("location"), token=self.user).json, p)
        self.assertIn(p, self.client.get("/api/me/purchases?size=100", token=self.user).json["items"])

        again = self.confirm(h["id"])
        self.assertEqual((again.status, again.header("idempotent-replayed")), (200, "true"), again)
        self.assertEqual(again.json, p)
        self.assertEqual(again.header("location"), r.header("location"))

        confirmed = self.get_hold(h["id"])
        self.assertEqual(confirmed, dict(h, status="CONFIRMED", purchaseId=p["id"]))
        now = self.get_event(ev["id"])
        self.assertAvailability(now)
        self.assertEqual((now["ticketsSold"], now["ticketsHeld"], now["ticketsAvailable"]), (3, 0, 7))
        self.assertEqual([(t["ticketsSold"], t["ticketsHeld"]) for t in now["ticketTypes"]], [(0, 0), (3, 0)])
        self.assertEqual(self.db_hold(h["id"]), (ev["id"], balcony["id"], self.me["id"], 3, "CONFIRMED", p["id"]))
        self.assertEqual(self.db.query("SELECT id, ticket_type_id, quantity, unit_price_cents, currency, total_cents "
                                       "FROM purchases WHERE event_id = %s", ev["id"]),
                         [(p["id"], balcony["id"], 3, 3000, "USD", 9000)])
        inventory(self, self.db, ev["id"])

        # a confirmed hold is not released; nothing changes
        self.assertProblem(self.release(h["id"]), 409, "hold-confirmed")
        self.assertEqual(self.get_hold(h["id"]), confirmed)
        self.assertEqual(self.get_event(ev["id"]), now)
        # the purchase is confirmed like any other: one purchase.confirmed notification
        line = wait_for_log([self.service], "purchase.confirmed", lambda l: l.get("purchase_id") == p["id"])
        self.assertIsNotNone(line, "no purchase.confirmed log line for the confirmed hold")
        self.assertEqual((line["event_id"], line["participant_id"], line["quantity"]), (ev["id"], self.me["id"], 3))

    def test_release_frees_the_tickets_at_once_and_again_is_204(self):
        ev = self.create(capacity=4)
        other, _ = self.api.user_token()
        h = self.held(ev["id"], 4)
        self.assertEqual(self.get_event(ev["id"])["ticketsAvailable"], 0)
        self.assertEqual(self.assertProblem(self.hold(ev["id"], 1, token=other), 409, "sold-out")["ticketsAvailable"], 0)
        self.assertEqual(self.assertProblem(self.buy(ev["id"], 1, token=other), 409, "sold-out")["ticketsAvailable"], 0)

        r = self.release(h["id"])
        self.assertEqual((r.status, r.raw), (204, b""), r)
        now = self.get_event(ev["id"])  # at once, no waiting
        self.assertEqual((now["ticketsSold"], now["ticketsHeld"], now["ticketsAvailable"]), (0, 0, 4))
        self.assertEqual((now["ticketTypes"][0]["ticketsHeld"], now["ticketTypes"][0]["ticketsAvailable"]), (0, 4))
        released = self.get_hold(h["id"])
        self.assertEqual(released, dict(h, status="RELEASED"))
        self.assertEqual(self.db_hold(h["id"])[4:], ("RELEASED", None))
        inventory(self, self.db, ev["id"])

        with self.unchanged(ev["id"]):
            self.assertEqual(self.release(h["id"]).status, 204)
            self.assertProblem(self.confirm(h["id"]), 409, "hold-released")
        self.assertEqual(self.get_hold(h["id"]), released)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 0)

        # the freed tickets are really there: someone else holds all of them
        again = self.held(ev["id"], 4, token=other)
        self.assertEqual(self.get_event(ev["id"])["ticketsHeld"], 4)
        # an ADMIN may release someone's hold
        self.assertEqual(self.release(again["id"], token=self.admin).status, 204)
        self.assertEqual(self.get_hold(again["id"], token=other)["status"], "RELEASED")
        self.assertEqual(self.get_event(ev["id"])["ticketsAvailable"], 4)
        figures = inventory(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["held"]), (0, 0))

    def test_a_repeated_idempotency_key_answers_the_same_hold_and_a_purchase_key_is_a_new_request(self):
        ev = self.create(capacity=2)
        key = "hold-" + tag()
        first = self.hold(ev["id"], 2, key=key)
        self.assertEqual(first.status, 201, first)
        self.assertEqual(self.get_event(ev["id"])["ticketsAvailable"], 0)
        again = self.hold(ev["id"], 2, key=key)  # even though nothing is left now
        self.assertEqual((again.status, again.header("idempotent-replayed")), (200, "true"), again)
        self.assertEqual(again.json, first.json)
        self.assertEqual(again.header("location"), first.header("location"))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE participant_id = %s", self.me["id"]), 1)
        other_ev = self.create(capacity=5)
        with self.unchanged(ev["id"], other_ev["id"]):
            self.assertProblem(self.hold(ev["id"], 1, key=key), 422)  # another body
            self.assertProblem(self.hold(other_ev["id"], 2, key=key), 422)  # another event
        # the key belongs to this participant: another one's same key is their own request
        other, _ = self.api.user_token()
        self.assertEqual(self.hold(other_ev["id"], 2, token=other, key=key).status, 201)
        # the same key on a purchase is another kind of request: a new purchase
        p = self.client.post(f"/api/events/{other_ev['id']}/purchases", {"quantity": 1}, token=self.user,
                             headers={"Idempotency-Key": key})
        self.assertEqual(p.status, 201, p)
        self.assertEqual(set(p.json), PURCHASE_KEYS)
        # and a purchase's key on a hold: a new hold, not that purchase
        buy_key = "buy-" + tag()
        bought = self.client.post(f"/api/events/{other_ev['id']}/purchases", {"quantity": 1}, token=self.user,
                                  headers={"Idempotency-Key": buy_key})
        self.assertEqual(bought.status, 201, bought)
        h = self.hold(other_ev["id"], 1, key=buy_key)
        self.assertEqual(h.status, 201, h)
        self.assertEqual((set(h.json), h.json["status"]), (HOLD_KEYS, "HELD"))
        replay = self.client.post(f"/api/events/{other_ev['id']}/purchases", {"quantity": 1}, token=self.user,
                                  headers={"Idempotency-Key": buy_key})
        self.assertEqual((replay.status, replay.json), (200, bought.json), replay)
        self.assertEqual(self.hold(other_ev["id"], 1, key=buy_key).json["id"], h.json["id"])
        now = self.get_event(other_ev["id"])
        self.assertEqual((now["ticketsSold"], now["ticketsHeld"]), (2, 3))
        inventory(self, self.db, other_ev["id"])

        # a replay after the hold was released still names that hold, and holds nothing anew
        self.assertEqual(self.release(first.json["id"]).status, 204)
        late = self.hold(ev["id"], 2, key=key)
        self.assertEqual((late.status, late.json["id"]), (200, first.json["id"]), late)
        self.assertEqual(self.get_event(ev["id"])["ticketsHeld"], 0)

    def test_a_key_whose_hold_failed_can_be_used_again_and_an_empty_key_is_400(self):
        ev = self.create(capacity=1)
        key = "retry-" + tag()
        with self.unchanged(ev["id"]):
            self.assertProblem(self.hold(ev["id"], 2, key=key), 409, "sold-out")
            self.assertIn("Idempotency-Key", self.field_errors(self.hold(ev["id"], 1, key="")))
            self.assertIn("Idempotency-Key", self.field_errors(self.hold(ev["id"], 1, key="k" * 65)))
        self.assertEqual(self.hold(ev["id"], 1, key=key).status, 201)

    def test_the_price_is_fixed_when_the_tickets_are_held(self):
        ev = self.two_types(capacity=10)
        floor = ev["ticketTypes"][0]
        path = f"/api/events/{ev['id']}/ticket-types/{floor['id']}"
        h = self.held(ev["id"], 2, floor["id"])
        r = self.client.put(path, {"name": "Floor", "priceCents": 2500, "currency": "EUR", "quota": 6},
                            token=self.admin)
        self.assertEqual((r.status, r.json["priceCents"], r.json["ticketsHeld"]), (200, 2500, 2), r)
        self.assertEqual(self.get_hold(h["id"]), h)
        c = self.confirm(h["id"])
        self.assertEqual(c.status, 201, c)
        self.assertEqual((c.json["unitPriceCents"], c.json["currency"], c.json["totalCents"]), (1500, "EUR", 3000))
        # a purchase now, and a hold made now, are at the new price
        now = self.buy(ev["id"], 1, floor["id"])
        self.assertEqual((now.status, now.json["unitPriceCents"], now.json["totalCents"]), (201, 2500, 2500), now)
        later = self.held(ev["id"], 1, floor["id"])
        self.assertEqual(self.client.put(path, {"name": "Floor", "priceCents": 99, "currency": "EUR", "quota": 6},
                                         token=self.admin).status, 200)
        lc = self.confirm(later["id"])
        self.assertEqual((lc.status, lc.json["unitPriceCents"], lc.json["totalCents"]), (201, 2500, 2500), lc)
        # the replayed confirmation still shows the price at hold time
        replay = self.confirm(h["id"])
        self.assertEqual((replay.status, replay.json), (200, c.json), replay)
        self.assertEqual(self.db.query("SELECT unit_price_cents, total_cents FROM purchases WHERE event_id = %s "
                                       "ORDER BY id", ev["id"]), [(1500, 3000), (2500, 2500), (2500, 2500)])
        inventory(self, self.db, ev["id"])

    def test_held_tickets_keep_their_room_in_quota_and_capacity(self):
        ev = self.two_types(capacity=10)
        floor, balcony = ev["ticketTypes"]
        self.held(ev["id"], 3, floor["id"])
        path = f"/api/events/{ev['id']}/ticket-types/{floor['id']}"
        with self.unchanged(ev["id"]):
            self.assertProblem(self.client.delete(path, token=self.admin), 409)  # a type with holds (no sales)
        self.assertEqual(self.buy(ev["id"], 2, floor["id"]).status, 201)
        body = {"name": "Floor", "priceCents": 1500, "currency": "EUR"}
        with self.unchanged(ev["id"]):
            self.assertProblem(self.client.put(path, dict(body, quota=4), token=self.admin), 409)  # < 2 sold + 3 held
            event_body = {k: ev[k] for k in ("name", "venue", "startsAt")}
            self.assertProblem(self.client.put(f"/api/events/{ev['id']}", dict(event_body, capacity=4),
                                               token=self.admin), 409)  # < 2 sold + 3 held
        r = self.client.put(path, dict(body, quota=5), token=self.admin)  # = sold + held
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["quota"], r.json["ticketsSold"], r.json["ticketsHeld"], r.json["ticketsAvailable"]),
                         (5, 2, 3, 0))
        self.assertProblem(self.hold(ev["id"], 1, floor["id"]), 409, "sold-out")
        self.held(ev["id"], 4, balcony["id"])  # purchase.max-per-order is 4 here
        self.held(ev["id"], 1, balcony["id"])  # capacity 10 = 2 sold + 3 + 5 held
        body = self.assertProblem(self.hold(ev["id"], 1, balcony["id"]), 409, "sold-out")
        self.assertEqual(body["ticketsAvailable"], 0)
        now = self.get_event(ev["id"])
        self.assertAvailability(now)
        self.assertEqual((now["ticketsSold"], now["ticketsHeld"], now["ticketsAvailable"]), (2, 8, 0))
        inventory(self, self.db, ev["id"])


class HoldRefusalsTest(HoldCase):
    service_args = ("--purchase.max-per-order", "4")

    def test_bad_bodies_are_400_naming_the_field_as_for_a_purchase(self):
        single = self.create(capacity=10)
        multi = self.two_types(capacity=10)
        foreign = single["ticketTypes"][0]["id"]
        cases = [(single, {"quantity": 0}, ["quantity"]), (single, {"quantity": 5}, ["quantity"]),
                 (single, {"quantity": -1}, ["quantity"]), (single, {}, ["quantity"]),
                 (single, {"quantity": None}, ["quantity"]), (single, {"quantity": "2"}, ["quantity"]),
                 (single, {"quantity": 1.5}, ["quantity"]),
                 (single, {"quantity": 1, "ticketTypeId": multi["ticketTypes"][0]["id"]}, ["ticketTypeId"]),
                 (multi, {"quantity": 1}, ["ticketTypeId"]), (multi, {"quantity": 1, "ticketTypeId": None},
                                                              ["ticketTypeId"]),
                 (multi, {"quantity": 1, "ticketTypeId": UNKNOWN}, ["ticketTypeId"]),
                 (multi, {"quantity": 1, "ticketTypeId": foreign}, ["ticketTypeId"]),
                 (multi, {"quantity": 1, "ticketTypeId": "Floor"}, ["ticketTypeId"])]
        with self.unchanged(single["id"], multi["id"]):
            for ev, body, fields in cases:
                r = self.client.post(f"/api/events/{ev['id']}/holds", body, token=self.user)
                errors = self.field_errors(r)
                self.assertEqual(list(errors), fields, (body, r))
                as_purchase = self.client.post(f"/api/events/{ev['id']}/purchases", body, token=self.user)
                self.assertEqual(errors, self.field_errors(as_purchase), (body, r, as_purchase))
            self.assertEqual(self.field_errors(self.hold(single["id"], 0)),
                             {"quantity": "must be greater than or equal to 1"})
            self.assertEqual(self.field_errors(self.hold(single["id"], 5)),
                             {"quantity": "must be less than or equal to 4"})  # purchase.max-per-order
            path = f"/api/events/{single['id']}/holds"
            self.assertProblem(self.client.post(path, raw_body=b"{", token=self.user), 400)
            self.assertProblem(self.client.post(path, raw_body=b"[1]", token=self.user), 400)
            self.assertProblem(self.client.post(path, raw_body=b"quantity=1", token=self.user,
                                                content_type="application/x-www-form-urlencoded"), 415)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = ANY(%s)",
                                        [single["id"], multi["id"]]), 0)

    def test_bad_ids_are_400_and_unknown_ones_404(self):
        ev = self.create(capacity=5)
        mine = self.held(ev["id"], 1)
        with self.unchanged(ev["id"]):
            for bad in ("abc", "0", "-1", "1.5"):
                self.assertProblem(self.client.post(f"/api/events/{bad}/holds", {"quantity": 1}, token=self.user), 400)
                self.assertProblem(self.client.get(f"/api/holds/{bad}", token=self.user), 400)
                self.assertProblem(self.client.delete(f"/api/holds/{bad}", token=self.user), 400)
                self.assertProblem(self.client.post(f"/api/holds/{bad}/confirm", token=self.user), 400)
            self.assertProblem(self.client.post(f"/api/events/{UNKNOWN}/holds", {"quantity": 1}, token=self.user), 404)
            self.assertProblem(self.client.get(f"/api/holds/{UNKNOWN}", token=self.user), 404)
            self.assertProblem(self.client.get(f"/api/holds/{UNKNOWN}", token=self.admin), 404)
            self.assertProblem(self.client.delete(f"/api/holds/{UNKNOWN}", token=self.user), 404)
            self.assertProblem(self.client.post(f"/api/holds/{UNKNOWN}/confirm", token=self.user), 404)
        self.assertEqual(self.get_hold(mine["id"]), mine)

    def test_someone_elses_hold_is_404_to_read_confirm_and_release_and_stays_held(self):
        ev = self.create(capacity=5)
        mine = self.held(ev["id"], 2)
        stranger, _ = self.api.user_token()
        with self.unchanged(ev["id"]):
            self.assertProblem(self.client.get(f"/api/holds/{mine['id']}", token=stranger), 404)
            self.assertProblem(self.confirm(mine["id"], token=stranger), 404)
            self.assertProblem(self.release(mine["id"], token=stranger), 404)
            self.assertEqual(self.client.get("/api/me/holds", token=stranger).json["items"], [])
        self.assertEqual(self.get_hold(mine["id"]), mine)
        self.assertEqual(self.get_event(ev["id"])["ticketsHeld"], 2)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 0)

    def test_roles_admin_and_staff_are_403_and_no_token_401_before_anything_else(self):
        ev = self.create(capacity=5)
        mine = self.held(ev["id"], 2)
        staff, _ = self.api.staff_token()
        hold_path, confirm_path = f"/api/holds/{mine['id']}", f"/api/holds/{mine['id']}/confirm"
        create_path = f"/api/events/{ev['id']}/holds"
        with self.unchanged(ev["id"]):
            for method, path, body in [("POST", create_path, {"quantity": 1}), ("GET", hold_path, None),
                                       ("DELETE", hold_path, None), ("POST", confirm_path, None),
                                       ("GET", "/api/me/holds", None)]:
                r = self.client.request(method, path, body=body)
                self.assertProblem(r, 401)
                self.assertEqual(r.header("www-authenticate"), "Bearer", (method, path))
                self.assertProblem(self.client.request(method, path, body=body, token=self.user + "x"), 401)
                self.assertProblem(self.client.request(method, path, body=body, token=staff), 403)
            # the ADMIN holds and confirms nothing: 403, before the path id, the body or existence
            for path in (confirm_path, f"/api/holds/{UNKNOWN}/confirm", "/api/holds/abc/confirm"):
                self.assertProblem(self.client.post(path, token=self.admin), 403)
            self.assertProblem(self.client.post(create_path, {"quantity": 1}, token=self.admin), 403)
            self.assertProblem(self.client.post(create_path, {"quantity": "bad"}, token=self.admin), 403)
            self.assertProblem(self.client.post(create_path, {"quantity": "bad"}, token=staff), 403)
            self.assertProblem(self.client.post(f"/api/events/{UNKNOWN}/holds", {"quantity": 1}, token=staff), 403)
            self.assertProblem(self.client.get("/api/holds/abc", token=staff), 403)
            self.assertEqual(self.get_hold(mine["id"], token=self.admin), mine)  # the ADMIN may read it
        self.assertEqual(self.get_hold(mine["id"])["status"], "HELD")

    def test_refusals_come_in_the_documented_order_and_hold_nothing(self):
        # sales-not-open before buyer-limit before sold-out; held tickets count toward the limit
        ev = self.create(capacity=2, maxPerBuyer=3, salesStartAt=iso_in(days=1))
        other, _ = self.api.user_token()
        with self.unchanged(ev["id"]):
            self.assertProblem(self.hold(ev["id"], 4), 409, "sales-not-open")
        body = {k: ev[k] for k in ("name", "venue", "startsAt", "capacity")}
        self.assertEqual(self.client.put(f"/api/events/{ev['id']}", dict(body, salesStartAt=None),
                                         token=self.admin).status, 200)
        with self.unchanged(ev["id"]):
            self.assertEqual(self.assertProblem(self.hold(ev["id"], 4), 409, "buyer-limit")["ticketsAllowed"], 3)
        self.held(ev["id"], 2)
        with self.unchanged(ev["id"]):
            # sold out, and over the limit: the limit is named, counting the held tickets
            self.assertEqual(self.assertProblem(self.hold(ev["id"], 2), 409, "buyer-limit")["ticketsAllowed"], 1)
            self.assertEqual(self.assertProblem(self.buy(ev["id"], 2), 409, "buyer-limit")["ticketsAllowed"], 1)
            self.assertEqual(self.assertProblem(self.hold(ev["id"], 1), 409, "sold-out")["ticketsAvailable"], 0)
            self.assertEqual(self.assertProblem(self.hold(ev["id"], 1, token=other), 409,
                                                "sold-out")["ticketsAvailable"], 0)
            self.assertEqual(self.assertProblem(self.buy(ev["id"], 1, token=other), 409,
                                                "sold-out")["ticketsAvailable"], 0)

        partly = self.create(capacity=3)
        self.held(partly["id"], 2, token=other)
        with self.unchanged(partly["id"]):
            self.assertEqual(self.assertProblem(self.hold(partly["id"], 2), 409, "sold-out")["ticketsAvailable"], 1)
            self.assertEqual(self.assertProblem(self.buy(partly["id"], 2), 409, "sold-out")["ticketsAvailable"], 1)

        closed = self.create(capacity=5)
        self.db.query("UPDATE events SET starts_at = now() - interval '1 minute' WHERE id = %s", closed["id"])
        with self.unchanged(closed["id"]):
            self.assertProblem(self.hold(closed["id"], 1), 409, "sales-closed")
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = %s", closed["id"]), 0)


class HoldExpiryTest(HoldCase):
    TTL = 2.0
    service_args = ("--hold.ttl", "2s", "--hold.sweep-interval", "200ms", "--purchase.idle-timeout", "300ms",
                    "--log.format", "json")

    def assertExpiryNotified(self, h, deadline):
        line = wait_for_log([self.service], "hold.expired", lambda l: l.get("hold_id") == h["id"],
                            timeout=max(0.5, deadline - time.time()))
        self.assertIsNotNone(line, f"no hold.expired log line for hold {h['id']}")
        self.assertEqual((line.get("event_id"), line.get("participant_id"), line.get("quantity")),
                         (h["eventId"], h["participantId"], h["quantity"]), line)

    def test_an_expired_holds_tickets_are_free_at_once_and_its_status_is_stored_within_two_seconds(self):
        ev = self.create(capacity=3)
        other, _ = self.api.user_token()
        h = self.held(ev["id"], 3)
        exp = ts(h["expiresAt"])
        self.assertAlmostEqual(exp - ts(h["createdAt"]), self.TTL, delta=0.3)
        self.assertProblem(self.hold(ev["id"], 1, token=other), 409, "sold-out")

        conn = self.db.connect()
        cur = conn.cursor()
        reads, stored_at = [], None
        try:
            while time.time() < exp + STORED_WITHIN + 0.5:
                started = time.time()
                e = self.get_event(ev["id"])
                g = self.get_hold(h["id"])
                listed = self.client.get("/api/me/holds", token=self.user).json["items"][0]
                ended = time.time()
                reads.append((started, ended, (e["ticketsHeld"], e["ticketsAvailable"],
                                               e["ticketTypes"][0]["ticketsHeld"],
                                               e["ticketTypes"][0]["ticketsAvailable"], g["status"],
                                               listed["status"])))
                if stored_at is None:
                    cur.execute("SELECT status FROM holds WHERE id = %s", (h["id"],))
                    if cur.fetchone()[0] == "EXPIRED":
                        stored_at = time.time()
                time.sleep(0.05)
        finally:
            conn.close()
        before = [(s - exp, v) for s, e, v in reads if e < exp - SLACK]
        after = [(s - exp, v) for s, e, v in reads if s > exp + SLACK]
        self.assertTrue(before and after, reads)
        for offset, v in before:
            self.assertEqual(v, (3, 0, 3, 0, "HELD", "HELD"), f"{offset:+.3f}s from expiresAt")
        for offset, v in after:  # free at once from expiresAt, not when the status is stored
            self.assertEqual(v, (0, 3, 0, 3, "EXPIRED", "EXPIRED"), f"{offset:+.3f}s from expiresAt")
        self.assertIsNotNone(stored_at, "the expired hold's status was never stored")
        self.assertLessEqual(stored_at - exp, STORED_WITHIN + 0.1)
        self.assertEqual(self.db_hold(h["id"])[4:], ("EXPIRED", None))
        self.assertEqual(inventory(self, self.db, ev["id"])["held"], 0)
        self.assertExpiryNotified(h, exp + STORED_WITHIN + 1)

        with self.unchanged(ev["id"]):
            self.assertProblem(self.confirm(h["id"]), 409, "hold-expired")
            self.assertEqual(self.release(h["id"]).status, 204)
        self.assertEqual(self.get_hold(h["id"]), dict(h, status="EXPIRED"))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 0)
        self.assertEqual(self.get_event(ev["id"])["ticketsSold"], 0)
        # the tickets are free: another buyer holds all three
        self.assertEqual(self.held(ev["id"], 3, token=other)["status"], "HELD")
        inventory(self, self.db, ev["id"])

    def test_a_confirm_from_expires_at_on_is_409_and_sells_nothing(self):
        ev = self.create(capacity=2)
        h = self.held(ev["id"], 2)
        exp = ts(h["expiresAt"])
        time.sleep(max(0, exp + 0.02 - time.time()))  # just past expiresAt, before the sweep stores it
        self.assertProblem(self.confirm(h["id"]), 409, "hold-expired")
        self.assertEqual(wait_stored(self.db, [h["id"]], "EXPIRED", exp + STORED_WITHIN + 0.1), set())
        self.assertEqual(self.db_hold(h["id"])[4:], ("EXPIRED", None))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 0)
        now = self.get_event(ev["id"])
        self.assertEqual((now["ticketsSold"], now["ticketsHeld"], now["ticketsAvailable"]), (0, 0, 2))
        inventory(self, self.db, ev["id"])

    def test_a_hold_expires_on_time_after_its_event_actor_was_passivated(self):
        ev = self.create(capacity=5)
        h = self.held(ev["id"], 2)
        exp = ts(h["expiresAt"])
        # Nothing touches the event from here on: its actor goes idle and is passivated
        # (purchase.idle-timeout), so only the sweep can store the expiry.
        self.assertTrue(wait_until(lambda: live_actors(self.client) == 0, timeout=max(0.2, exp - time.time() - 0.1),
                                   interval=0.05),
                        "the event actor was not passivated before expiresAt: the test needs it gone")
        self.assertEqual(stored_status(self.db, h["id"]), "HELD")
        swept_before = metric(self.client, "eventhub_holds_expired_total", by="sweep")
        self.assertEqual(wait_stored(self.db, [h["id"]], "EXPIRED", exp + STORED_WITHIN + 0.1), set(),
                         f"not stored EXPIRED within {STORED_WITHIN}s of expiresAt without a running actor")
        self.assertEqual(metric(self.client, "eventhub_holds_expired_total", by="sweep"), swept_before + 1,
                         "the expiry of a passivated event's hold is the sweep's")
        self.assertEqual(self.db.query("SELECT tickets_held FROM events WHERE id = %s", ev["id"]), [(0,)])
        self.assertEqual(self.db.query("SELECT tickets_held FROM ticket_types WHERE event_id = %s", ev["id"]), [(0,)])
        self.assertExpiryNotified(h, exp + STORED_WITHIN + 1)
        now = self.get_event(ev["id"])
        self.assertEqual((now["ticketsHeld"], now["ticketsAvailable"]), (0, 5))
        self.assertEqual(self.get_hold(h["id"])["status"], "EXPIRED")
        inventory(self, self.db, ev["id"])


class HoldRestartTest(HoldCase):
    service_args = ("--hold.ttl", "5s", "--hold.sweep-interval", "200ms", "--log.format", "json")

    def test_holds_survive_kill_9_are_confirmed_after_the_restart_and_untouched_ones_expire_on_time(self):
        kept = self.create(capacity=5)
        idle = self.create(capacity=5)
        h1 = self.held(kept["id"], 2)
        h2 = self.held(idle["id"], 3)
        self.service.kill()
        self.assertEqual((stored_status(self.db, h1["id"]), stored_status(self.db, h2["id"])), ("HELD", "HELD"))
        self.service.start()
        c = self.service.client()
        try:
            self.assertLess(time.time(), ts(h1["expiresAt"]) - 1, "the restart took longer than the test allows")
            got = c.get(f"/api/holds/{h1['id']}", token=self.user)
            self.assertEqual((got.status, got.json), (200, h1), got)
            now = c.get(f"/api/events/{kept['id']}").json
            self.assertEqual((now["ticketsHeld"], now["ticketsAvailable"]), (2, 3))
            r = c.post(f"/api/holds/{h1['id']}/confirm", token=self.user)
            self.assertEqual((r.status, r.json["quantity"]), (201, 2), r)
            self.assertEqual(self.db_hold(h1["id"])[4:], ("CONFIRMED", r.json["id"]))
            # the other event is not touched after the restart: no actor of it ever ran here
            exp2 = ts(h2["expiresAt"])
            self.assertEqual(wait_stored(self.db, [h2["id"]], "EXPIRED", exp2 + STORED_WITHIN + 0.1), set())
            line = wait_for_log([self.service], "hold.expired", lambda l: l.get("hold_id") == h2["id"],
                                timeout=max(0.5, exp2 + STORED_WITHIN + 1 - time.time()))
            self.assertIsNotNone(line, "no hold.expired log line after the restart")
            now = c.get(f"/api/events/{idle['id']}").json
            self.assertEqual((now["ticketsHeld"], now["ticketsAvailable"]), (0, 5))
            for e in (kept, idle):
                inventory(self, self.db, e["id"])
        finally:
            c.close()


class HoldRaceTest(HoldCase):
    """Hundreds of buyers, each a registered user on a connection of its own."""

    service_args = ("--db.pool-size", "4")
    buyers = 200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = make_users(cls.service.port, cls.buyers)
        cls.tokens = [t for t, _ in users]
        cls.participants = [p["id"] for _, p in users]

    def test_the_default_ttl_is_fifteen_minutes(self):
        ev = self.create(capacity=1)
        before = time.time()
        h = self.held(ev["id"], 1)
        self.assertTrue(before + 900 - 1 <= ts(h["expiresAt"]) <= time.time() + 900 + 1, h)

    def test_two_hundred_buyers_for_the_last_fifty_tickets_hold_exactly_fifty(self):
        port = self.service.port
        for _ in range(3):
            ev = self.create(capacity=60)
            self.assertEqual(self.buy(ev["id"], 10).status, 201)
            results = concurrently(self.buyers, lambda i: hold(port, self.tokens[i], ev["id"], 1))
            self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
            statuses = [r.status for r in results]
            self.assertEqual((statuses.count(201), statuses.count(409)), (50, 150),
                             [r for r in results if r.status not in (201, 409)][:3])
            for r in results:
                if r.status == 409:
                    self.assertEqual(self.assertProblem(r, 409, "sold-out")["ticketsAvailable"], 0, r)
            won = {r.json["id"]: (self.participants[i], r.json["quantity"], r.json["status"])
                   for i, r in enumerate(results) if r.status == 201}
            self.assertEqual(len(won), 50)
            rows = {row[0]: row[1:] for row in self.db.query(
                "SELECT id, participant_id, quantity, status FROM holds WHERE event_id = %s", ev["id"])}
            self.assertEqual(rows, won)
            figures = inventory(self, self.db, ev["id"])
            self.assertEqual((figures["capacity"], figures["sold"], figures["held"]), (60, 10, 50))
            now = self.get_event(ev["id"])
            self.assertAvailability(now)
            self.assertEqual((now["ticketsSold"], now["ticketsHeld"], now["ticketsAvailable"]), (10, 50, 0))
            self.assertProblem(self.buy(ev["id"], 1), 409, "sold-out")  # the held tickets are kept

    def test_holds_purchases_confirms_and_releases_racing_never_hand_out_a_ticket_twice(self):
        port = self.service.port
        ev = self.create(capacity=40)
        held = [hold(port, self.tokens[i], ev["id"], 1) for i in range(20)]
        self.assertEqual([r.status for r in held], [201] * 20, held)
        ops = ([lambda i=i: confirm(port, self.tokens[i], held[i].json["id"]) for i in range(10)] +
               [lambda i=i: release(port, self.tokens[i], held[i].json["id"]) for i in range(10, 20)] +
               [lambda i=i: hold(port, self.tokens[i], ev["id"], 1) for i in range(20, 60)] +
               [lambda i=i: purchase(port, self.tokens[i], ev["id"], 1) for i in range(60, 100)])
        results = concurrently(len(ops), lambda i: ops[i]())
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        self.assertEqual([r.status for r in results[:10]], [201] * 10, results[:10])
        self.assertEqual([r.status for r in results[10:20]], [204] * 10, results[10:20])
        for r in results[20:]:
            self.assertIn(r.status, (201, 409), r)
            if r.status == 409:
                self.assertEqual(self.assertProblem(r, 409, "sold-out")["ticketsAvailable"], 0, r)
        new_holds = sum(1 for r in results[20:60] if r.status == 201)
        bought = sum(1 for r in results[60:] if r.status == 201)
        # 20 free at the start and 10 released: a refusal of 1 means all of the first 20 were gone
        self.assertTrue(20 <= new_holds + bought <= 30, (new_holds, bought))
        figures = inventory(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["held"]), (10 + bought, new_holds), figures)
        now = self.get_event(ev["id"])
        self.assertAvailability(now)
        self.assertEqual((now["ticketsSold"], now["ticketsHeld"], now["ticketsAvailable"]),
                         (10 + bought, new_holds, 40 - 10 - bought - new_holds))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = %s AND status = 'CONFIRMED'",
                                        ev["id"]), 10)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = %s AND status = 'RELEASED'",
                                        ev["id"]), 10)

    def test_one_buyers_thirty_concurrent_holds_get_exactly_the_limit(self):
        token, me = self.tokens[0], self.participants[0]
        port = self.service.port
        ev = self.create(capacity=100, maxPerBuyer=5)
        results = concurrently(30, lambda i: hold(port, token, ev["id"], 1))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        self.assertEqual(sorted(r.status for r in results), [201] * 5 + [409] * 25,
                         [r for r in results if r.status not in (201, 409)][:3])
        for r in results:
            if r.status == 409:  # a refused 1 means nothing was left for this buyer
                self.assertEqual(self.assertProblem(r, 409, "buyer-limit")["ticketsAllowed"], 0, r)
        mine = [r.json["id"] for r in results if r.status == 201]
        self.assertEqual(self.db.scalar("SELECT coalesce(sum(quantity), 0) FROM holds WHERE event_id = %s "
                                        "AND participant_id = %s AND status = 'HELD'", ev["id"], me), 5)
        # confirmed plus held count: confirming two leaves the buyer at the limit
        for hid in mine[:2]:
            self.assertEqual(confirm(port, token, hid).status, 201)
        self.assertEqual(self.assertProblem(hold(port, token, ev["id"], 1), 409, "buyer-limit")["ticketsAllowed"], 0)
        self.assertEqual(self.assertProblem(purchase(port, token, ev["id"], 1), 409,
                                            "buyer-limit")["ticketsAllowed"], 0)
        # a release gives the allowance back
        self.assertEqual(release(port, token, mine[2]).status, 204)
        self.assertEqual(purchase(port, token, ev["id"], 1).status, 201)
        self.assertProblem(hold(port, token, ev["id"], 1), 409, "buyer-limit")
        inventory(self, self.db, ev["id"])

        # holds and purchases of another buyer at once: 5 in all, whatever the mix
        token2, other = self.tokens[1], self.participants[1]
        results = concurrently(30, lambda i: (hold if i % 2 else purchase)(port, token2, ev["id"], 1))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        self.assertEqual(sorted(r.status for r in results), [201] * 5 + [409] * 25,
                         [r for r in results if r.status not in (201, 409)][:3])
        for r in results:
            if r.status == 409:
                self.assertProblem(r, 409, "buyer-limit")
        got = self.db.query("SELECT (SELECT coalesce(sum(quantity), 0) FROM holds WHERE event_id = %s "
                            "AND participant_id = %s AND status = 'HELD'), (SELECT coalesce(sum(quantity), 0) "
                            "FROM purchases WHERE event_id = %s AND participant_id = %s)",
                            ev["id"], other, ev["id"], other)[0]
        self.assertEqual(sum(got), 5, got)
        inventory(self, self.db, ev["id"])

    def test_concurrent_duplicates_of_one_key_hold_once(self):
        token, me = self.tokens[2], self.participants[2]
        ev = self.create(capacity=100)
        results = concurrently(20, lambda i: hold(self.service.port, token, ev["id"], 3, key="dup-key"))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        self.assertEqual(sorted(r.status for r in results), [200] * 19 + [201], results)
        self.assertEqual(len({r.json["id"] for r in results}), 1)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = %s AND participant_id = %s",
                                        ev["id"], me), 1)
        self.assertEqual(inventory(self, self.db, ev["id"])["held"], 3)

    def test_concurrent_confirms_of_one_hold_make_one_purchase(self):
        token = self.tokens[3]
        ev = self.create(capacity=10)
        h = hold(self.service.port, token, ev["id"], 2).json
        results = concurrently(20, lambda i: confirm(self.service.port, token, h["id"]))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        self.assertEqual(sorted(r.status for r in results), [200] * 19 + [201], results)
        self.assertEqual({r.header("idempotent-replayed") for r in results if r.status == 200}, {"true"})
        self.assertEqual(len({r.json["id"] for r in results}), 1)
        figures = inventory(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["held"]), (2, 0))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 1)

    def test_a_confirm_racing_a_release_of_the_same_hold_has_one_winner(self):
        port = self.service.port
        ev = self.create(capacity=20)
        holds = [hold(port, self.tokens[i], ev["id"], 1).json for i in range(20)]
        results = concurrently(40, lambda i: (confirm if i % 2 == 0 else release)(port, self.tokens[i // 2],
                                                                                  holds[i // 2]["id"]))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        confirmed = 0
        for k, h in enumerate(holds):
            c, d = results[2 * k], results[2 * k + 1]
            stored = self.db_hold(h["id"])
            if c.status == 201:
                self.assertProblem(d, 409, "hold-confirmed")
                self.assertEqual(stored[4:], ("CONFIRMED", c.json["id"]))
                confirmed += 1
            else:
                self.assertProblem(c, 409, "hold-released")
                self.assertEqual(d.status, 204, d)
                self.assertEqual(stored[4:], ("RELEASED", None))
        figures = inventory(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["held"]), (confirmed, 0))
        self.assertEqual(self.get_event(ev["id"])["ticketsAvailable"], 20 - confirmed)


class ConfirmRacingExpiryTest(HoldCase):
    """Confirms sent around expiresAt (± 50 ms): each is either a purchase, with the hold CONFIRMED,
    or hold-expired, with the hold EXPIRED and its ticket free again; never both, never neither."""

    TTL = 1.0
    service_args = ("--hold.ttl", "1s", "--hold.sweep-interval", "200ms", "--db.pool-size", "4")
    rounds, per_round = 10, 10

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = make_users(cls.service.port, cls.per_round + 2)
        cls.tokens = [t for t, _ in users]
        cls.participants = [p["id"] for _, p in users]

    def test_confirms_around_expires_at_either_buy_or_find_the_hold_expired(self):
        port = self.service.port
        n = self.per_round + 1  # the last one of each round is confirmed early: it must be bought
        played = []  # (event, holds, [(sent, response)])
        for _ in range(self.rounds):
            ev = self.create(capacity=n)
            made = concurrently(n, lambda i: hold(port, self.tokens[i], ev["id"], 1))
            self.assertEqual([r.status for r in made], [201] * n, made)
            holds = [r.json for r in made]
            offsets = [-0.05 + 0.1 * k / (self.per_round - 1) for k in range(self.per_round)]
            random.shuffle(offsets)
            targets = [ts(h["expiresAt"]) + o for h, o in zip(holds, offsets)]
            targets.append(ts(holds[-1]["createdAt"]) + 0.2)

            def confirm_at(i):
                time.sleep(max(0, targets[i] - time.time()))
                sent = time.time()
                return sent, confirm(port, self.tokens[i], holds[i]["id"])
            answers = concurrently(n, confirm_at)
            self.assertFalse([a for a in answers if isinstance(a, Exception)], answers[:3])
            played.append((ev, holds, answers))

        outcomes = {"bought": 0, "expired": 0}
        last = max(ts(h["expiresAt"]) for _, holds, _ in played for h in holds)
        unsettled = wait_stored_any(self.db, [h["id"] for _, holds, _ in played for h in holds],
                                    last + STORED_WITHIN + 0.1)
        self.assertEqual(unsettled, set(), "holds still HELD 2 s past their expiresAt")
        for ev, holds, answers in played:
            bought = 0
            for i, (h, (sent, r)) in enumerate(zip(holds, answers)):
                exp = ts(h["expiresAt"])
                _, type_id, participant, quantity, status, purchase_id = self.db_hold(h["id"])
                sales = self.db.query("SELECT id, quantity FROM purchases WHERE event_id = %s AND participant_id = %s",
                                      ev["id"], participant)
                where = f"hold {h['id']}, sent {sent - exp:+.3f}s from expiresAt: {r}"
                if r.status == 201:
                    self.assertLess(sent, exp + 0.01, "a confirm sent after expiresAt was sold: " + where)
                    self.assertEqual((r.json["ticketTypeId"], r.json["quantity"]), (type_id, 1), where)
                    self.assertEqual((status, purchase_id), ("CONFIRMED", r.json["id"]), where)
                    self.assertEqual(sales, [(r.json["id"], 1)], where)
                    self.assertEqual(self.get_hold(h["id"], token=self.tokens[i])["status"], "CONFIRMED")
                    bought += 1
                    outcomes["bought"] += 1
                else:
                    self.assertLess(i, self.per_round, "the early confirm was refused: " + where)
                    self.assertProblem(r, 409, "hold-expired")
                    self.assertEqual((status, purchase_id), ("EXPIRED", None), where)
                    self.assertEqual(sales, [], "a refused confirm sold a ticket: " + where)
                    self.assertEqual(self.get_hold(h["id"], token=self.tokens[i])["status"], "EXPIRED")
                    outcomes["expired"] += 1
            # never a lost ticket: what was not bought is free again, in PostgreSQL and the API
            figures = inventory(self, self.db, ev["id"])
            self.assertEqual((figures["sold"], figures["held"]), (bought, 0), figures)
            now = self.get_event(ev["id"])
            self.assertEqual((now["ticketsSold"], now["ticketsHeld"], now["ticketsAvailable"]),
                             (bought, 0, n - bought), now)
            self.assertEqual(now["ticketsSold"] + now["ticketsHeld"] + now["ticketsAvailable"], n)
            if n - bought:
                r = purchase(port, self.tokens[-1], ev["id"], n - bought)
                self.assertEqual(r.status, 201, r)
            self.assertProblem(purchase(port, self.tokens[-1], ev["id"], 1), 409, "sold-out")
            self.assertEqual(inventory(self, self.db, ev["id"])["sold"], n)
        self.assertGreater(outcomes["expired"], 0, outcomes)


def wait_stored_any(db, hold_ids, deadline, interval=0.1):
    """Polls PostgreSQL until none of the holds is stored HELD, or the deadline passes; returns
    those still HELD."""
    conn = db.connect()
    try:
        cur = conn.cursor()
        while True:
            cur.execute("SELECT id FROM holds WHERE id = ANY(%s) AND status = 'HELD'", (list(hold_ids),))
            left = {row[0] for row in cur.fetchall()}
            if not left or time.time() > deadline:
                return left
            time.sleep(interval)
    finally:
        conn.close()


if __name__ == "__main__":
    unittest.main()
