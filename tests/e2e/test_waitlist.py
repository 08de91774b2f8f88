"""The waitlist over real HTTP against real PostgreSQL, one process (docs/api.md, "Waitlist").

Covered: the WaitlistEntry and its Location; joining only when the type cannot serve the quantity
now, and every refusal in its documented order (400 body, 404 event, 409 sales-closed or
sales-not-open, already-waiting, buyer-limit, tickets-available; ADMIN and STAFF 403, no token
401), each leaving entries, holds, purchases and figures as they were; positions per type;
GET /api/me/waitlist (newest first, paging) and the ADMIN's GET /api/events/{id}/waitlist
(arrival order, all statuses); leaving in each status (WAITING, OFFERED, EXPIRED, LEFT, CONFIRMED);
public availability net of WAITING quantities; offers made first-fit in arrival order when tickets
are freed (a cancellation, a released or expired hold, a raised capacity or quota), as holds of
the entry's owner that confirm into a purchase; no offers after startsAt, none to a buyer who
would pass maxPerBuyer, none on joining; an offer read EXPIRED at once from its expiresAt and
passed on within 2 s, also after the event's actor was passivated and across a kill -9 and
restart; the waitlist.offered log line and webhook; and, in both purchase modes, 30 entries of
mixed quantities checked after every cancellation against a first-fit simulation, and buyers
racing a cancellation never getting a ticket someone waits for."""
import contextlib
import random
import time
import unittest
import uuid

from harness import Api, Client, Service, ServiceTestCase, TestDatabase, iso_in
from test_cancellation import accounting, cancel
from test_holds import HOLD_KEYS, PURCHASE_KEYS, STORED_WITHIN, live_actors, make_users, ts, wait_for_log
from test_purchases import WebhookReceiver, buy, concurrently, wait_until, webhook_args, webhook_signature_valid

ENTRY_KEYS = {"id", "eventId", "ticketTypeId", "participantId", "quantity", "status", "position", "holdId",
              "createdAt"}
UNKNOWN = 987654321
SLACK = 0.3          # clock and scheduling slack around expiresAt, seconds
DEFAULT_OFFER_TTL = 12 * 3600


def tag():
    return uuid.uuid4().hex[:12]


def call(port, method, path, body=None, token=None):
    """One request on a connection of its own, as a separate client would send it."""
    c = Client(port)
    try:
        return c.request(method, path, body=body, token=token)
    finally:
        c.close()


def join(port, token, event_id, quantity=1, type_id=None):
    body = {"quantity": quantity}
    if type_id is not None:
        body["ticketTypeId"] = type_id
    return call(port, "POST", f"/api/events/{event_id}/waitlist", body, token)


def leave(port, token, entry_id):
    return call(port, "DELETE", f"/api/waitlist/{entry_id}", token=token)


def ledger(test, db, event_id):
    """test_cancellation.accounting (sold = purchases net of cancellations, sold + held within
    capacity and quotas), and tickets_held is the sum of the event's HELD holds."""
    figures = accounting(test, db, event_id)
    holding = db.scalar("SELECT coalesce(sum(quantity), 0) FROM holds WHERE event_id = %s AND status = 'HELD'",
                        event_id)
    test.assertEqual(figures["held"], holding, figures)
    return figures


def holds_of(db, event_id, participant_id):
    """(id, quantity, status) of a participant's holds of an event, in id order."""
    return db.query("SELECT id, quantity, status FROM holds WHERE event_id = %s AND participant_id = %s ORDER BY id",
                    event_id, participant_id)


def waitlist_tables(db):
    """Row counts of whatever tables the schema keeps waitlist entries in (named like *wait*)."""
    names = [row[0] for row in db.query("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'public' AND table_name LIKE '%%wait%%' "
                                        "ORDER BY table_name")]
    return {name: db.scalar(f'SELECT count(*) FROM "{name}"') for name in names}


def offered_log_line(services, entry, timeout=10):
    """The waitlist.offered log line of an OFFERED entry's hold on any of the services, or None."""
    return wait_for_log(services, "waitlist.offered", lambda l: l.get("hold_id") == entry["holdId"], timeout)


class Waitlist:
    """The contract's waitlist of a single-type event, simulated: entries in arrival order, the
    tickets sold and held, and offers made first-fit whenever tickets are freed (an entry fits when
    its quantity ≤ capacity − sold − held; WAITING quantities are not subtracted)."""

    def __init__(self, capacity, sold):
        self.capacity, self.sold, self.held = capacity, sold, 0
        self.entries = {}  # id -> [quantity, status]

    def join(self, entry_id, quantity):
        self.entries[entry_id] = [quantity, "WAITING"]

    def ids(self, status):
        return [i for i in sorted(self.entries) if self.entries[i][1] == status]

    def quantity(self, entry_id):
        return self.entries[entry_id][0]

    def free(self):
        return self.capacity - self.sold - self.held

    def offer(self):
        """Visits the WAITING entries in arrival order; returns the ids offered."""
        free, offered = self.free(), []
        for entry_id in self.ids("WAITING"):
            quantity = self.quantity(entry_id)
            if quantity <= free:
                self.entries[entry_id][1] = "OFFERED"
                self.held += quantity
                free -= quantity
                offered.append(entry_id)
        return offered

    def cancel(self, quantity):
        self.sold -= quantity
        return self.offer()

    def confirm(self, entry_id):
        self.entries[entry_id][1] = "CONFIRMED"
        self.held -= self.quantity(entry_id)
        self.sold += self.quantity(entry_id)

    def release(self, entry_id):
        self.entries[entry_id][1] = "EXPIRED"
        self.held -= self.quantity(entry_id)
        return self.offer()

    def leave(self, entry_id):
        was = self.entries[entry_id][1]
        self.entries[entry_id][1] = "LEFT"
        if was == "OFFERED":
            self.held -= self.quantity(entry_id)
            return self.offer()
        return []

    def waiting(self):
        return sum(self.quantity(i) for i in self.ids("WAITING"))

    def available(self):
        return max(0, self.free() - self.waiting())

    def statuses(self):
        return {i: s for i, (_, s) in self.entries.items()}


class WaitlistCase(ServiceTestCase):
    """Calls and assertions shared by the classes below; service_env is the service's environment."""

    service_env = {}

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        cls.service = Service(cls.db.url, *cls.service_args, env=cls.service_env).start()
        cls.client = cls.service.client()
        cls.api = Api(cls.client)
        cls.admin = cls.api.admin_token()

    def setUp(self):
        self.user, self.me = self.api.user_token()

    # --- events, purchases, holds

    def create(self, capacity=10, **extra):
        return self.api.create_event(capacity=capacity, **extra)

    def two_types(self, capacity=10, floor=6, balcony=10, **extra):
        return self.create(capacity=capacity, ticketTypes=[{"name": "Floor", "priceCents": 1500, "quota": floor},
                                                           {"name": "Balcony", "priceCents": 3000, "quota": balcony}],
                           **extra)

    def get_event(self, event_id):
        r = self.client.get(f"/api/events/{event_id}")
        self.assertEqual(r.status, 200, r)
        return r.json

    def figures(self, event_id):
        """(ticketsSold, ticketsHeld, ticketsAvailable) of the event, then of each type."""
        e = self.get_event(event_id)
        return ((e["ticketsSold"], e["ticketsHeld"], e["ticketsAvailable"]),
                [(t["ticketsSold"], t["ticketsHeld"], t["ticketsAvailable"]) for t in e["ticketTypes"]])

    def bought(self, event_id, quantity=1, type_id=None, token=None):
        r = buy(self.service.port, token or self.user, event_id, quantity, ticket_type_id=type_id)
        self.assertEqual(r.status, 201, r)
        return r.json

    def sold_out(self, event_id, quantity, type_id=None, token=None):
        """Someone else buys `quantity`: the seller's purchase, to be cancelled later."""
        if token is None:
            token, _ = self.api.user_token()
        return self.bought(event_id, quantity, type_id, token), token

    def cancelled(self, purchase_id, quantity, token=None):
        r = cancel(self.service.port, token or self.admin, purchase_id, quantity)
        self.assertEqual(r.status, 200, r)
        return r.json

    def get_hold(self, hold_id, token=None):
        r = self.client.get(f"/api/holds/{hold_id}", token=token or self.user)
        self.assertEqual(r.status, 200, r)
        return r.json

    def put_event(self, ev, **changes):
        body = dict({k: ev[k] for k in ("name", "venue", "startsAt", "capacity")}, **changes)
        return self.client.put(f"/api/events/{ev['id']}", body, token=self.admin)

    def put_type(self, ev, t, **changes):
        body = dict({k: t[k] for k in ("name", "priceCents", "currency", "quota")}, **changes)
        return self.client.put(f"/api/events/{ev['id']}/ticket-types/{t['id']}", body, token=self.admin)

    # --- the waitlist

    def join(self, event_id, quantity=1, type_id=None, token=None):
        return join(self.service.port, token or self.user, event_id, quantity, type_id)

    def joined(self, event_id, quantity=1, type_id=None, token=None):
        r = self.join(event_id, quantity, type_id, token)
        self.assertEqual(r.status, 201, r)
        e = r.json
        self.assertEqual(set(e), ENTRY_KEYS, r)
        self.assertEqual(r.header("location"), f"/api/waitlist/{e['id']}")
        self.assertEqual((e["status"], e["holdId"], e["quantity"]), ("WAITING", None, quantity), e)
        return e

    def leave(self, entry_id, token=None):
        return leave(self.service.port, token or self.user, entry_id)

    def entry(self, entry_id, token=None):
        r = self.client.get(f"/api/waitlist/{entry_id}", token=token or self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), ENTRY_KEYS, r)
        return r.json

    def listing(self, event_id):
        """The ADMIN's listing of the event's entries, {id: entry} in the order listed."""
        r = self.client.get(f"/api/events/{event_id}/waitlist?size=100", token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertLessEqual(r.json["totalItems"], 100, "the test expects one page")
        return {e["id"]: e for e in r.json["items"]}

    def offer_of(self, entry_id, token=None):
        """An entry that must be OFFERED now, and its hold."""
        e = self.entry(entry_id, token)
        self.assertEqual((e["status"], e["position"]), ("OFFERED", None), e)
        self.assertIsNotNone(e["holdId"], e)
        return e, self.get_hold(e["holdId"], token)

    def assertStatuses(self, event_id, expected):
        """Each listed entry's status is the expected one (a dict {id: status} of all entries)."""
        self.assertEqual({i: e["status"] for i, e in self.listing(event_id).items()}, expected)

    def assertPositions(self, event_id):
        """The WAITING entries of each type are ranked 1..n in arrival order; the rest have none."""
        ranks = {}
        for e in self.listing(event_id).values():
            if e["status"] == "WAITING":
                ranks[e["ticketTypeId"]] = ranks.get(e["ticketTypeId"], 0) + 1
                self.assertEqual(e["position"], ranks[e["ticketTypeId"]], e)
            else:
                self.assertIsNone(e["position"], e)

    # --- refusals change nothing

    def state(self, event_ids):
        """Everything a refused request must leave as it was: holds, purchases, the counters of the
        events and their types, the entries (listed and stored), the events as the API shows them."""
        return (self.db.query("SELECT id, event_id, participant_id, quantity, status, expires_at FROM holds "
                              "ORDER BY id"),
                self.db.query("SELECT count(*), coalesce(sum(quantity - cancelled_quantity), 0) FROM purchases"),
                self.db.query("SELECT id, capacity, tickets_sold, tickets_held FROM events WHERE id = ANY(%s) "
                              "ORDER BY id", list(event_ids)),
                self.db.query("SELECT id, quota, tickets_sold, tickets_held FROM ticket_types "
                              "WHERE event_id = ANY(%s) ORDER BY id", list(event_ids)),
                waitlist_tables(self.db),
                [self.listing(e) for e in event_ids],
                [self.get_event(e) for e in event_ids])

    @contextlib.contextmanager
    def unchanged(self, *event_ids):
        before = self.state(event_ids)
        yield
        self.assertEqual(self.state(event_ids), before, "a refused request changed something")


class WaitlistTest(WaitlistCase):
    service_args = ("--purchase.max-per-order", "4", "--log.format", "json")

    def test_a_join_is_201_waiting_with_location_and_position_and_its_quantity_is_not_for_sale(self):
        ev = self.two_types(capacity=10)
        floor, balcony = ev["ticketTypes"]
        self.sold_out(ev["id"], 4, floor["id"])
        self.sold_out(ev["id"], 1, floor["id"])  # Floor: 1 of 6 left; the event: 5 of 10
        before = time.time()
        r = self.join(ev["id"], 2, floor["id"])
        after = time.time()
        self.assertEqual(r.status, 201, r)
        e = r.json
        self.assertEqual(set(e), ENTRY_KEYS)
        self.assertEqual(r.header("location"), f"/api/waitlist/{e['id']}")
        self.assertEqual({k: e[k] for k in ENTRY_KEYS - {"id", "createdAt"}},
                         {"eventId": ev["id"], "ticketTypeId": floor["id"], "participantId": self.me["id"],
                          "quantity": 2, "status": "WAITING", "position": 1, "holdId": None})
        self.assertTrue(before - 1 <= ts(e["createdAt"]) <= after + 1, (before, e, after))
        self.assertEqual(self.entry(e["id"]), e)
        self.assertEqual(self.entry(e["id"], token=self.admin), e)
        self.assertEqual(self.client.get(r.header("location"), token=self.user).json, e)

        # the 2 waiting are subtracted from what the public sees: the event 10-5-2, Floor none, Balcony 3
        self.assertEqual(self.figures(ev["id"]), ((5, 0, 3), [(5, 0, 0), (0, 0, 3)]))
        self.assertEqual(self.client.get(f"/api/events/{ev['id']}/ticket-types/{floor['id']}").json["ticketsAvailable"],
                         0)
        other, _ = self.api.user_token()
        self.assertEqual(self.assertProblem(buy(self.service.port, other, ev["id"], 1, ticket_type_id=floor["id"]),
                                            409, "sold-out")["ticketsAvailable"], 0)
        self.assertEqual(self.assertProblem(buy(self.service.port, other, ev["id"], 4, ticket_type_id=balcony["id"]),
                                            409, "sold-out")["ticketsAvailable"], 3)
        h = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 1, "ticketTypeId": floor["id"]},
                             token=other)
        self.assertProblem(h, 409, "sold-out")

        # joining makes no offer, even when the entry would fit: 1 Floor ticket is free, 1 is asked
        second = self.joined(ev["id"], 1, floor["id"], token=other)
        self.assertEqual(second["position"], 2)
        self.assertEqual(self.figures(ev["id"]), ((5, 0, 2), [(5, 0, 0), (0, 0, 2)]))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = %s", ev["id"]), 0)
        self.assertEqual(self.entry(second["id"], token=other)["status"], "WAITING")
        # the rest of the event is still for sale
        self.bought(ev["id"], 2, balcony["id"], token=other)
        self.assertEqual(self.figures(ev["id"]), ((7, 0, 0), [(5, 0, 0), (2, 0, 0)]))

        # a single-type event: the type may be left out
        single = self.create(capacity=3)
        self.sold_out(single["id"], 3)
        s = self.joined(single["id"], 4)
        self.assertEqual((s["ticketTypeId"], s["position"]), (single["ticketTypes"][0]["id"], 1))
        ledger(self, self.db, ev["id"])

    def test_public_availability_subtracts_the_waiting_quantities_and_never_goes_below_zero(self):
        ev = self.create(capacity=5)
        self.sold_out(ev["id"], 2)  # 3 left
        a = self.joined(ev["id"], 4)  # 3 < 4: may join; 3 - 4 shows as 0
        self.assertEqual(self.figures(ev["id"]), ((2, 0, 0), [(2, 0, 0)]))
        other, _ = self.api.user_token()
        b = self.joined(ev["id"], 1, token=other)  # nothing available to the public: may join
        self.assertEqual(self.figures(ev["id"]), ((2, 0, 0), [(2, 0, 0)]))
        self.assertEqual(self.leave(a["id"]).status, 204)
        self.assertEqual(self.figures(ev["id"]), ((2, 0, 2), [(2, 0, 2)]))  # 5 - 2 - 1
        self.assertEqual(leave(self.service.port, other, b["id"]).status, 204)
        self.assertEqual(self.figures(ev["id"]), ((2, 0, 3), [(2, 0, 3)]))
        self.bought(ev["id"], 3, token=other)  # the tickets were never taken by the entries
        ledger(self, self.db, ev["id"])

    def test_bad_bodies_are_400_naming_the_field_unknown_events_404_and_nothing_changes(self):
        single = self.create(capacity=2)
        multi = self.two_types(capacity=10, floor=5, balcony=5)
        self.sold_out(single["id"], 2)
        foreign = single["ticketTypes"][0]["id"]
        cases = [(single, {"quantity": 0}, ["quantity"]), (single, {"quantity": 5}, ["quantity"]),
                 (single, {"quantity": -1}, ["quantity"]), (single, {}, ["quantity"]),
                 (single, {"quantity": None}, ["quantity"]), (single, {"quantity": "2"}, ["quantity"]),
                 (single, {"quantity": 1.5}, ["quantity"]),
                 (single, {"quantity": 1, "ticketTypeId": multi["ticketTypes"][0]["id"]}, ["ticketTypeId"]),
                 (multi, {"quantity": 1}, ["ticketTypeId"]),
                 (multi, {"quantity": 1, "ticketTypeId": None}, ["ticketTypeId"]),
                 (multi, {"quantity": 1, "ticketTypeId": UNKNOWN}, ["ticketTypeId"]),
                 (multi, {"quantity": 1, "ticketTypeId": foreign}, ["ticketTypeId"]),
                 (multi, {"quantity": 1, "ticketTypeId": "Floor"}, ["ticketTypeId"])]
        with self.unchanged(single["id"], multi["id"]):
            for ev, body, fields in cases:
                r = self.client.post(f"/api/events/{ev['id']}/waitlist", body, token=self.user)
                errors = self.field_errors(r)
                self.assertEqual(list(errors), fields, (body, r))
                as_purchase = self.client.post(f"/api/events/{ev['id']}/purchases", body, token=self.user)
                self.assertEqual(list(errors), list(self.field_errors(as_purchase)), (body, r, as_purchase))
            self.assertEqual(list(self.field_errors(self.join(single["id"], 5))), ["quantity"])  # max-per-order 4
            path = f"/api/events/{single['id']}/waitlist"
            self.assertProblem(self.client.post(path, raw_body=b"{", token=self.user), 400)
            self.assertProblem(self.client.post(path, raw_body=b"[1]", token=self.user), 400)
            self.assertProblem(self.client.post(path, raw_body=b"quantity=1", token=self.user,
                                                content_type="application/x-www-form-urlencoded"), 415)
            # the body before existence, then the event
            self.assertIn("quantity", self.field_errors(self.join(UNKNOWN, 0)))
            self.assertProblem(self.join(UNKNOWN, 1), 404)
            for bad in ("abc", "0", "-1", "1.5"):
                self.assertProblem(self.client.post(f"/api/events/{bad}/waitlist", {"quantity": 1},
                                                    token=self.user), 400)
        self.assertEqual(self.joined(single["id"], 4)["position"], 1)  # 4 is allowed

    def test_roles_admin_and_staff_are_403_and_no_token_401_before_anything_else(self):
        ev = self.create(capacity=1)
        self.sold_out(ev["id"], 1)
        mine = self.joined(ev["id"], 1)
        staff, _ = self.api.staff_token()
        create_path, entry_path = f"/api/events/{ev['id']}/waitlist", f"/api/waitlist/{mine['id']}"
        with self.unchanged(ev["id"]):
            for method, path, body in [("POST", create_path, {"quantity": 1}), ("GET", entry_path, None),
                                       ("DELETE", entry_path, None), ("GET", "/api/me/waitlist", None),
                                       ("GET", create_path, None)]:
                r = self.client.request(method, path, body=body)
                self.assertProblem(r, 401)
                self.assertEqual(r.header("www-authenticate"), "Bearer", (method, path))
                self.assertProblem(self.client.request(method, path, body=body, token=self.user + "x"), 401)
                self.assertProblem(self.client.request(method, path, body=body, token=staff), 403)
            # the ADMIN joins and leaves nothing: 403 before the body, the path id or existence
            for body in ({"quantity": 1}, {"quantity": "bad"}, {}):
                self.assertProblem(self.client.post(create_path, body, token=self.admin), 403)
            self.assertProblem(self.client.post(f"/api/events/{UNKNOWN}/waitlist", {"quantity": 1},
                                                token=self.admin), 403)
            self.assertProblem(self.client.post("/api/events/abc/waitlist", {"quantity": 1}, token=staff), 403)
            for path in (entry_path, f"/api/waitlist/{UNKNOWN}", "/api/waitlist/abc"):
                self.assertProblem(self.client.delete(path, token=self.admin), 403)
            self.assertProblem(self.client.get("/api/me/waitlist", token=self.admin), 403)
            # a USER may not list an event's waitlist
            self.assertProblem(self.client.get(create_path, token=self.user), 403)
            self.assertEqual(self.entry(mine["id"], token=self.admin), mine)  # the ADMIN may read it
            r = self.client.put(entry_path, {"quantity": 1}, token=self.user)
            self.assertEqual(r.status, 405, r)
            self.assertIn("DELETE", r.header("allow") or "", r)
        self.assertEqual(self.entry(mine["id"])["status"], "WAITING")

    def test_someone_elses_entry_is_404_to_read_and_leave_bad_ids_400_unknown_404(self):
        ev = self.create(capacity=1)
        self.sold_out(ev["id"], 1)
        mine = self.joined(ev["id"], 1)
        stranger, _ = self.api.user_token()
        with self.unchanged(ev["id"]):
            self.assertProblem(self.client.get(f"/api/waitlist/{mine['id']}", token=stranger), 404)
            self.assertProblem(leave(self.service.port, stranger, mine["id"]), 404)
            self.assertEqual(self.client.get("/api/me/waitlist", token=stranger).json["items"], [])
            for bad in ("abc", "0", "-1", "1.5"):
                self.assertProblem(self.client.get(f"/api/waitlist/{bad}", token=self.user), 400)
                self.assertProblem(self.client.delete(f"/api/waitlist/{bad}", token=self.user), 400)
                self.assertProblem(self.client.get(f"/api/events/{bad}/waitlist", token=self.admin), 400)
            self.assertProblem(self.client.get(f"/api/waitlist/{UNKNOWN}", token=self.user), 404)
            self.assertProblem(self.client.get(f"/api/waitlist/{UNKNOWN}", token=self.admin), 404)
            self.assertProblem(self.leave(UNKNOWN), 404)
            self.assertProblem(self.client.get(f"/api/events/{UNKNOWN}/waitlist", token=self.admin), 404)
        self.assertEqual(self.entry(mine["id"]), mine)

    def test_409s_come_in_the_documented_order_and_each_changes_nothing(self):
        other, _ = self.api.user_token()
        third, _ = self.api.user_token()
        # sales-not-open, before anything else of the 409s
        later = self.create(capacity=5, maxPerBuyer=1, salesStartAt=iso_in(days=1))
        with self.unchanged(later["id"]):
            self.assertProblem(self.join(later["id"], 1), 409, "sales-not-open")
            self.assertProblem(self.join(later["id"], 4), 409, "sales-not-open")  # also over the limit
        # sales-closed
        closed = self.create(capacity=1)
        self.db.query("UPDATE events SET starts_at = now() - interval '1 minute' WHERE id = %s", closed["id"])
        with self.unchanged(closed["id"]):
            self.assertProblem(self.join(closed["id"], 1), 409, "sales-closed")

        # tickets-available: the type serves the quantity now
        ev = self.create(capacity=6, maxPerBuyer=3)
        self.sold_out(ev["id"], 3, token=other)  # 3 left
        with self.unchanged(ev["id"]):
            for q in (1, 3):
                self.assertEqual(self.assertProblem(self.join(ev["id"], q), 409,
                                                    "tickets-available")["ticketsAvailable"], 3)
            # over the buyer limit and tickets available: the limit is named
            self.assertEqual(self.assertProblem(self.join(ev["id"], 4), 409, "buyer-limit")["ticketsAllowed"], 3)
        self.bought(ev["id"], 2)  # 1 left; this buyer may get 1 more
        with self.unchanged(ev["id"]):
            self.assertEqual(self.assertProblem(self.join(ev["id"], 1), 409,
                                                "tickets-available")["ticketsAvailable"], 1)
            self.assertEqual(self.assertProblem(self.join(ev["id"], 2), 409, "buyer-limit")["ticketsAllowed"], 1)
        # held tickets count toward the limit, as for holds
        h = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 1}, token=self.user)
        self.assertEqual(h.status, 201, h)
        with self.unchanged(ev["id"]):
            self.assertEqual(self.assertProblem(self.join(ev["id"], 1), 409, "buyer-limit")["ticketsAllowed"], 0)
        self.assertEqual(self.client.delete(f"/api/holds/{h.json['id']}", token=self.user).status, 204)
        self.bought(ev["id"], 1, token=third)  # sold out now
        mine = self.joined(ev["id"], 1)
        # already-waiting, before buyer-limit, for WAITING and for OFFERED entries
        with self.unchanged(ev["id"]):
            for q in (1, 2, 4):
                self.assertProblem(self.join(ev["id"], q), 409, "already-waiting")
        # sales-not-open before already-waiting
        r = self.put_event(ev, salesStartAt=iso_in(days=1))
        self.assertEqual(r.status, 200, r)
        with self.unchanged(ev["id"]):
            self.assertProblem(self.join(ev["id"], 1), 409, "sales-not-open")
        self.assertEqual(self.put_event(ev, salesStartAt=None).status, 200)
        p = self.db.scalar("SELECT id FROM purchases WHERE event_id = %s ORDER BY id LIMIT 1", ev["id"])
        self.cancelled(p, 1)
        offered, _ = self.offer_of(mine["id"])
        with self.unchanged(ev["id"]):
            self.assertProblem(self.join(ev["id"], 1), 409, "already-waiting")
        self.assertEqual(self.entry(mine["id"]), offered)

        # one entry per participant and type: another type of the event is another queue
        two = self.two_types(capacity=4, floor=2, balcony=2)
        floor, balcony = two["ticketTypes"]
        self.sold_out(two["id"], 2, floor["id"], token=other)
        self.sold_out(two["id"], 2, balcony["id"], token=other)
        self.joined(two["id"], 1, floor["id"])
        self.joined(two["id"], 1, balcony["id"])
        with self.unchanged(two["id"]):
            self.assertProblem(self.join(two["id"], 2, floor["id"]), 409, "already-waiting")
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = ANY(%s)",
                                        [later["id"], closed["id"], two["id"]]), 0)

    def test_positions_rank_each_types_waiting_entries_in_arrival_order(self):
        ev = self.two_types(capacity=6, floor=3, balcony=3)
        floor, balcony = ev["ticketTypes"]
        p, seller = self.sold_out(ev["id"], 3, floor["id"])
        self.sold_out(ev["id"], 3, balcony["id"], token=seller)
        users = [self.api.user_token() for _ in range(5)]
        fa, fb, fc = (self.joined(ev["id"], 1, floor["id"], token=t) for t, _ in users[:3])
        ba, bb = (self.joined(ev["id"], 2, balcony["id"], token=t) for t, _ in users[3:])
        self.assertEqual([e["position"] for e in (fa, fb, fc, ba, bb)], [1, 2, 3, 1, 2])
        listed = self.listing(ev["id"])
        self.assertEqual(list(listed), sorted(listed))
        self.assertEqual([e["position"] for e in listed.values()], [1, 2, 3, 1, 2])
        self.assertEqual(listed[fa["id"]], fa)

        self.assertEqual(leave(self.service.port, users[1][0], fb["id"]).status, 204)
        self.assertEqual([self.entry(e["id"], token=self.admin)["position"] for e in (fa, fb, fc, ba, bb)],
                         [1, None, 2, 1, 2])
        self.cancelled(p["id"], 1)  # Floor: the first in line is offered
        self.assertEqual([self.entry(e["id"], token=self.admin)["position"] for e in (fa, fb, fc, ba, bb)],
                         [None, None, 1, 1, 2])
        self.assertEqual(self.entry(fa["id"], token=users[0][0])["status"], "OFFERED")
        self.assertStatuses(ev["id"], {fa["id"]: "OFFERED", fb["id"]: "LEFT", fc["id"]: "WAITING",
                                       ba["id"]: "WAITING", bb["id"]: "WAITING"})
        self.assertPositions(ev["id"])
        late = self.joined(ev["id"], 1, floor["id"])
        self.assertEqual(late["position"], 2)
        self.assertPositions(ev["id"])

    def test_my_waitlist_is_newest_first_with_paging(self):
        events = [self.create(capacity=1) for _ in range(3)]
        for e in events:
            self.sold_out(e["id"], 1)
        ids = [self.joined(e["id"], 1)["id"] for e in events]
        self.assertEqual(self.leave(ids[1]).status, 204)
        page = self.client.get("/api/me/waitlist?size=2", token=self.user)
        self.assertEqual(page.status, 200, page)
        page = page.json
        self.assertEqual([e["id"] for e in page["items"]], ids[::-1][:2])
        self.assertEqual((page["totalItems"], page["totalPages"], page["page"], page["size"]), (3, 2, 0, 2))
        self.assertEqual(page["items"][0], self.entry(ids[2]))
        self.assertEqual(page["items"][1]["status"], "LEFT")
        second = self.client.get("/api/me/waitlist?size=2&page=1", token=self.user).json
        self.assertEqual([e["id"] for e in second["items"]], [ids[0]])
        everything = self.client.get("/api/me/waitlist", token=self.user).json
        self.assertEqual(([e["id"] for e in everything["items"]], everything["size"]), (ids[::-1], 20))
        other, _ = self.api.user_token()
        self.assertEqual(self.client.get("/api/me/waitlist", token=other).json["totalItems"], 0)
        self.assertEqual(self.field_errors(self.client.get("/api/me/waitlist?size=0", token=self.user)),
                         {"size": "must be an integer between 1 and 100"})
        self.assertIn("size", self.field_errors(self.client.get("/api/me/waitlist?size=101", token=self.user)))
        self.assertIn("page", self.field_errors(self.client.get("/api/me/waitlist?page=-1", token=self.user)))
        self.assertIn("page", self.field_errors(self.client.get("/api/me/waitlist?page=x", token=self.user)))

    def test_the_admin_lists_an_events_entries_in_arrival_order_in_every_status(self):
        ev = self.create(capacity=3)
        p, _ = self.sold_out(ev["id"], 3)
        users = [self.api.user_token() for _ in range(5)]
        entries = [self.joined(ev["id"], 1, token=t) for t, _ in users]
        tokens = [t for t, _ in users]
        self.assertEqual(leave(self.service.port, tokens[1], entries[1]["id"]).status, 204)  # LEFT
        self.cancelled(p["id"], 3)  # 0, 2, 3 offered
        _, h0 = self.offer_of(entries[0]["id"], tokens[0])
        self.assertEqual(call(self.service.port, "POST", f"/api/holds/{h0['id']}/confirm", token=tokens[0]).status,
                         201)  # CONFIRMED
        _, h2 = self.offer_of(entries[2]["id"], tokens[2])
        self.assertEqual(call(self.service.port, "DELETE", f"/api/holds/{h2['id']}", token=tokens[2]).status,
                         204)  # EXPIRED; entry 4 offered
        expected = ["CONFIRMED", "LEFT", "EXPIRED", "OFFERED", "OFFERED"]
        path = f"/api/events/{ev['id']}/waitlist"
        page = self.client.get(path + "?size=2", token=self.admin)
        self.assertEqual(page.status, 200, page)
        self.assertEqual([e["id"] for e in page.json["items"]], [entries[0]["id"], entries[1]["id"]])
        self.assertEqual((page.json["totalItems"], page.json["totalPages"], page.json["page"], page.json["size"]),
                         (5, 3, 0, 2))
        last = self.client.get(path + "?size=2&page=2", token=self.admin).json
        self.assertEqual([e["id"] for e in last["items"]], [entries[4]["id"]])
        listed = self.client.get(path, token=self.admin).json["items"]
        self.assertEqual([e["id"] for e in listed], [e["id"] for e in entries])
        self.assertEqual([e["status"] for e in listed], expected)
        for e, t in zip(listed, tokens):
            self.assertEqual(set(e), ENTRY_KEYS)
            self.assertEqual(e, self.entry(e["id"], token=t))
        self.assertIn("size", self.field_errors(self.client.get(path + "?size=0", token=self.admin)))
        self.assertIn("page", self.field_errors(self.client.get(path + "?page=-1", token=self.admin)))
        empty = self.create(capacity=1)
        self.assertEqual(self.client.get(f"/api/events/{empty['id']}/waitlist", token=self.admin).json["items"], [])

    def test_an_offer_is_a_hold_of_the_entrys_owner_and_confirming_it_makes_the_purchase(self):
        ev = self.create(capacity=3, ticketTypes=[{"name": "Seat", "priceCents": 2200, "currency": "USD",
                                                   "quota": 3}])
        p, seller = self.sold_out(ev["id"], 3)
        e = self.joined(ev["id"], 2)
        before = time.time()
        self.cancelled(p["id"], 2, token=seller)
        after = time.time()
        offered, h = self.offer_of(e["id"])
        self.assertEqual(offered, dict(e, status="OFFERED", position=None, holdId=h["id"]))
        self.assertEqual(set(h), HOLD_KEYS)
        self.assertEqual({k: h[k] for k in ("eventId", "ticketTypeId", "participantId", "quantity", "status",
                                            "purchaseId")},
                         {"eventId": ev["id"], "ticketTypeId": e["ticketTypeId"], "participantId": self.me["id"],
                          "quantity": 2, "status": "HELD", "purchaseId": None})
        self.assertTrue(before - 1 <= ts(h["createdAt"]) <= after + 1, (before, h, after))
        self.assertAlmostEqual(ts(h["expiresAt"]) - ts(h["createdAt"]), DEFAULT_OFFER_TTL, delta=2)  # 12h
        self.assertEqual(self.get_hold(h["id"], token=self.admin), h)
        self.assertIn(h, self.client.get("/api/me/holds?size=100", token=self.user).json["items"])
        self.assertEqual(holds_of(self.db, ev["id"], self.me["id"]), [(h["id"], 2, "HELD")])
        self.assertEqual(self.figures(ev["id"]), ((1, 2, 0), [(1, 2, 0)]))
        self.assertEqual(self.listing(ev["id"])[e["id"]], offered)
        ledger(self, self.db, ev["id"])

        stranger, _ = self.api.user_token()
        with self.unchanged(ev["id"]):
            self.assertProblem(self.client.get(f"/api/holds/{h['id']}", token=stranger), 404)
            self.assertProblem(self.client.post(f"/api/holds/{h['id']}/confirm", token=stranger), 404)
            self.assertProblem(self.client.post(f"/api/holds/{h['id']}/confirm", token=self.admin), 403)
            self.assertProblem(buy(self.service.port, stranger, ev["id"], 1), 409, "sold-out")

        c = self.client.post(f"/api/holds/{h['id']}/confirm", token=self.user)
        self.assertEqual(c.status, 201, c)
        bought = c.json
        self.assertEqual(set(bought), PURCHASE_KEYS)
        self.assertEqual({k: bought[k] for k in ("eventId", "participantId", "ticketTypeId", "quantity",
                                                 "unitPriceCents", "currency", "totalCents", "status")},
                         {"eventId": ev["id"], "participantId": self.me["id"], "ticketTypeId": e["ticketTypeId"],
                          "quantity": 2, "unitPriceCents": 2200, "currency": "USD", "totalCents": 4400,
                          "status": "CONFIRMED"})
        confirmed = self.entry(e["id"])
        self.assertEqual(confirmed, dict(offered, status="CONFIRMED"))
        self.assertEqual(self.get_hold(h["id"]), dict(h, status="CONFIRMED", purchaseId=bought["id"]))
        self.assertIn(bought, self.client.get("/api/me/purchases?size=100", token=self.user).json["items"])
        self.assertEqual(self.figures(ev["id"]), ((3, 0, 0), [(3, 0, 0)]))
        self.assertEqual(self.db.query("SELECT participant_id, quantity, hold_id FROM purchases WHERE id = %s",
                                       bought["id"]), [(self.me["id"], 2, h["id"])])
        self.assertEqual(ledger(self, self.db, ev["id"])["sold"], 3)

        # a confirmed entry is not left; nothing changes
        with self.unchanged(ev["id"]):
            self.assertProblem(self.leave(e["id"]), 409, "hold-confirmed")
        self.assertEqual(self.entry(e["id"]), confirmed)
        # confirmed is neither WAITING nor OFFERED: the participant may join again
        again = self.joined(ev["id"], 1)
        self.assertEqual(again["position"], 1)

    def test_leaving_in_each_status(self):
        ev = self.create(capacity=2)
        p, seller = self.sold_out(ev["id"], 2)
        b_token, b = self.api.user_token()
        c_token, _ = self.api.user_token()
        a = self.joined(ev["id"], 2)
        eb = self.joined(ev["id"], 1, token=b_token)
        ec = self.joined(ev["id"], 1, token=c_token)

        # WAITING -> LEFT: no position, the quantity no longer waits, the others move up
        r = self.leave(eb["id"], token=b_token)
        self.assertEqual((r.status, r.raw), (204, b""), r)
        left = self.entry(eb["id"], token=b_token)
        self.assertEqual(left, dict(eb, status="LEFT", position=None))
        self.assertEqual(self.entry(ec["id"], token=c_token)["position"], 2)
        with self.unchanged(ev["id"]):  # again: 204, nothing changes
            self.assertEqual(self.leave(eb["id"], token=b_token).status, 204)
        self.assertEqual(self.entry(eb["id"], token=b_token), left)
        # having left, one may join again: at the back
        eb = self.joined(ev["id"], 1, token=b_token)
        self.assertEqual(eb["position"], 3)

        # OFFERED -> LEFT: the offer's hold is released and its tickets go on to the next at once
        self.cancelled(p["id"], 2, token=seller)
        offered, h = self.offer_of(a["id"])
        self.assertEqual(self.figures(ev["id"]), ((0, 2, 0), [(0, 2, 0)]))
        self.assertEqual(self.leave(a["id"]).status, 204)
        self.assertEqual(self.entry(a["id"]), dict(offered, status="LEFT"))
        self.assertEqual(self.get_hold(h["id"])["status"], "RELEASED")
        self.assertProblem(self.client.post(f"/api/holds/{h['id']}/confirm", token=self.user), 409, "hold-released")
        self.assertStatuses(ev["id"], {a["id"]: "LEFT", left["id"]: "LEFT", ec["id"]: "OFFERED", eb["id"]: "OFFERED"})
        self.assertEqual(self.figures(ev["id"]), ((0, 2, 0), [(0, 2, 0)]))
        with self.unchanged(ev["id"]):
            self.assertEqual(self.leave(a["id"]).status, 204)

        # EXPIRED (its owner released the offer) -> 204, nothing changes
        _, hc = self.offer_of(ec["id"], token=c_token)
        self.assertEqual(call(self.service.port, "DELETE", f"/api/holds/{hc['id']}", token=c_token).status, 204)
        expired = self.entry(ec["id"], token=c_token)
        self.assertEqual((expired["status"], expired["holdId"], expired["position"]), ("EXPIRED", hc["id"], None))
        self.assertEqual(self.figures(ev["id"]), ((0, 1, 1), [(0, 1, 1)]))  # nobody waits for it: public
        with self.unchanged(ev["id"]):
            self.assertEqual(self.leave(ec["id"], token=c_token).status, 204)
        self.assertEqual(self.entry(ec["id"], token=c_token), expired)
        self.assertEqual(self.get_hold(hc["id"], token=c_token)["status"], "RELEASED")
        ledger(self, self.db, ev["id"])
        self.assertEqual(holds_of(self.db, ev["id"], b["id"])[0][2], "HELD")

    def test_a_released_offer_passes_on_first_fit_at_once(self):
        ev = self.create(capacity=3)
        p, seller = self.sold_out(ev["id"], 3)
        users = [self.api.user_token() for _ in range(3)]
        tokens = [t for t, _ in users]
        a = self.joined(ev["id"], 2, token=tokens[0])
        b = self.joined(ev["id"], 3, token=tokens[1])
        c = self.joined(ev["id"], 1, token=tokens[2])
        self.cancelled(p["id"], 2, token=seller)
        self.assertStatuses(ev["id"], {a["id"]: "OFFERED", b["id"]: "WAITING", c["id"]: "WAITING"})
        _, h = self.offer_of(a["id"], tokens[0])
        self.assertEqual(call(self.service.port, "DELETE", f"/api/holds/{h['id']}", token=tokens[0]).status, 204)
        # 2 free again: b (3) does not fit and is skipped, c (1) is offered; 1 stays free, unsold
        self.assertStatuses(ev["id"], {a["id"]: "EXPIRED", b["id"]: "WAITING", c["id"]: "OFFERED"})
        self.assertEqual(self.entry(b["id"], token=tokens[1])["position"], 1)
        self.assertEqual(self.figures(ev["id"]), ((1, 1, 0), [(1, 1, 0)]))
        # an ADMIN releasing an offer passes it on too: 2 free, b (3) still does not fit
        _, hc = self.offer_of(c["id"], tokens[2])
        self.assertEqual(self.client.delete(f"/api/holds/{hc['id']}", token=self.admin).status, 204)
        self.assertStatuses(ev["id"], {a["id"]: "EXPIRED", b["id"]: "WAITING", c["id"]: "EXPIRED"})
        self.assertEqual(self.figures(ev["id"]), ((1, 0, 0), [(1, 0, 0)]))  # the 2 free wait for b
        self.cancelled(p["id"], 1, token=seller)  # 3 free: b fits
        self.assertStatuses(ev["id"], {a["id"]: "EXPIRED", b["id"]: "OFFERED", c["id"]: "EXPIRED"})
        self.assertEqual(self.figures(ev["id"]), ((0, 3, 0), [(0, 3, 0)]))
        ledger(self, self.db, ev["id"])

    def test_a_released_hold_is_offered_to_the_waiting_entries_before_anyone_can_buy_it(self):
        ev = self.create(capacity=3)
        holder, _ = self.api.user_token()
        h = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 3}, token=holder)
        self.assertEqual(h.status, 201, h)
        t1, p1 = self.api.user_token()
        t2, p2 = self.api.user_token()
        a = self.joined(ev["id"], 2, token=t1)
        b = self.joined(ev["id"], 2, token=t2)
        self.assertEqual(self.client.delete(f"/api/holds/{h.json['id']}", token=holder).status, 204)
        self.assertStatuses(ev["id"], {a["id"]: "OFFERED", b["id"]: "WAITING"})  # 3 free: b's 2 do not fit 1
        self.assertEqual(self.figures(ev["id"]), ((0, 2, 0), [(0, 2, 0)]))
        self.assertProblem(buy(self.service.port, holder, ev["id"], 1), 409, "sold-out")
        self.assertEqual(len(holds_of(self.db, ev["id"], p1["id"])), 1)
        self.assertEqual(holds_of(self.db, ev["id"], p2["id"]), [])
        ledger(self, self.db, ev["id"])

    def test_tickets_freed_in_one_type_go_to_the_events_entries_in_arrival_order_wherever_they_fit(self):
        ev = self.two_types(capacity=4, floor=4, balcony=4)
        floor, balcony = ev["ticketTypes"]
        p, seller = self.sold_out(ev["id"], 4, floor["id"])
        tb, _ = self.api.user_token()
        tf, _ = self.api.user_token()
        b = self.joined(ev["id"], 1, balcony["id"], token=tb)  # Balcony's quota is free, the event is not
        f = self.joined(ev["id"], 1, floor["id"], token=tf)
        self.cancelled(p["id"], 1, token=seller)  # a Floor ticket frees the event's room: b came first and fits
        self.assertStatuses(ev["id"], {b["id"]: "OFFERED", f["id"]: "WAITING"})
        self.assertEqual(self.figures(ev["id"]), ((3, 1, 0), [(3, 0, 0), (0, 1, 0)]))
        self.cancelled(p["id"], 1, token=seller)
        self.assertStatuses(ev["id"], {b["id"]: "OFFERED", f["id"]: "OFFERED"})
        self.assertEqual(self.figures(ev["id"]), ((2, 2, 0), [(2, 1, 0), (0, 1, 0)]))
        ledger(self, self.db, ev["id"])

    def test_a_raised_capacity_or_quota_makes_offers(self):
        ev = self.create(capacity=2)  # General admission: its quota follows the capacity
        self.sold_out(ev["id"], 2)
        t1, _ = self.api.user_token()
        t2, _ = self.api.user_token()
        a = self.joined(ev["id"], 2, token=t1)
        b = self.joined(ev["id"], 1, token=t2)
        r = self.put_event(ev, capacity=3)
        self.assertEqual(r.status, 200, r)
        self.assertStatuses(ev["id"], {a["id"]: "WAITING", b["id"]: "OFFERED"})  # a does not fit 1
        self.assertEqual(self.figures(ev["id"]), ((2, 1, 0), [(2, 1, 0)]))
        self.assertEqual(self.put_event(ev, capacity=5).status, 200)
        self.assertStatuses(ev["id"], {a["id"]: "OFFERED", b["id"]: "OFFERED"})
        self.assertEqual(self.figures(ev["id"]), ((2, 3, 0), [(2, 3, 0)]))
        self.assertEqual(self.put_event(ev, capacity=6).status, 200)  # nobody waits: for sale
        self.assertEqual(self.figures(ev["id"]), ((2, 3, 1), [(2, 3, 1)]))
        ledger(self, self.db, ev["id"])

        # a raised quota, and the event's capacity binding the offer
        two = self.two_types(capacity=4, floor=2, balcony=2)
        floor, balcony = two["ticketTypes"]
        self.sold_out(two["id"], 2, floor["id"])
        self.sold_out(two["id"], 2, balcony["id"])
        c = self.joined(two["id"], 1, floor["id"], token=t1)
        r = self.put_type(two, floor, quota=3)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.entry(c["id"], token=t1)["status"], "WAITING")  # the event is full: no fit
        self.assertEqual(self.put_event(two, capacity=5).status, 200)
        self.assertEqual(self.entry(c["id"], token=t1)["status"], "OFFERED")
        self.assertEqual(self.figures(two["id"]), ((4, 1, 0), [(2, 1, 0), (2, 0, 0)]))
        # a raised quota alone
        d = self.joined(two["id"], 1, balcony["id"], token=t2)
        self.assertEqual(self.put_event(two, capacity=8).status, 200)
        self.assertEqual(self.entry(d["id"], token=t2)["status"], "WAITING")  # Balcony's quota binds
        self.assertEqual(self.put_type(two, balcony, quota=3).status, 200)
        self.assertEqual(self.entry(d["id"], token=t2)["status"], "OFFERED")
        self.assertEqual(self.figures(two["id"]), ((4, 2, 2), [(2, 1, 0), (2, 1, 0)]))
        ledger(self, self.db, two["id"])

    def test_a_buyer_who_would_pass_the_limit_is_skipped_and_stays_waiting(self):
        ev = self.create(capacity=10, maxPerBuyer=2, ticketTypes=[{"name": "Front", "priceCents": 100, "quota": 2},
                                                                 {"name": "Back", "priceCents": 50, "quota": 8}])
        front, back = ev["ticketTypes"]
        p, seller = self.sold_out(ev["id"], 2, front["id"])
        first = self.joined(ev["id"], 2, front["id"])  # 0 bought + 2 ≤ 2: may join
        self.bought(ev["id"], 1, back["id"])  # now 1 bought: 2 more would pass the limit
        w_token, w = self.api.user_token()
        second = self.joined(ev["id"], 1, front["id"], token=w_token)
        self.cancelled(p["id"], 2, token=seller)
        self.assertEqual(self.entry(first["id"])["status"], "WAITING")
        self.assertEqual(self.entry(first["id"])["position"], 1)
        self.assertEqual(self.entry(second["id"], token=w_token)["status"], "OFFERED")
        self.assertEqual(holds_of(self.db, ev["id"], self.me["id"]), [])
        self.assertEqual(len(holds_of(self.db, ev["id"], w["id"])), 1)
        ledger(self, self.db, ev["id"])

    def test_no_offers_are_made_once_the_event_has_started(self):
        ev = self.create(capacity=1, startsAt=iso_in(seconds=4))
        starts = ts(ev["startsAt"])
        holder, _ = self.api.user_token()
        h = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 1}, token=holder)
        self.assertEqual(h.status, 201, h)
        e = self.joined(ev["id"], 1)
        self.assertLess(time.time(), starts - 0.5, "the set-up took longer than the test allows")
        self.assertTrue(wait_until(lambda: time.time() > starts + SLACK, timeout=10, interval=0.05))
        self.assertProblem(self.join(ev["id"], 1, token=holder), 409, "sales-closed")
        self.assertEqual(call(self.service.port, "DELETE", f"/api/holds/{h.json['id']}", token=holder).status, 204)
        self.assertEqual(self.entry(e["id"])["status"], "WAITING")
        self.assertEqual(holds_of(self.db, ev["id"], self.me["id"]), [])

    def test_a_ticket_type_with_waiting_entries_is_not_deleted(self):
        ev = self.two_types(capacity=2, floor=2, balcony=2)
        floor, balcony = ev["ticketTypes"]
        self.sold_out(ev["id"], 2, floor["id"])  # Balcony: no sale, no hold, nothing left for it
        e = self.joined(ev["id"], 1, balcony["id"])
        path = f"/api/events/{ev['id']}/ticket-types/{balcony['id']}"
        with self.unchanged(ev["id"]):
            self.assertProblem(self.client.delete(path, token=self.admin), 409)
            body = {k: ev[k] for k in ("name", "venue", "startsAt", "capacity")}
            r = self.client.put(f"/api/events/{ev['id']}", dict(body, ticketTypes=[
                {k: floor[k] for k in ("id", "name", "priceCents", "currency", "quota")}]), token=self.admin)
            self.assertProblem(r, 409)  # leaving the type out deletes it: refused alike
        self.assertEqual(self.entry(e["id"])["status"], "WAITING")


class OfferExpiryCase(WaitlistCase):
    """An offer (waitlist.offer-ttl = TTL) left to expire, and an entry behind it."""

    TTL = None

    def waiting_pair(self):
        """A sold-out event of 1 with two entries of 1; the seller cancels: the first is offered."""
        ev = self.create(capacity=1)
        p, seller = self.sold_out(ev["id"], 1)
        b_token, b = self.api.user_token()
        first = self.joined(ev["id"], 1)
        second = self.joined(ev["id"], 1, token=b_token)
        self.cancelled(p["id"], 1, token=seller)
        offered, h = self.offer_of(first["id"])
        self.assertAlmostEqual(ts(h["expiresAt"]) - ts(h["createdAt"]), self.TTL, delta=0.3)
        self.assertEqual(self.entry(second["id"], token=b_token)["status"], "WAITING")
        return ev, offered, h, second, b_token, b

    def wait_offered(self, event_id, participant_id, deadline):
        """Polls PostgreSQL (only) until the participant has a hold of the event; returns its id or None."""
        conn = self.db.connect()
        try:
            cur = conn.cursor()
            while True:
                cur.execute("SELECT id FROM holds WHERE event_id = %s AND participant_id = %s", (event_id,
                                                                                                 participant_id))
                row = cur.fetchone()
                if row or time.time() > deadline:
                    return row[0] if row else None
                time.sleep(0.05)
        finally:
            conn.close()


class OfferExpiryTest(OfferExpiryCase):
    """waitlist.offer-ttl 2s: an offer not confirmed reads EXPIRED from its expiresAt and passes on."""

    TTL = 2.0
    service_env = {"EVENTHUB_WAITLIST_OFFER_TTL": "2s"}
    service_args = ("--hold.ttl", "3s", "--hold.sweep-interval", "200ms", "--purchase.idle-timeout", "300ms",
                    "--log.format", "json")

    def test_an_expired_hold_is_offered_to_the_waiting_entry_within_two_seconds(self):
        ev = self.create(capacity=1)
        holder, _ = self.api.user_token()
        r = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 1}, token=holder)
        self.assertEqual(r.status, 201, r)
        exp = ts(r.json["expiresAt"])
        e = self.joined(ev["id"], 1)
        passed = self.wait_offered(ev["id"], self.me["id"], exp + STORED_WITHIN + 0.1)
        self.assertIsNotNone(passed, f"the expired hold's ticket was not offered within {STORED_WITHIN}s")
        self.assertGreaterEqual(time.time(), exp - 0.05)
        self.assertEqual(self.db.scalar("SELECT status FROM holds WHERE id = %s", r.json["id"]), "EXPIRED")
        offered, h = self.offer_of(e["id"])
        self.assertEqual(h["id"], passed)
        self.assertAlmostEqual(ts(h["expiresAt"]) - ts(h["createdAt"]), self.TTL, delta=0.3)
        self.assertEqual(self.figures(ev["id"])[0], (0, 1, 0))
        self.assertProblem(buy(self.service.port, holder, ev["id"], 1), 409, "sold-out")
        ledger(self, self.db, ev["id"])

    def test_an_offer_reads_expired_at_once_from_expires_at_and_passes_on_within_two_seconds(self):
        ev, offered, h, second, b_token, b = self.waiting_pair()
        exp = ts(h["expiresAt"])
        reads, passed_at = [], None
        conn = self.db.connect()
        cur = conn.cursor()
        try:
            while time.time() < exp + STORED_WITHIN + 0.5:
                started = time.time()
                a = self.entry(offered["id"])
                mine = self.client.get("/api/me/waitlist", token=self.user).json["items"][0]
                held = self.get_hold(h["id"])
                other = self.entry(second["id"], token=b_token)
                e = self.get_event(ev["id"])
                ended = time.time()
                reads.append((started, ended, (a["status"], mine["status"], held["status"], e["ticketsAvailable"]),
                              other["status"]))
                if passed_at is None:
                    cur.execute("SELECT count(*) FROM holds WHERE event_id = %s AND participant_id = %s",
                                (ev["id"], b["id"]))
                    if cur.fetchone()[0]:
                        passed_at = time.time()
                if passed_at is not None and started > exp + SLACK:
                    break
                time.sleep(0.05)
        finally:
            conn.close()
        before = [(s - exp, v, o) for s, e, v, o in reads if e < exp - SLACK]
        after = [(s - exp, v) for s, e, v, o in reads if s > exp + SLACK]
        self.assertTrue(before and after, reads)
        for offset, v, o in before:
            self.assertEqual((v, o), (("OFFERED", "OFFERED", "HELD", 0), "WAITING"), f"{offset:+.3f}s from expiresAt")
        for offset, v in after:  # EXPIRED at once from expiresAt; the ticket never goes public
            self.assertEqual(v, ("EXPIRED", "EXPIRED", "EXPIRED", 0), f"{offset:+.3f}s from expiresAt")
        self.assertIsNotNone(passed_at, f"the second entry was not offered within {STORED_WITHIN}s of expiresAt")
        self.assertLessEqual(passed_at - exp, STORED_WITHIN + 0.1)
        self.assertEqual(self.entry(offered["id"]), dict(offered, status="EXPIRED"))

        passed, hb = self.offer_of(second["id"], token=b_token)
        self.assertEqual(holds_of(self.db, ev["id"], b["id"]), [(hb["id"], 1, "HELD")])
        self.assertAlmostEqual(ts(hb["expiresAt"]) - ts(hb["createdAt"]), self.TTL, delta=0.3)
        self.assertGreaterEqual(ts(hb["createdAt"]), exp - 0.05)
        self.assertEqual(holds_of(self.db, ev["id"], self.me["id"]), [(h["id"], 1, "EXPIRED")])
        with self.unchanged(ev["id"]):
            self.assertProblem(self.client.post(f"/api/holds/{h['id']}/confirm", token=self.user), 409,
                               "hold-expired")
            self.assertEqual(self.leave(offered["id"]).status, 204)
        self.assertEqual(self.entry(offered["id"])["status"], "EXPIRED")

        # the second offer expires too: nobody waits any more, the ticket is for sale
        exp_b = ts(hb["expiresAt"])
        self.assertTrue(wait_until(lambda: time.time() > exp_b + SLACK, timeout=5, interval=0.05))
        self.assertEqual(self.entry(second["id"], token=b_token), dict(passed, status="EXPIRED"))
        self.assertEqual(self.figures(ev["id"])[0], (0, 0, 1))
        self.bought(ev["id"], 1, token=b_token)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = %s", ev["id"]), 2)
        ledger(self, self.db, ev["id"])

    def test_an_offer_passes_on_within_two_seconds_after_the_event_actor_was_passivated(self):
        ev, offered, h, second, b_token, b = self.waiting_pair()
        exp = ts(h["expiresAt"])
        # Nothing touches the event from here on: its actor is passivated (purchase.idle-timeout),
        # so only the sweep can expire the offer and pass it on.
        self.assertTrue(wait_until(lambda: live_actors(self.client) == 0, timeout=max(0.2, exp - time.time() - 0.1),
                                   interval=0.05),
                        "the event actor was not passivated before expiresAt: the test needs it gone")
        passed = self.wait_offered(ev["id"], b["id"], exp + STORED_WITHIN + 0.1)
        self.assertIsNotNone(passed, f"not passed on within {STORED_WITHIN}s of expiresAt without a running actor")
        self.assertEqual(holds_of(self.db, ev["id"], self.me["id"]), [(h["id"], 1, "EXPIRED")])
        e, hb = self.offer_of(second["id"], token=b_token)
        self.assertEqual(hb["id"], passed)
        self.assertEqual(self.entry(offered["id"])["status"], "EXPIRED")
        self.assertEqual(self.figures(ev["id"])[0], (0, 1, 0))
        ledger(self, self.db, ev["id"])


class OfferRestartTest(OfferExpiryCase):
    """waitlist.offer-ttl 4s: an offer made before a kill -9 expires and passes on after the restart."""

    TTL = 4.0
    service_env = {"EVENTHUB_WAITLIST_OFFER_TTL": "4s"}
    service_args = ("--hold.sweep-interval", "200ms", "--log.format", "json")

    def test_an_offer_expiring_across_a_kill_9_and_restart_passes_on_on_time(self):
        ev, offered, h, second, b_token, b = self.waiting_pair()
        exp = ts(h["expiresAt"])
        self.service.kill()
        self.assertEqual(holds_of(self.db, ev["id"], self.me["id"]), [(h["id"], 1, "HELD")])
        self.service.start()
        cls = type(self)
        cls.client = self.service.client()
        cls.api = Api(cls.client)
        self.assertLess(time.time(), exp - 0.5, "the restart took longer than the test allows")
        # nothing touches the event after the restart: the sweep finds the offer
        passed = self.wait_offered(ev["id"], b["id"], exp + STORED_WITHIN + 0.1)
        self.assertIsNotNone(passed, f"not passed on within {STORED_WITHIN}s of expiresAt after a restart")
        self.assertEqual(holds_of(self.db, ev["id"], self.me["id"]), [(h["id"], 1, "EXPIRED")])
        e, hb = self.offer_of(second["id"], token=b_token)
        self.assertEqual(hb["id"], passed)
        self.assertEqual(self.entry(offered["id"]), dict(offered, status="EXPIRED"))
        c = self.client.post(f"/api/holds/{hb['id']}/confirm", token=b_token)
        self.assertEqual(c.status, 201, c)
        self.assertEqual(self.entry(second["id"], token=b_token)["status"], "CONFIRMED")
        self.assertEqual(self.figures(ev["id"])[0], (1, 0, 0))
        ledger(self, self.db, ev["id"])


class OfferNotificationTest(WaitlistCase):
    receiver = None

    @classmethod
    def setUpClass(cls):
        cls.receiver = WebhookReceiver()
        cls.service_args = (*webhook_args(cls.receiver), "--notify.sweep-interval", "100ms", "--log.format", "json")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.receiver.close()

    def test_each_offer_is_logged_and_posted_once_with_its_figures(self):
        ev = self.create(capacity=3)
        p, seller = self.sold_out(ev["id"], 3)
        b_token, b = self.api.user_token()
        first = self.joined(ev["id"], 2)
        second = self.joined(ev["id"], 1, token=b_token)
        self.cancelled(p["id"], 3, token=seller)
        expected = {}
        for entry, token, who in ((first, self.user, self.me), (second, b_token, b)):
            e, h = self.offer_of(entry["id"], token)
            expected[e["id"]] = (e, h, who)

        def posted():
            return [body["data"] for body, _, _ in self.receiver.received
                    if body.get("type") == "waitlist.offered" and body["data"].get("eventId") == ev["id"]]
        self.assertTrue(wait_until(lambda: {b.get("waitlistEntryId") for b in posted()} >= set(expected), timeout=10),
                        self.receiver.received[-5:])
        for body, headers, raw in self.receiver.received:
            if body.get("type") == "waitlist.offered" and body["data"].get("eventId") == ev["id"]:
                self.assertTrue(webhook_signature_valid(self.receiver.secret, headers, raw), headers)
        for entry_id, (e, h, who) in expected.items():
            bodies = [b for b in posted() if b.get("waitlistEntryId") == entry_id]
            self.assertEqual({b.get("holdId") for b in bodies}, {h["id"]}, bodies)  # one offer, however often sent
            body = bodies[0]
            self.assertEqual({k: body.get(k) for k in ("waitlistEntryId", "holdId", "eventId", "participantId",
                                                      "quantity")},
                             {"waitlistEntryId": entry_id, "holdId": h["id"], "eventId": ev["id"],
                              "participantId": who["id"], "quantity": e["quantity"]})
            self.assertAlmostEqual(ts(body["expiresAt"]), ts(h["expiresAt"]), delta=0.001)
            line = offered_log_line([self.service], e)
            self.assertIsNotNone(line, f"no waitlist.offered log line for entry {entry_id}")
            self.assertEqual((line.get("event_id"), line.get("participant_id"), line.get("quantity")),
                             (ev["id"], who["id"], e["quantity"]), line)
        # no offer, no notification: a join and a leave post nothing
        late, _ = self.api.user_token()
        w = self.joined(ev["id"], 1, token=late)
        self.assertEqual(leave(self.service.port, late, w["id"]).status, 204)
        self.assertTrue(wait_until(lambda: self.db.scalar(
            "SELECT count(*) FROM pending_notifications WHERE event_id = %s", ev["id"]) == 0, timeout=10),
            "notifications of the event left undelivered")
        self.assertEqual(len({b.get("waitlistEntryId") for b in posted()}), 2, posted())
        self.assertEqual({l.get("hold_id") for l in self.service.log_lines("waitlist.offered")
                          if l.get("event_id") == ev["id"]}, {h["id"] for _, h, _ in expected.values()})


class ModeMixin:
    """The first-fit simulation and the race against a cancellation; a class below picks the mode."""

    offer_ttl = 3600

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = make_users(cls.service.port, 32)
        cls.tokens = [t for t, _ in users]
        cls.participants = [p["id"] for _, p in users]

    def fire(self, n, fn):
        results = concurrently(n, fn)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        return results

    def check(self, ev, model, freed, confirmed, history):
        """The server against the simulation: every entry's status, positions, the offer holds (one
        HELD hold per OFFERED entry, of its owner and quantity), never more on offer than was freed
        and not bought, the event's figures and the database's own accounts."""
        where = "after " + ", ".join(history[-6:])
        listed = self.listing(ev["id"])
        self.assertEqual({i: e["status"] for i, e in listed.items()}, model.statuses(), where)
        self.assertEqual([e["position"] for e in listed.values() if e["status"] == "WAITING"],
                         list(range(1, len(model.ids("WAITING")) + 1)), where)
        offers = {e["holdId"]: (e["participantId"], e["quantity"]) for e in listed.values() if e["status"] == "OFFERED"}
        held = {row[0]: (row[1], row[2]) for row in self.db.query(
            "SELECT id, participant_id, quantity FROM holds WHERE event_id = %s AND status = 'HELD'", ev["id"])}
        self.assertEqual(held, offers, where)
        on_offer = sum(q for _, q in held.values())
        self.assertLessEqual(on_offer, freed - confirmed, where)
        self.assertEqual(self.figures(ev["id"])[0], (model.sold, model.held, model.available()), where)
        figures = ledger(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["held"]), (model.sold, model.held), where)
        return listed

    def test_thirty_entries_get_exactly_the_first_fit_offers_after_every_cancellation(self):
        rng = random.Random(30)
        capacity, port = 40, self.service.port
        ev = self.create(capacity=capacity)
        seller = self.tokens[-1]
        purchases = [self.bought(ev["id"], 10, token=seller) for _ in range(4)]
        left = [10] * 4
        quantities = [rng.randint(1, 4) for _ in range(30)]
        model = Waitlist(capacity, sold=capacity)
        owner = {}
        for i, q in enumerate(quantities):
            e = self.joined(ev["id"], q, token=self.tokens[i])
            self.assertEqual(e["position"], i + 1)
            model.join(e["id"], q)
            owner[e["id"]] = self.tokens[i]
        history = [f"30 joins {quantities}"]
        freed = confirmed = 0
        listed = self.check(ev, model, freed, confirmed, history)
        self.assertEqual(self.figures(ev["id"])[0], (40, 0, 0))
        seen = {"offers": 0, "skipping an earlier entry": 0, "several at once": 0}

        def freeing(step):
            """Runs one step of the model that frees tickets; counts what its offers exercised."""
            before = model.ids("WAITING")
            offered = step()
            seen["offers"] += len(offered)
            seen["several at once"] += len(offered) > 1
            seen["skipping an earlier entry"] += any(w < o and w not in offered for o in offered for w in before)
            return offered

        while sum(left):
            k = min(rng.choice((1, 1, 1, 2, 3, 5)), max(left))
            j = next(j for j in range(4) if left[j] >= k)
            r = cancel(port, seller, purchases[j]["id"], k)
            self.assertEqual(r.status, 200, r)
            left[j] -= k
            freed += k
            expected = freeing(lambda: model.cancel(k))
            history.append(f"cancel {k} -> offers {[(i, model.quantity(i)) for i in expected]}")
            listed = self.check(ev, model, freed, confirmed, history)

            roll, offered, waiting = rng.random(), model.ids("OFFERED"), model.ids("WAITING")
            if roll < 0.25 and offered:
                eid = offered[0]
                c = call(port, "POST", f"/api/holds/{listed[eid]['holdId']}/confirm", token=owner[eid])
                self.assertEqual(c.status, 201, c)
                model.confirm(eid)
                confirmed += model.quantity(eid)
                history.append(f"confirm {eid}")
            elif roll < 0.35 and offered:
                eid = offered[-1]
                self.assertEqual(call(port, "DELETE", f"/api/holds/{listed[eid]['holdId']}",
                                      token=owner[eid]).status, 204)
                freeing(lambda: model.release(eid))
                history.append(f"release the offer of {eid}")
            elif roll < 0.45 and waiting:
                eid = rng.choice(waiting)
                self.assertEqual(leave(port, owner[eid], eid).status, 204)
                model.leave(eid)
                history.append(f"{eid} leaves waiting")
            elif roll < 0.5 and offered:
                eid = offered[-1]
                self.assertEqual(leave(port, owner[eid], eid).status, 204)
                freeing(lambda: model.leave(eid))
                history.append(f"{eid} leaves its offer")
            else:
                continue
            listed = self.check(ev, model, freed, confirmed, history)
        # the scenario exercised what it is meant to (its figures are fixed by the seed)
        self.assertTrue(seen["offers"] > 10 and seen["skipping an earlier entry"] and seen["several at once"], seen)
        self.assertTrue(model.ids("WAITING"), "the demand was meant to exceed the freed tickets")
        # the offer holds are of waitlist.offer-ttl
        for e in listed.values():
            if e["status"] == "OFFERED":
                h = call(port, "GET", f"/api/holds/{e['holdId']}", token=owner[e["id"]]).json
                self.assertAlmostEqual(ts(h["expiresAt"]) - ts(h["createdAt"]), self.offer_ttl, delta=2)

    def test_buyers_racing_a_cancellation_never_get_a_ticket_someone_waits_for(self):
        port = self.service.port
        waiter, seller, buyers = self.tokens[20], self.tokens[21], self.tokens[:20]
        for n in range(4):
            freed = 1 if n % 2 == 0 else 2  # 2: one for the entry, one for the public
            ev = self.create(capacity=5)
            p = self.bought(ev["id"], 5, token=seller)
            e = self.joined(ev["id"], 1, token=waiter)
            ops = ([lambda: cancel(port, seller, p["id"], freed)] +
                   [lambda i=i: buy(port, buyers[i], ev["id"], 1) for i in range(20)])
            if n >= 2:  # the cancel last in the list, in case start order matters
                ops = ops[1:] + ops[:1]
            results = self.fire(len(ops), lambda i: ops[i]())
            c, purchases = (results[0], results[1:]) if n < 2 else (results[-1], results[:-1])
            self.assertEqual(c.status, 200, c)
            for r in purchases:
                self.assertIn(r.status, (201, 409), r)
                if r.status == 409:
                    self.assertEqual(self.assertProblem(r, 409, "sold-out")["ticketsAvailable"], 0, r)
            won = sum(1 for r in purchases if r.status == 201)
            self.assertLessEqual(won, freed - 1, f"round {n}: a buyer got the ticket the entry waited for")
            got = call(port, "GET", f"/api/waitlist/{e['id']}", token=waiter).json
            self.assertEqual((got["status"], got["position"]), ("OFFERED", None), f"round {n}: {got}")
            self.assertEqual(holds_of(self.db, ev["id"], self.participants[20]), [(got["holdId"], 1, "HELD")])
            self.assertEqual(self.figures(ev["id"])[0], (5 - freed + won, 1, freed - 1 - won))
            figures = ledger(self, self.db, ev["id"])
            self.assertEqual((figures["sold"], figures["held"]), (5 - freed + won, 1))

    def test_twenty_concurrent_joins_of_one_participant_make_one_entry(self):
        port, token, me = self.service.port, self.tokens[22], self.participants[22]
        for n in range(3):
            ev = self.create(capacity=1)
            self.bought(ev["id"], 1, token=self.tokens[-1])
            results = self.fire(20, lambda i: join(port, token, ev["id"], 1 + i % 3))
            statuses = [r.status for r in results]
            self.assertEqual((statuses.count(201), statuses.count(409)), (1, 19), results[:3])
            for r in results:
                if r.status == 409:
                    self.assertProblem(r, 409, "already-waiting")
            [made] = [r.json for r in results if r.status == 201]
            listed = self.listing(ev["id"])
            self.assertEqual(list(listed.values()), [made])
            self.assertEqual((made["participantId"], made["position"], made["status"]), (me, 1, "WAITING"))
            self.assertEqual(self.figures(ev["id"])[0], (1, 0, 0))

    def test_concurrent_leaves_and_a_confirm_of_one_offer_settle_it_once_and_pass_it_on_once(self):
        port, seller = self.service.port, self.tokens[-1]
        first, second = self.tokens[23], self.tokens[24]
        for n in range(4):
            ev = self.create(capacity=1)
            p = self.bought(ev["id"], 1, token=seller)
            a = self.joined(ev["id"], 1, token=first)
            b = self.joined(ev["id"], 1, token=second)
            self.assertEqual(cancel(port, seller, p["id"], 1).status, 200)
            hold_id = self.entry(a["id"], token=first)["holdId"]
            with_confirm = n % 2 == 1
            results = self.fire(10, lambda i: (
                call(port, "POST", f"/api/holds/{hold_id}/confirm", token=first) if with_confirm and i == 5
                else leave(port, first, a["id"])))
            leaves = [r for i, r in enumerate(results) if not (with_confirm and i == 5)]
            confirmed = with_confirm and results[5].status == 201
            if with_confirm and not confirmed:
                self.assertProblem(results[5], 409, "hold-released")
            for r in leaves:
                if confirmed:
                    self.assertProblem(r, 409, "hold-confirmed")
                else:
                    self.assertEqual(r.status, 204, r)
            got_a, got_b = self.entry(a["id"], token=first), self.entry(b["id"], token=second)
            if confirmed:
                self.assertEqual((got_a["status"], got_b["status"]), ("CONFIRMED", "WAITING"))
                self.assertEqual(self.figures(ev["id"])[0], (1, 0, 0))
                self.assertEqual(holds_of(self.db, ev["id"], self.participants[24]), [])
            else:
                self.assertEqual((got_a["status"], got_b["status"]), ("LEFT", "OFFERED"))
                self.assertEqual(holds_of(self.db, ev["id"], self.participants[23]), [(hold_id, 1, "RELEASED")])
                self.assertEqual(holds_of(self.db, ev["id"], self.participants[24]), [(got_b["holdId"], 1, "HELD")])
                self.assertEqual(self.figures(ev["id"])[0], (0, 1, 0))
            ledger(self, self.db, ev["id"])


class ActorModeWaitlistTest(ModeMixin, WaitlistCase):
    service_env = {"EVENTHUB_WAITLIST_OFFER_TTL": "1h"}
    service_args = ("--db.pool-size", "4", "--log.format", "json")


class LockPerRequestModeWaitlistTest(ModeMixin, WaitlistCase):
    service_env = {"EVENTHUB_WAITLIST_OFFER_TTL": "1h"}
    service_args = ("--purchase.mode", "lock-per-request", "--db.pool-size", "8", "--log.format", "json")


if __name__ == "__main__":
    unittest.main()
