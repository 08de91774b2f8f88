"""Ticket types (issue 18) over real HTTP against real PostgreSQL: the implicit "General admission"
type, types with quotas created with the event or through /ticket-types, availability per type,
prices recorded on purchases, PUT of an event's types (all or nothing), validation naming each
field, salesStartAt, maxPerBuyer under 50 concurrent requests of one buyer (actor and
lock-per-request mode, two processes), the overlap race (hundreds of buyers on two types whose
quotas sum above the capacity; one and two server processes) and the STAFF role."""
import os
import random
import unittest
import uuid
import zlib

from harness import ADMIN_EMAIL, Api, Client, Service, ServiceTestCase, TestDatabase, iso_in
from test_purchases import concurrently, wait_until

TYPE_KEYS = {"id", "eventId", "name", "priceCents", "currency", "quota", "ticketsSold", "ticketsHeld",
             "ticketsAvailable"}
PURCHASE_KEYS = {"id", "eventId", "participantId", "ticketTypeId", "quantity", "unitPriceCents", "currency",
                 "totalCents", "cancelledQuantity", "refundedCents", "status", "purchasedAt"}
UNKNOWN = 987654321


def tag():
    return uuid.uuid4().hex[:12]


def purchase(port, token, event_id, quantity=1, type_id=None):
    """One purchase on a connection of its own, as a separate buyer would."""
    body = {"quantity": quantity}
    if type_id is not None:
        body["ticketTypeId"] = type_id
    c = Client(port)
    try:
        return c.post(f"/api/events/{event_id}/purchases", body, token=token)
    finally:
        c.close()


def event_body(ev, **changes):
    """The PUT body of an event as it is, with changes."""
    body = {k: ev[k] for k in ("name", "venue", "startsAt", "capacity", "description", "endsAt")}
    body.update(changes)
    return body


def type_body(t, **changes):
    body = {k: t[k] for k in ("name", "priceCents", "currency", "quota")}
    body.update(changes)
    return body


def db_figures(db, event_id):
    """What PostgreSQL holds for an event: capacity and tickets_sold of the event, and per type
    (quota, tickets_sold, the sum of its purchases' quantities, the sum of their totals)."""
    capacity, sold = db.query("SELECT capacity, tickets_sold FROM events WHERE id = %s", event_id)[0]
    types = {row[0]: row[1:] for row in db.query(
        "SELECT t.id, t.quota, t.tickets_sold, coalesce(sum(p.quantity), 0), coalesce(sum(p.total_cents), 0) "
        "FROM ticket_types t LEFT JOIN purchases p ON p.ticket_type_id = t.id "
        "WHERE t.event_id = %s GROUP BY t.id", event_id)}
    purchased = db.scalar("SELECT coalesce(sum(quantity), 0) FROM purchases WHERE event_id = %s", event_id)
    return capacity, sold, purchased, types


class TicketTypesCase(ServiceTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.api.admin_token()
        cls.user, cls.me = cls.api.user_token()

    def create(self, capacity=10, **extra):
        return self.api.create_event(capacity=capacity, **extra)

    def get_event(self, event_id):
        r = self.client.get(f"/api/events/{event_id}")
        self.assertEqual(r.status, 200, r)
        return r.json

    def put_event(self, ev, **changes):
        return self.client.put(f"/api/events/{ev['id']}", event_body(ev, **changes), token=self.admin)

    def buy(self, event_id, quantity=1, type_id=None, token=None):
        body = {"quantity": quantity}
        if type_id is not None:
            body["ticketTypeId"] = type_id
        return self.client.post(f"/api/events/{event_id}/purchases", body, token=token or self.user)

    def bought(self, event_id, quantity=1, type_id=None, token=None):
        r = self.buy(event_id, quantity, type_id, token)
        self.assertEqual(r.status, 201, r)
        return r.json

    def listed(self, ev):
        """The event as the listing shows it (found by its unique name)."""
        r = self.client.get(f"/api/events?size=100&q={ev['name'].split()[-1]}")
        self.assertEqual(r.status, 200, r)
        mine = [e for e in r.json["items"] if e["id"] == ev["id"]]
        self.assertEqual(len(mine), 1, r)
        return mine[0]

    def type_path(self, event_id, type_id=None):
        return f"/api/events/{event_id}/ticket-types" + (f"/{type_id}" if type_id is not None else "")

    def assertAvailability(self, ev):
        """The contract's formulas (no holds or waitlist here)."""
        event_available = max(0, ev["capacity"] - ev["ticketsSold"] - ev["ticketsHeld"])
        self.assertEqual(ev["ticketsAvailable"], event_available, ev)
        self.assertEqual(ev["ticketsSold"], sum(t["ticketsSold"] for t in ev["ticketTypes"]), ev)
        for t in ev["ticketTypes"]:
            self.assertEqual(t["ticketsAvailable"],
                             max(0, min(t["quota"] - t["ticketsSold"] - t["ticketsHeld"], event_available)), t)


class DefaultTypeTest(TicketTypesCase):
    def test_an_event_without_types_gets_general_admission_following_the_capacity_until_edited(self):
        ev = self.create(capacity=10)
        self.assertEqual(len(ev["ticketTypes"]), 1, ev)
        [t] = ev["ticketTypes"]
        self.assertEqual(set(t), TYPE_KEYS)
        self.assertEqual({k: v for k, v in t.items() if k != "id"},
                         {"eventId": ev["id"], "name": "General admission", "priceCents": 0, "currency": "EUR",
                          "quota": 10, "ticketsSold": 0, "ticketsHeld": 0, "ticketsAvailable": 10})
        self.assertEqual((ev["ticketsHeld"], ev["salesStartAt"], ev["maxPerBuyer"], ev["admissionQueue"]),
                         (0, None, None, False))
        self.assertEqual(self.get_event(ev["id"]), ev)

        for capacity in (15, 8):  # up and down: the quota follows
            r = self.put_event(ev, capacity=capacity)
            self.assertEqual(r.status, 200, r)
            self.assertEqual([(x["id"], x["quota"], x["ticketsAvailable"]) for x in r.json["ticketTypes"]],
                             [(t["id"], capacity, capacity)])
            self.assertEqual(self.get_event(ev["id"])["ticketTypes"][0]["quota"], capacity)

        r = self.client.put(self.type_path(ev["id"], t["id"]), type_body(t, name="Standard", quota=8),
                            token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["id"], r.json["name"], r.json["quota"]), (t["id"], "Standard", 8))
        r = self.put_event(ev, capacity=20)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["capacity"], r.json["ticketTypes"][0]["quota"]), (20, 8))  # no longer follows
        r = self.put_event(ev, capacity=5)
        self.assertEqual(r.status, 200, r)
        [edited] = r.json["ticketTypes"]
        self.assertEqual((edited["quota"], edited["ticketsAvailable"]), (8, 5))  # min(quota, event)
        self.assertEqual(self.get_event(ev["id"]), r.json)

    def test_general_admission_follows_the_capacity_next_to_added_types_and_in_the_listing(self):
        ev = self.create(capacity=10, name=f"Follow {tag()}")
        ga = ev["ticketTypes"][0]
        self.assertEqual(self.listed(ev), ev)
        r = self.client.post(self.type_path(ev["id"]), {"name": "VIP", "priceCents": 100, "quota": 4},
                             token=self.admin)
        self.assertEqual(r.status, 201, r)
        vip = r.json
        r = self.put_event(ev, capacity=25)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(t["id"], t["quota"]) for t in r.json["ticketTypes"]], [(ga["id"], 25), (vip["id"], 4)])
        self.assertEqual(self.listed(ev), r.json)  # the admin write, in the next listing
        self.bought(ev["id"], 6, ga["id"])
        r = self.put_event(ev, capacity=5)  # below sold
        self.assertProblem(r, 409)
        now = self.get_event(ev["id"])
        self.assertEqual((now["capacity"], now["ticketTypes"][0]["quota"]), (25, 25))
        r = self.put_event(ev, capacity=6)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(t["quota"], t["ticketsAvailable"]) for t in r.json["ticketTypes"]], [(6, 0), (4, 0)])
        self.assertAvailability(r.json)

        # types given at creation never follow the capacity
        typed = self.create(capacity=10, ticketTypes=[{"name": "Only", "priceCents": 0, "quota": 10}])
        r = self.put_event(typed, capacity=30)
        self.assertEqual([(t["quota"], t["ticketsAvailable"]) for t in r.json["ticketTypes"]], [(10, 10)])

    def test_an_event_with_types_and_no_sales_is_deleted_with_them_one_with_sales_is_not(self):
        ev = self.create(capacity=10, ticketTypes=[{"name": "A", "priceCents": 0, "quota": 5},
                                                   {"name": "B", "priceCents": 0, "quota": 5}])
        self.assertEqual(self.client.delete(f"/api/events/{ev['id']}", token=self.admin).status, 204)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM ticket_types WHERE event_id = %s", ev["id"]), 0)
        self.assertProblem(self.client.get(self.type_path(ev["id"], ev["ticketTypes"][0]["id"])), 404)
        sold = self.create(capacity=10, ticketTypes=[{"name": "A", "priceCents": 0, "quota": 5},
                                                     {"name": "B", "priceCents": 0, "quota": 5}])
        self.bought(sold["id"], 1, sold["ticketTypes"][1]["id"])
        self.assertProblem(self.client.delete(f"/api/events/{sold['id']}", token=self.admin), 409)
        self.assertEqual(len(self.get_event(sold["id"])["ticketTypes"]), 2)

    def test_a_purchase_without_type_on_a_single_type_event_records_type_price_and_total(self):
        ev = self.create(capacity=10)
        [t] = ev["ticketTypes"]
        r = self.buy(ev["id"], 2)
        self.assertEqual(r.status, 201, r)
        p = r.json
        self.assertEqual(set(p), PURCHASE_KEYS)
        self.assertEqual({k: p[k] for k in PURCHASE_KEYS - {"id", "purchasedAt"}},
                         {"eventId": ev["id"], "participantId": self.me["id"], "ticketTypeId": t["id"],
                          "quantity": 2, "unitPriceCents": 0, "currency": "EUR", "totalCents": 0,
                          "cancelledQuantity": 0, "refundedCents": 0, "status": "CONFIRMED"})
        self.assertEqual(self.client.get(f"/api/purchases/{p['id']}", token=self.user).json, p)
        mine = self.client.get("/api/me/purchases?size=100", token=self.user).json["items"]
        self.assertIn(p, mine)

        # a priced single type: still no ticketTypeId needed, the price is recorded
        r = self.client.put(self.type_path(ev["id"], t["id"]),
                            type_body(t, priceCents=1250, currency="CHF"), token=self.admin)
        self.assertEqual(r.status, 200, r)
        q = self.bought(ev["id"], 3)
        self.assertEqual((q["ticketTypeId"], q["unitPriceCents"], q["currency"], q["totalCents"]),
                         (t["id"], 1250, "CHF", 3750))
        self.assertEqual(self.client.get(f"/api/purchases/{p['id']}", token=self.user).json, p)  # price kept
        now = self.get_event(ev["id"])
        self.assertEqual((now["ticketsSold"], now["ticketTypes"][0]["ticketsSold"]), (5, 5))
        self.assertAvailability(now)
        self.assertEqual(self.db.query("SELECT ticket_type_id, unit_price_cents, currency, total_cents FROM purchases "
                                       "WHERE event_id = %s ORDER BY id", ev["id"]),
                         [(t["id"], 0, "EUR", 0), (t["id"], 1250, "CHF", 3750)])


class TypedEventTest(TicketTypesCase):
    def test_types_given_at_creation_with_availability_per_type_in_event_and_listing(self):
        ev = self.create(capacity=10, name=f"Typed {tag()}", ticketTypes=[
            {"name": "VIP", "priceCents": 5000, "currency": "USD", "quota": 5},
            {"name": "Standard", "priceCents": 1500, "quota": 8}])
        vip, std = ev["ticketTypes"]
        self.assertLess(vip["id"], std["id"])  # ordered by id
        self.assertEqual({k: vip[k] for k in TYPE_KEYS - {"id"}},
                         {"eventId": ev["id"], "name": "VIP", "priceCents": 5000, "currency": "USD", "quota": 5,
                          "ticketsSold": 0, "ticketsHeld": 0, "ticketsAvailable": 5})
        self.assertEqual((std["currency"], std["quota"], std["ticketsAvailable"]), ("EUR", 8, 8))
        self.assertEqual(self.listed(ev), ev)

        p = self.bought(ev["id"], 4, vip["id"])
        self.assertEqual((p["ticketTypeId"], p["unitPriceCents"], p["currency"], p["totalCents"]),
                         (vip["id"], 5000, "USD", 20000))
        p = self.bought(ev["id"], 3, std["id"])
        self.assertEqual((p["ticketTypeId"], p["unitPriceCents"], p["currency"], p["totalCents"]),
                         (std["id"], 1500, "EUR", 4500))
        now = self.get_event(ev["id"])
        self.assertAvailability(now)
        types = {t["id"]: t for t in now["ticketTypes"]}
        self.assertEqual((now["ticketsSold"], now["ticketsAvailable"]), (7, 3))
        self.assertEqual((types[vip["id"]]["ticketsSold"], types[vip["id"]]["ticketsAvailable"]), (4, 1))
        self.assertEqual((types[std["id"]]["ticketsSold"], types[std["id"]]["ticketsAvailable"]), (3, 3))  # event binds
        self.assertEqual(self.client.get(self.type_path(ev["id"], vip["id"])).json, types[vip["id"]])
        # the listing may lag sales by listing.max-age, then shows the same figures
        self.assertTrue(wait_until(lambda: self.listed(ev) == now, timeout=5), (self.listed(ev), now))

        # the type's quota binds: VIP has 1 left; then the event's capacity binds Standard
        self.assertEqual(self.assertProblem(self.buy(ev["id"], 2, vip["id"]), 409, "sold-out")["ticketsAvailable"], 1)
        self.bought(ev["id"], 1, vip["id"])
        self.assertEqual(self.assertProblem(self.buy(ev["id"], 3, std["id"]), 409, "sold-out")["ticketsAvailable"], 2)
        self.bought(ev["id"], 2, std["id"])
        self.assertProblem(self.buy(ev["id"], 1, std["id"]), 409, "sold-out")
        now = self.get_event(ev["id"])
        self.assertAvailability(now)
        self.assertEqual([(t["ticketsSold"], t["ticketsAvailable"]) for t in now["ticketTypes"]], [(5, 0), (5, 0)])
        capacity, sold, purchased, db_types = db_figures(self.db, ev["id"])
        self.assertEqual((capacity, sold, purchased), (10, 10, 10))
        self.assertEqual(db_types, {vip["id"]: (5, 5, 5, 25000), std["id"]: (8, 5, 5, 7500)})

    def test_the_type_is_required_on_a_multi_type_event_and_must_be_one_of_its_own(self):
        ev = self.create(capacity=10, ticketTypes=[{"name": "A", "priceCents": 100, "quota": 5},
                                                   {"name": "B", "priceCents": 200, "quota": 5}])
        other = self.create(capacity=10)
        for body in [{"quantity": 1}, {"quantity": 1, "ticketTypeId": None},
                     {"quantity": 1, "ticketTypeId": other["ticketTypes"][0]["id"]},
                     {"quantity": 1, "ticketTypeId": UNKNOWN}, {"quantity": 1, "ticketTypeId": "A"},
                     {"quantity": 1, "ticketTypeId": ev["ticketTypes"][0]["id"] + 0.5}]:
            r = self.client.post(f"/api/events/{ev['id']}/purchases", body, token=self.user)
            self.assertEqual(list(self.field_errors(r)), ["ticketTypeId"], (body, r))
        # a deleted type is no type of this event either
        extra = self.client.post(self.type_path(ev["id"]), {"name": "Gone", "priceCents": 0, "quota": 1},
                                 token=self.admin).json
        self.assertEqual(self.client.delete(self.type_path(ev["id"], extra["id"]), token=self.admin).status, 204)
        self.assertEqual(list(self.field_errors(self.buy(ev["id"], 1, extra["id"]))), ["ticketTypeId"])
        # on a single-type event another event's type is refused too
        r = self.buy(other["id"], 1, ev["ticketTypes"][0]["id"])
        self.assertEqual(list(self.field_errors(r)), ["ticketTypeId"], r)
        r = self.buy(other["id"], 1, other["ticketTypes"][0]["id"])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 0)
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", ev["id"]), 0)
        self.assertEqual(self.db.scalar("SELECT sum(tickets_sold) FROM ticket_types WHERE event_id = %s", ev["id"]), 0)


class TicketTypeCrudTest(TicketTypesCase):
    def test_create_read_update_and_delete_a_type(self):
        ev = self.create(capacity=20, name=f"Crud {tag()}")
        path = self.type_path(ev["id"])
        r = self.client.post(path, {"name": "Early bird", "priceCents": 900, "quota": 5}, token=self.admin)
        self.assertEqual(r.status, 201, r)
        t = r.json
        self.assertEqual(r.header("location"), f"/api/events/{ev['id']}/ticket-types/{t['id']}")
        self.assertEqual(set(t), TYPE_KEYS)
        self.assertEqual({k: t[k] for k in TYPE_KEYS - {"id"}},
                         {"eventId": ev["id"], "name": "Early bird", "priceCents": 900, "currency": "EUR",
                          "quota": 5, "ticketsSold": 0, "ticketsHeld": 0, "ticketsAvailable": 5})
        got = Client(self.service.port).get(r.header("location"))  # anyone, no token
        self.assertEqual((got.status, got.json), (200, t))
        self.assertEqual([x["id"] for x in self.get_event(ev["id"])["ticketTypes"]],
                         [ev["ticketTypes"][0]["id"], t["id"]])

        r = self.client.put(self.type_path(ev["id"], t["id"]),
                            {"name": "Late bird", "priceCents": 1900, "currency": "GBP", "quota": 7}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual({k: r.json[k] for k in TYPE_KEYS - {"id"}},
                         {"eventId": ev["id"], "name": "Late bird", "priceCents": 1900, "currency": "GBP",
                          "quota": 7, "ticketsSold": 0, "ticketsHeld": 0, "ticketsAvailable": 7})
        self.assertEqual(self.client.get(self.type_path(ev["id"], t["id"])).json, r.json)

        self.assertEqual(self.client.delete(self.type_path(ev["id"], t["id"]), token=self.admin).status, 204)
        self.assertProblem(self.client.get(self.type_path(ev["id"], t["id"])), 404)
        self.assertEqual([x["id"] for x in self.get_event(ev["id"])["ticketTypes"]], [ev["ticketTypes"][0]["id"]])
        self.assertEqual(self.db.scalar("SELECT count(*) FROM ticket_types WHERE id = %s", t["id"]), 0)

    def test_a_twenty_first_type_is_409(self):
        ev = self.create(capacity=100)
        for i in range(19):
            r = self.client.post(self.type_path(ev["id"]), {"name": f"T{i}", "priceCents": i, "quota": 1},
                                 token=self.admin)
            self.assertEqual(r.status, 201, r)
        self.assertEqual(len(self.get_event(ev["id"])["ticketTypes"]), 20)
        self.assertProblem(self.client.post(self.type_path(ev["id"]), {"name": "T20", "priceCents": 0, "quota": 1},
                                            token=self.admin), 409)
        self.assertEqual(len(self.get_event(ev["id"])["ticketTypes"]), 20)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM ticket_types WHERE event_id = %s", ev["id"]), 20)

    def test_quota_below_sold_is_409_and_changes_nothing(self):
        ev = self.create(capacity=20, ticketTypes=[{"name": "A", "priceCents": 100, "quota": 10},
                                                   {"name": "B", "priceCents": 100, "quota": 10}])
        a = ev["ticketTypes"][0]
        self.bought(ev["id"], 4, a["id"])
        before = self.get_event(ev["id"])
        r = self.client.put(self.type_path(ev["id"], a["id"]), type_body(a, name="Renamed", priceCents=1, quota=3),
                            token=self.admin)
        self.assertProblem(r, 409)
        self.assertEqual(self.get_event(ev["id"]), before)
        self.assertEqual(self.db.query("SELECT name, price_cents, quota FROM ticket_types WHERE id = %s", a["id"]),
                         [("A", 100, 10)])
        r = self.client.put(self.type_path(ev["id"], a["id"]), type_body(a, quota=4), token=self.admin)  # = sold
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["quota"], r.json["ticketsSold"], r.json["ticketsAvailable"]), (4, 4, 0))
        self.assertProblem(self.buy(ev["id"], 1, a["id"]), 409, "sold-out")

    def test_delete_refuses_a_type_with_sales_and_the_last_type(self):
        ev = self.create(capacity=20, ticketTypes=[{"name": "Sold", "priceCents": 100, "quota": 10},
                                                   {"name": "Unsold", "priceCents": 100, "quota": 10}])
        sold, unsold = ev["ticketTypes"]
        self.bought(ev["id"], 1, sold["id"])
        self.assertProblem(self.client.delete(self.type_path(ev["id"], sold["id"]), token=self.admin), 409)
        self.assertEqual(self.client.delete(self.type_path(ev["id"], unsold["id"]), token=self.admin).status, 204)
        self.assertProblem(self.client.delete(self.type_path(ev["id"], sold["id"]), token=self.admin), 409)
        self.assertEqual([t["id"] for t in self.get_event(ev["id"])["ticketTypes"]], [sold["id"]])

        lone = self.create(capacity=5)  # the last type, unsold
        self.assertProblem(self.client.delete(self.type_path(lone["id"], lone["ticketTypes"][0]["id"]),
                                              token=self.admin), 409)
        self.assertEqual(self.get_event(lone["id"])["ticketTypes"], lone["ticketTypes"])

    def test_a_quota_above_the_capacity_is_allowed_and_capped_by_the_event(self):
        ev = self.create(capacity=10)
        r = self.client.post(self.type_path(ev["id"]), {"name": "Big", "priceCents": 0, "quota": 1000000},
                             token=self.admin)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["quota"], r.json["ticketsAvailable"]), (1000000, 10))

    def test_the_collection_answers_405_to_other_methods(self):
        ev = self.create(capacity=5)
        for method in ("GET", "PUT", "DELETE"):
            r = self.client.request(method, self.type_path(ev["id"]))
            self.assertProblem(r, 405)
            self.assertEqual(r.header("allow"), "POST", method)
        r = self.client.request("POST", self.type_path(ev["id"], ev["ticketTypes"][0]["id"]))
        self.assertProblem(r, 405)
        self.assertEqual(set(r.header("allow").split(", ")), {"GET", "PUT", "DELETE"})

    def test_unknown_ids_are_404_bad_ids_400_and_only_admin_writes(self):
        ev = self.create(capacity=5)
        other = self.create(capacity=5)
        t = ev["ticketTypes"][0]
        foreign = other["ticketTypes"][0]["id"]
        body = {"name": "X", "priceCents": 0, "quota": 1}
        for path in [self.type_path(UNKNOWN, t["id"]), self.type_path(ev["id"], UNKNOWN),
                     self.type_path(ev["id"], foreign)]:
            self.assertProblem(self.client.get(path), 404)
            self.assertProblem(self.client.put(path, body, token=self.admin), 404)
            self.assertProblem(self.client.delete(path, token=self.admin), 404)
        self.assertProblem(self.client.post(self.type_path(UNKNOWN), body, token=self.admin), 404)
        for path in [self.type_path("abc", t["id"]), self.type_path(ev["id"], "abc"), self.type_path(ev["id"], 0),
                     self.type_path(ev["id"], -1)]:
            self.assertProblem(self.client.get(path), 400)
            self.assertProblem(self.client.delete(path, token=self.admin), 400)
        self.assertProblem(self.client.post(self.type_path(ev["id"]), body), 401)
        self.assertProblem(self.client.post(self.type_path(ev["id"]), body, token=self.user), 403)
        self.assertProblem(self.client.put(self.type_path(ev["id"], t["id"]), body, token=self.user), 403)
        self.assertProblem(self.client.delete(self.type_path(ev["id"], t["id"]), token=self.user), 403)
        self.assertProblem(self.client.delete(self.type_path(ev["id"], t["id"])), 401)
        self.assertEqual(self.get_event(ev["id"]), ev)
        self.assertEqual(self.get_event(other["id"]), other)

    def test_type_changes_are_visible_in_the_next_listing(self):
        ev = self.create(capacity=30, name=f"Listed {tag()}")
        self.assertEqual(self.listed(ev), ev)
        self.assertEqual(self.listed(ev), ev)  # cached now
        r = self.client.post(self.type_path(ev["id"]), {"name": "Balcony", "priceCents": 4200, "quota": 12},
                             token=self.admin)
        self.assertEqual(r.status, 201, r)
        added = r.json
        listed = self.listed(ev)
        self.assertEqual(listed["ticketTypes"], ev["ticketTypes"] + [added])
        self.assertEqual(listed, self.get_event(ev["id"]))

        r = self.client.put(self.type_path(ev["id"], added["id"]), type_body(added, name="Gallery", quota=3),
                            token=self.admin)
        self.assertEqual(r.status, 200, r)
        listed = self.listed(ev)
        self.assertEqual(listed["ticketTypes"][1], r.json)
        self.assertEqual((listed["ticketTypes"][1]["name"], listed["ticketTypes"][1]["ticketsAvailable"]),
                         ("Gallery", 3))
        self.assertEqual(listed, self.get_event(ev["id"]))

        self.assertEqual(self.client.delete(self.type_path(ev["id"], added["id"]), token=self.admin).status, 204)
        listed = self.listed(ev)
        self.assertEqual(listed["ticketTypes"], ev["ticketTypes"])
        self.assertEqual(listed, self.get_event(ev["id"]))

        r = self.put_event(ev, ticketTypes=[{"name": "Pit", "priceCents": 1, "quota": 2}] +
                           [type_body(ev["ticketTypes"][0], id=ev["ticketTypes"][0]["id"])])
        self.assertEqual(r.status, 200, r)
        listed = self.listed(ev)
        self.assertEqual(sorted(t["name"] for t in listed["ticketTypes"]), ["General admission", "Pit"])
        self.assertEqual(listed, r.json)


class EventPutWithTypesTest(TicketTypesCase):
    def three_types(self, **extra):
        return self.create(capacity=30, ticketTypes=[{"name": "A", "priceCents": 100, "quota": 10},
                                                     {"name": "B", "priceCents": 200, "quota": 10},
                                                     {"name": "C", "priceCents": 300, "quota": 10}], **extra)

    def test_entries_with_id_update_without_id_are_new_and_left_out_are_deleted(self):
        ev = self.three_types()
        a, b, c = ev["ticketTypes"]
        self.bought(ev["id"], 2, a["id"])
        r = self.put_event(ev, name=ev["name"] + " v2", ticketTypes=[
            {"id": a["id"], "name": "A2", "priceCents": 150, "currency": "USD", "quota": 12},
            {"name": "D", "priceCents": 400, "quota": 6}])
        self.assertEqual(r.status, 200, r)
        up = r.json
        self.assertEqual(up["name"], ev["name"] + " v2")
        [a2, d] = up["ticketTypes"]
        self.assertEqual({k: a2[k] for k in TYPE_KEYS},
                         {"id": a["id"], "eventId": ev["id"], "name": "A2", "priceCents": 150, "currency": "USD",
                          "quota": 12, "ticketsSold": 2, "ticketsHeld": 0, "ticketsAvailable": 10})
        self.assertNotIn(d["id"], (a["id"], b["id"], c["id"]))
        self.assertEqual((d["name"], d["priceCents"], d["currency"], d["quota"], d["ticketsSold"]),
                         ("D", 400, "EUR", 6, 0))
        for gone in (b, c):
            self.assertProblem(self.client.get(self.type_path(ev["id"], gone["id"])), 404)
        self.assertEqual(self.get_event(ev["id"]), up)
        self.assertAvailability(up)
        # the earlier purchase keeps its price
        self.assertEqual(self.db.query("SELECT unit_price_cents, total_cents FROM purchases WHERE event_id = %s",
                                       ev["id"]), [(100, 200)])

        # omitted ticketTypes: unchanged
        r = self.put_event(up, capacity=25)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(t["id"], t["name"], t["quota"]) for t in r.json["ticketTypes"]],
                         [(a["id"], "A2", 12), (d["id"], "D", 6)])

    def test_leaving_out_a_type_with_sales_is_409_and_changes_nothing(self):
        ev = self.three_types(maxPerBuyer=5)
        a, b, c = ev["ticketTypes"]
        self.bought(ev["id"], 1, b["id"])
        before = self.get_event(ev["id"])
        rows = self.db.query("SELECT id, name, price_cents, quota FROM ticket_types WHERE event_id = %s ORDER BY id",
                             ev["id"])
        r = self.put_event(ev, name="Changed", capacity=40, maxPerBuyer=9, ticketTypes=[
            {"id": a["id"], "name": "A changed", "priceCents": 1, "quota": 1},
            {"name": "New", "priceCents": 1, "quota": 1}])  # B (sold) and C left out
        self.assertProblem(r, 409)
        self.assertEqual(self.get_event(ev["id"]), before)
        self.assertEqual(self.db.query("SELECT id, name, price_cents, quota FROM ticket_types WHERE event_id = %s "
                                       "ORDER BY id", ev["id"]), rows)
        self.assertEqual(self.db.query("SELECT name, capacity, max_per_buyer FROM events WHERE id = %s", ev["id"]),
                         [(ev["name"], 30, 5)])

        # quota 0 is invalid (400, whatever else); a kept entry with a quota below its sold: 409,
        # nothing of the PUT changed
        r = self.put_event(ev, name="Changed", ticketTypes=[type_body(a, id=a["id"], name="A changed"),
                                                            type_body(b, id=b["id"], quota=0)])
        self.assertEqual(list(self.field_errors(r)), ["ticketTypes[1].quota"])
        self.bought(ev["id"], 1, b["id"])
        r = self.put_event(ev, name="Changed", ticketTypes=[type_body(a, id=a["id"], name="A changed"),
                                                            type_body(b, id=b["id"], quota=1),
                                                            type_body(c, id=c["id"])])
        self.assertProblem(r, 409)
        after = self.get_event(ev["id"])
        self.assertEqual((after["name"], [t["name"] for t in after["ticketTypes"]]), (ev["name"], ["A", "B", "C"]))
        self.assertEqual([t["quota"] for t in after["ticketTypes"]], [10, 10, 10])

    def test_an_id_of_another_events_type_is_400_naming_the_entry_and_changes_nothing(self):
        ev = self.three_types()
        other = self.create(capacity=5)
        a, b, c = ev["ticketTypes"]
        for foreign in (other["ticketTypes"][0]["id"], UNKNOWN):
            r = self.put_event(ev, name="Changed", ticketTypes=[
                type_body(a, id=a["id"]), type_body(b, id=foreign, name="Stolen"), type_body(c, id=c["id"])])
            self.assertEqual(list(self.field_errors(r)), ["ticketTypes[1].id"], (foreign, r))
        self.assertEqual(self.get_event(ev["id"]), ev)
        self.assertEqual(self.get_event(other["id"]), other)
        # the same id twice is not two updates of one type
        r = self.put_event(ev, ticketTypes=[type_body(a, id=a["id"]), type_body(a, id=a["id"], name="Twice")])
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.get_event(ev["id"]), ev)

    def test_moving_starts_at_before_the_kept_sales_start_is_400_and_changes_nothing(self):
        ev = self.create(capacity=10, salesStartAt=iso_in(days=5))
        r = self.put_event(ev, startsAt=iso_in(days=3))  # salesStartAt omitted: kept, now after startsAt
        self.assertIn(list(self.field_errors(r)), (["salesStartAt"], ["startsAt"]), r)
        self.assertEqual(self.get_event(ev["id"]), ev)
        r = self.put_event(ev, startsAt=iso_in(days=3), salesStartAt=iso_in(days=2))
        self.assertEqual(r.status, 200, r)

    def test_omitted_sales_start_max_per_buyer_and_admission_queue_keep_their_values_null_clears(self):
        sales = iso_in(days=1)
        ev = self.create(capacity=10, salesStartAt=sales, maxPerBuyer=4, admissionQueue=True)
        self.assertEqual((ev["salesStartAt"], ev["maxPerBuyer"], ev["admissionQueue"]), (sales, 4, True))
        r = self.put_event(ev, name=ev["name"] + " kept")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["salesStartAt"], r.json["maxPerBuyer"], r.json["admissionQueue"]), (sales, 4, True))
        later = iso_in(days=2)
        r = self.put_event(ev, maxPerBuyer=7, salesStartAt=later)
        self.assertEqual((r.json["salesStartAt"], r.json["maxPerBuyer"], r.json["admissionQueue"]), (later, 7, True))
        r = self.put_event(ev, salesStartAt=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["salesStartAt"], r.json["maxPerBuyer"], r.json["admissionQueue"]), (None, 7, True))
        r = self.put_event(ev, maxPerBuyer=None, admissionQueue=False)
        self.assertEqual((r.json["salesStartAt"], r.json["maxPerBuyer"], r.json["admissionQueue"]), (None, None, False))
        self.assertEqual(self.get_event(ev["id"]), r.json)
        self.assertEqual(self.db.query("SELECT sales_start_at, max_per_buyer, admission_queue FROM events "
                                       "WHERE id = %s", ev["id"]), [(None, None, False)])


class ValidationTest(TicketTypesCase):
    def body(self, **changes):
        b = {"name": f"Invalid {self.tag}", "venue": "Hall", "startsAt": iso_in(days=10), "capacity": 10}
        b.update(changes)
        return b

    def setUp(self):
        self.tag = tag()
        self.counts = self.db.query("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM ticket_types), "
                                    "(SELECT count(*) FROM purchases)")

    def tearDown(self):
        self.assertEqual(self.db.query("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM ticket_types), "
                                       "(SELECT count(*) FROM purchases)"), self.counts)

    def post(self, body):
        return self.client.post("/api/events", body, token=self.admin)

    def test_each_bad_type_entry_field_is_named_once(self):
        r = self.post(self.body(ticketTypes=[
            {"name": "   ", "priceCents": 100, "quota": 5},
            {"name": "B", "priceCents": -1, "quota": 5},
            {"name": "C", "priceCents": 0, "currency": "eur", "quota": 5},
            {"name": "D", "priceCents": 0, "quota": 0},
            {"name": "E", "priceCents": 0, "quota": 5}]))
        body = self.assertProblem(r, 400)
        self.assertEqual(sorted(e["field"] for e in body["errors"]),
                         ["ticketTypes[0].name", "ticketTypes[1].priceCents", "ticketTypes[2].currency",
                          "ticketTypes[3].quota"])
        cases = [({"name": ""}, "name"), ({"name": None}, "name"), ({"name": "n" * 101}, "name"), ({"name": 5}, "name"),
                 ({"priceCents": 100000001}, "priceCents"), ({"priceCents": 1.5}, "priceCents"),
                 ({"priceCents": "10"}, "priceCents"), ({"priceCents": None}, "priceCents"),
                 ({"currency": "EU"}, "currency"), ({"currency": "EURO"}, "currency"),
                 ({"currency": "E1R"}, "currency"),
                 ({"currency": 978}, "currency"),
                 ({"quota": 1000001}, "quota"), ({"quota": -3}, "quota"), ({"quota": "5"}, "quota"),
                 ({"quota": None}, "quota")]
        for change, field in cases:
            entry = dict({"name": "Ok", "priceCents": 0, "quota": 5}, **change)
            r = self.post(self.body(ticketTypes=[{"name": "First", "priceCents": 0, "quota": 1}, entry]))
            self.assertEqual(list(self.field_errors(r)), [f"ticketTypes[1].{field}"], (change, r))
        for missing in ("name", "priceCents", "quota"):
            entry = {"name": "Ok", "priceCents": 0, "quota": 5}
            del entry[missing]
            self.assertEqual(list(self.field_errors(self.post(self.body(ticketTypes=[entry])))),
                             [f"ticketTypes[0].{missing}"], missing)
        # bounds are inclusive
        r = self.post(self.body(ticketTypes=[{"name": "n" * 100, "priceCents": 100000000, "quota": 1000000},
                                             {"name": "x", "priceCents": 0, "currency": "JPY", "quota": 1}]))
        self.assertEqual(r.status, 201, r)
        self.counts = [(self.counts[0][0] + 1, self.counts[0][1] + 2, self.counts[0][2])]

    def test_the_type_list_the_sales_start_the_limit_and_the_queue_flag(self):
        entry = {"name": "T", "priceCents": 0, "quota": 1}
        cases = [({"ticketTypes": []}, "ticketTypes"), ({"ticketTypes": [entry] * 21}, "ticketTypes"),
                 ({"ticketTypes": "all"}, "ticketTypes"), ({"ticketTypes": {"name": "T"}}, "ticketTypes"),
                 ({"salesStartAt": iso_in(days=11)}, "salesStartAt"),
                 ({"salesStartAt": "tomorrow"}, "salesStartAt"), ({"salesStartAt": 1893456000}, "salesStartAt"),
                 ({"maxPerBuyer": 0}, "maxPerBuyer"), ({"maxPerBuyer": 1001}, "maxPerBuyer"),
                 ({"maxPerBuyer": -1}, "maxPerBuyer"), ({"maxPerBuyer": "3"}, "maxPerBuyer"),
                 ({"maxPerBuyer": 2.5}, "maxPerBuyer"),
                 ({"admissionQueue": "yes"}, "admissionQueue"), ({"admissionQueue": 1}, "admissionQueue")]
        for change, field in cases:
            self.assertEqual(list(self.field_errors(self.post(self.body(**change)))), [field], change)
        starts = iso_in(days=10)
        self.assertEqual(list(self.field_errors(self.post(self.body(startsAt=starts, salesStartAt=starts)))),
                         ["salesStartAt"])  # must be before, not at
        r = self.post(self.body(ticketTypes=[], salesStartAt=iso_in(days=20), maxPerBuyer=0, admissionQueue="yes",
                                capacity=0))
        self.assertEqual(set(self.field_errors(r)),
                         {"ticketTypes", "salesStartAt", "maxPerBuyer", "admissionQueue", "capacity"})
        for ok in ({"maxPerBuyer": 1}, {"maxPerBuyer": 1000}, {"ticketTypes": [entry] * 20}):
            r = self.post(self.body(**ok))
            self.assertEqual(r.status, 201, (ok, r))
        self.counts = [(self.counts[0][0] + 3, self.counts[0][1] + 22, self.counts[0][2])]

    def test_put_and_the_ticket_type_routes_validate_alike_and_change_nothing(self):
        ev = self.create(capacity=10, maxPerBuyer=2)
        self.counts = [(self.counts[0][0] + 1, self.counts[0][1] + 1, self.counts[0][2])]
        t = ev["ticketTypes"][0]
        for change, fields in [({"ticketTypes": []}, ["ticketTypes"]),
                               ({"ticketTypes": [{"name": "", "priceCents": -5, "quota": 1}]},
                                ["ticketTypes[0].name", "ticketTypes[0].priceCents"]),
                               ({"ticketTypes": [{"id": t["id"], "name": "x", "priceCents": 0, "currency": "eur",
                                                  "quota": 1}]}, ["ticketTypes[0].currency"]),
                               ({"ticketTypes": [{"id": "one", "name": "x", "priceCents": 0, "quota": 1}]},
                                ["ticketTypes[0].id"]),
                               ({"salesStartAt": iso_in(days=60)}, ["salesStartAt"]),
                               ({"maxPerBuyer": 1001}, ["maxPerBuyer"]),
                               ({"admissionQueue": "yes"}, ["admissionQueue"])]:
            r = self.put_event(ev, name="Changed", **change)
            self.assertEqual(sorted(self.field_errors(r)), fields, (change, r))
        self.assertEqual(self.get_event(ev["id"]), ev)

        for path, method in [(self.type_path(ev["id"]), "POST"), (self.type_path(ev["id"], t["id"]), "PUT")]:
            r = self.client.request(method, path, body={"name": " ", "priceCents": -1, "currency": "usd", "quota": 0},
                                    token=self.admin)
            self.assertEqual(sorted(self.field_errors(r)), ["currency", "name", "priceCents", "quota"], (method, r))
            r = self.client.request(method, path, body={"name": "ok", "priceCents": 1, "quota": 1000001},
                                    token=self.admin)
            self.assertEqual(list(self.field_errors(r)), ["quota"], (method, r))
            self.assertProblem(self.client.request(method, path, raw_body=b"{", token=self.admin), 400)
            self.assertProblem(self.client.request(method, path, raw_body=b"name=x", token=self.admin,
                                                   content_type="text/plain"), 415)
        self.assertEqual(self.get_event(ev["id"]), ev)


class SalesStartTest(TicketTypesCase):
    def test_before_sales_start_purchases_are_409_and_clearing_it_opens_sales(self):
        ev = self.create(capacity=10, salesStartAt=iso_in(days=1))
        self.assertProblem(self.buy(ev["id"], 1), 409, "sales-not-open")
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 0)
        self.assertEqual(self.get_event(ev["id"])["ticketsSold"], 0)
        r = self.put_event(ev, salesStartAt=None)
        self.assertEqual((r.status, r.json["salesStartAt"]), (200, None), r)
        self.assertEqual(self.bought(ev["id"], 2)["quantity"], 2)
        # set again (later than now): closed again
        r = self.put_event(ev, salesStartAt=iso_in(days=2))
        self.assertEqual(r.status, 200, r)
        self.assertProblem(self.buy(ev["id"], 1), 409, "sales-not-open")
        self.assertEqual(self.get_event(ev["id"])["ticketsSold"], 2)

    def test_sales_open_by_themselves_at_sales_start(self):
        ev = self.create(capacity=10, salesStartAt=iso_in(seconds=3))
        self.assertProblem(self.buy(ev["id"], 1), 409, "sales-not-open")
        results = []

        def opened():
            r = self.buy(ev["id"], 1)
            results.append(r)
            self.assertIn(r.status, (201, 409), r)
            return r.status == 201
        self.assertTrue(wait_until(opened, timeout=10, interval=0.2), results[-1:])
        for r in results[:-1]:
            self.assertProblem(r, 409, "sales-not-open")
        self.assertEqual(self.get_event(ev["id"])["ticketsSold"], 1)


class PurchaseRulesTest(TicketTypesCase):
    def test_409s_come_in_the_documented_order(self):
        # sales-not-open before buyer-limit before sold-out
        ev = self.create(capacity=2, maxPerBuyer=3, salesStartAt=iso_in(days=1))
        self.assertProblem(self.buy(ev["id"], 5), 409, "sales-not-open")
        self.assertEqual(self.put_event(ev, salesStartAt=None).status, 200)
        body = self.assertProblem(self.buy(ev["id"], 5), 409, "buyer-limit")  # also more than capacity
        self.assertEqual(body["ticketsAllowed"], 3)
        self.bought(ev["id"], 2)
        other, _ = self.api.user_token()
        body = self.assertProblem(self.buy(ev["id"], 2), 409, "buyer-limit")  # sold out, and over the limit
        self.assertEqual(body["ticketsAllowed"], 1)
        self.assertEqual(self.assertProblem(self.buy(ev["id"], 1), 409, "sold-out")["ticketsAvailable"], 0)
        self.assertProblem(self.buy(ev["id"], 1, token=other), 409, "sold-out")

    def test_a_lowered_limit_allows_nothing_more_and_never_a_negative_count(self):
        ev = self.create(capacity=10, maxPerBuyer=5)
        self.bought(ev["id"], 3)
        r = self.put_event(ev, maxPerBuyer=2)
        self.assertEqual((r.status, r.json["maxPerBuyer"]), (200, 2), r)
        self.assertEqual(self.assertProblem(self.buy(ev["id"], 1), 409, "buyer-limit")["ticketsAllowed"], 0)
        r = self.put_event(ev, maxPerBuyer=None)
        self.assertEqual(self.bought(ev["id"], 7)["quantity"], 7)

    def test_an_idempotent_replay_answers_even_at_the_buyer_limit(self):
        ev = self.create(capacity=10, maxPerBuyer=2)
        key = {"Idempotency-Key": "limit-" + tag()}
        path = f"/api/events/{ev['id']}/purchases"
        first = self.client.post(path, {"quantity": 2}, token=self.user, headers=key)
        self.assertEqual(first.status, 201, first)
        again = self.client.post(path, {"quantity": 2}, token=self.user, headers=key)
        self.assertEqual((again.status, again.header("idempotent-replayed"), again.json), (200, "true", first.json))
        self.assertProblem(self.buy(ev["id"], 1), 409, "buyer-limit")
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", ev["id"]), 2)

    def test_an_idempotent_replay_keeps_its_type_and_price_and_another_type_is_422(self):
        ev = self.create(capacity=20, ticketTypes=[{"name": "A", "priceCents": 700, "quota": 10},
                                                   {"name": "B", "priceCents": 900, "quota": 10}])
        a, b = ev["ticketTypes"]
        key = {"Idempotency-Key": "order-" + tag()}
        path = f"/api/events/{ev['id']}/purchases"
        first = self.client.post(path, {"quantity": 2, "ticketTypeId": a["id"]}, token=self.user, headers=key)
        self.assertEqual(first.status, 201, first)
        self.assertEqual(self.client.put(self.type_path(ev["id"], a["id"]), type_body(a, priceCents=1),
                                         token=self.admin).status, 200)
        again = self.client.post(path, {"quantity": 2, "ticketTypeId": a["id"]}, token=self.user, headers=key)
        self.assertEqual((again.status, again.json), (200, first.json), again)
        self.assertEqual((again.json["unitPriceCents"], again.json["totalCents"]), (700, 1400))
        self.assertProblem(self.client.post(path, {"quantity": 2, "ticketTypeId": b["id"]}, token=self.user,
                                            headers=key), 422)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), 1)
        self.assertEqual([t["ticketsSold"] for t in self.get_event(ev["id"])["ticketTypes"]], [2, 0])


class StaffTest(TicketTypesCase):
    def test_staff_signs_in_and_is_403_everywhere_else(self):
        staff, account = self.api.staff_token()
        self.assertEqual(account["role"], "STAFF")
        self.assertNotIn("password", str(account).lower())
        r = self.client.post("/api/auth/login", {"email": account["email"], "password": "password-123"})
        self.assertEqual((r.status, r.json["role"]), (200, "STAFF"), r)
        me = self.client.get("/api/me", token=staff)
        self.assertEqual((me.status, me.json["id"], me.json["role"]), (200, account["id"], "STAFF"), me)
        self.assertEqual(self.client.get(f"/api/participants/{account['id']}", token=self.admin).json["role"], "STAFF")

        ev = self.create(capacity=10)
        t = ev["ticketTypes"][0]
        p = self.bought(ev["id"], 1)
        forbidden = [
            ("POST", f"/api/events/{ev['id']}/purchases", {"quantity": 1}),
            ("POST", f"/api/events/{ev['id']}/purchases", {"quantity": "bad"}),  # 403 before the body
            ("GET", "/api/me/purchases", None),
            ("GET", f"/api/purchases/{p['id']}", None),
            ("GET", f"/api/purchases/{UNKNOWN}", None),
            ("POST", "/api/events", {"name": "x", "venue": "y", "startsAt": iso_in(days=3), "capacity": 1}),
            ("PUT", f"/api/events/{ev['id']}", event_body(ev, name="Staff was here")),
            ("DELETE", f"/api/events/{ev['id']}", None),
            ("GET", f"/api/events/{ev['id']}/participants", None),
            ("GET", "/api/participants", None),
            ("GET", f"/api/participants/{account['id']}", None),
            ("POST", "/api/participants", {"email": f"x-{tag()}@example.com", "password": "password-123",
                                           "fullName": "X", "role": "ADMIN"}),
            ("POST", self.type_path(ev["id"]), {"name": "Staff", "priceCents": 0, "quota": 1}),
            ("PUT", self.type_path(ev["id"], t["id"]), type_body(t, name="Staff")),
            ("DELETE", self.type_path(ev["id"], t["id"]), None),
        ]
        for method, path, body in forbidden:
            self.assertProblem(self.client.request(method, path, body=body, token=staff), 403)
        # public reads stay public for STAFF too
        self.assertEqual(self.client.get(f"/api/events/{ev['id']}", token=staff).status, 200)
        self.assertEqual(self.client.get("/api/events", token=staff).status, 200)
        self.assertEqual(self.get_event(ev["id"])["ticketTypes"], [dict(t, ticketsSold=1, ticketsAvailable=9)])
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE participant_id = %s", account["id"]), 0)

    def test_self_registration_never_creates_staff_and_only_an_admin_can(self):
        for role in ("STAFF", "ADMIN"):
            email = f"self-{tag()}@example.com"
            r = self.client.post("/api/auth/register", {"email": email, "password": "password-123",
                                                        "fullName": "Self", "role": role})
            self.assertEqual((r.status, r.json["role"]), (201, "USER"), r)
            login = self.client.post("/api/auth/login", {"email": email, "password": "password-123"})
            self.assertEqual(login.json["role"], "USER")
            self.assertEqual(self.db.scalar("SELECT role FROM participants WHERE email = %s", email), "USER")
        email = f"staff-{tag()}@example.com"
        body = {"email": email, "password": "password-123", "fullName": "Door", "role": "STAFF"}
        self.assertProblem(self.client.post("/api/participants", body, token=self.user), 403)
        self.assertProblem(self.client.post("/api/participants", body), 401)
        self.assertEqual(list(self.field_errors(self.client.post("/api/participants", dict(body, role="DOORMAN"),
                                                                 token=self.admin))), ["role"])
        self.assertEqual(self.db.scalar("SELECT count(*) FROM participants WHERE email = %s", email), 0)


class BuyerLimitMixin:
    """maxPerBuyer under 50 concurrent requests of one participant, and across their orders."""

    def ports(self):
        return [self.service.port]

    def allowed(self, r):
        return self.assertProblem(r, 409, "buyer-limit")["ticketsAllowed"]

    def test_fifty_concurrent_purchases_of_one_buyer_get_exactly_the_limit(self):
        token, me = self.api.user_token()
        ev = self.api.create_event(capacity=100, maxPerBuyer=3)
        ports = self.ports()
        results = concurrently(50, lambda i: purchase(ports[i % len(ports)], token, ev["id"], 1))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(sorted(r.status for r in results), [201] * 3 + [409] * 47,
                         [r for r in results if r.status not in (201, 409)][:3])
        for r in results:
            if r.status == 409:
                body = self.assertProblem(r, 409, "buyer-limit")
                self.assertEqual(body["ticketsAllowed"], 0, r)
        self.assertEqual(self.db.scalar("SELECT coalesce(sum(quantity), 0) FROM purchases "
                                        "WHERE event_id = %s AND participant_id = %s", ev["id"], me["id"]), 3)
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", ev["id"]), 3)
        self.assertProblem(purchase(ports[0], token, ev["id"], 1), 409, "buyer-limit")
        # others are not limited by this buyer, nor is this buyer on another event
        other, _ = self.api.user_token()
        self.assertEqual(purchase(ports[-1], other, ev["id"], 3).status, 201)
        second = self.api.create_event(capacity=100, maxPerBuyer=3)
        self.assertEqual(purchase(ports[-1], token, second["id"], 3).status, 201)

    def test_mixed_quantities_concurrently_never_pass_the_limit(self):
        token, me = self.api.user_token()
        ev = self.api.create_event(capacity=100, maxPerBuyer=5)
        ports = self.ports()
        quantities = [1 + i % 3 for i in range(30)]
        results = concurrently(30, lambda i: purchase(ports[i % len(ports)], token, ev["id"], quantities[i]))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        got = 0
        for r, q in zip(results, quantities):
            if r.status == 201:
                got += r.json["quantity"]
            else:
                body = self.assertProblem(r, 409, "buyer-limit")
                self.assertLess(body["ticketsAllowed"], q, r)
                self.assertGreaterEqual(body["ticketsAllowed"], 0, r)
        # 10 requests of 1 cannot all succeed; one refused means nothing was left: exactly 5
        self.assertEqual(got, 5)
        self.assertEqual(self.db.scalar("SELECT coalesce(sum(quantity), 0) FROM purchases "
                                        "WHERE event_id = %s AND participant_id = %s", ev["id"], me["id"]), got)

    def test_the_limit_counts_all_orders_of_the_buyer_across_types(self):
        token, _ = self.api.user_token()
        port = self.ports()[-1]
        ev = self.api.create_event(capacity=100, maxPerBuyer=3)
        self.assertEqual(purchase(port, token, ev["id"], 2).status, 201)
        self.assertEqual(self.allowed(purchase(port, token, ev["id"], 2)), 1)
        self.assertEqual(purchase(port, token, ev["id"], 1).status, 201)
        self.assertEqual(self.allowed(purchase(port, token, ev["id"], 1)), 0)

        typed = self.api.create_event(capacity=100, maxPerBuyer=3, ticketTypes=[
            {"name": "A", "priceCents": 1, "quota": 50}, {"name": "B", "priceCents": 2, "quota": 50}])
        a, b = (t["id"] for t in typed["ticketTypes"])
        self.assertEqual(purchase(port, token, typed["id"], 2, a).status, 201)
        self.assertEqual(self.assertProblem(purchase(port, token, typed["id"], 2, b), 409,
                                            "buyer-limit")["ticketsAllowed"], 1)
        self.assertEqual(purchase(port, token, typed["id"], 1, b).status, 201)
        self.assertProblem(purchase(port, token, typed["id"], 1, a), 409, "buyer-limit")
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s", typed["id"]), 3)


class OverlapRaceMixin:
    """Hundreds of buyers, each on its own connection, many users, on types whose quotas sum above
    the capacity: no type above its quota, the event exactly at its capacity, the answers, the API
    and PostgreSQL agree."""

    rounds = 3
    shapes = [(60, (40, 40)), (50, (45, 30)), (37, (20, 25))]

    def overlap_race(self, api, db, ports, rounds):
        tokens = concurrently(30, lambda i: Api(Client(ports[i % len(ports)])).user_token()[0])
        self.assertFalse([t for t in tokens if isinstance(t, Exception)], tokens)
        for capacity, quotas in self.shapes[:rounds]:
            ev = api.create_event(capacity=capacity, ticketTypes=[
                {"name": f"T{i}", "priceCents": 100 * (i + 1), "quota": q} for i, q in enumerate(quotas)])
            types = [t["id"] for t in ev["ticketTypes"]]
            price = {t["id"]: t["priceCents"] for t in ev["ticketTypes"]}
            # per type, more requests of 1 than its quota, so each type ends with nothing left
            plan = [(tid, q) for tid, quota in zip(types, quotas) for q in [1] * (quota + 15) + [2] * 60]
            random.shuffle(plan)
            results = concurrently(len(plan), lambda i: purchase(ports[i % len(ports)], tokens[i % len(tokens)],
                                                                 ev["id"], plan[i][1], plan[i][0]))
            self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
            self.assertEqual({r.status for r in results} - {201, 409}, set(),
                             [r for r in results if r.status not in (201, 409)][:3])
            sold = {tid: 0 for tid in types}
            refused_single = set()
            for r, (tid, q) in zip(results, plan):
                if r.status == 201:
                    p = r.json
                    self.assertEqual((p["ticketTypeId"], p["quantity"], p["unitPriceCents"], p["totalCents"]),
                                     (tid, q, price[tid], q * price[tid]), p)
                    sold[tid] += q
                else:
                    body = self.assertProblem(r, 409, "sold-out")
                    self.assertLess(body["ticketsAvailable"], q, r)
                    if q == 1:
                        refused_single.add(tid)
            for tid, quota in zip(types, quotas):
                self.assertLessEqual(sold[tid], quota, (capacity, quotas, sold))
            self.assertLessEqual(sum(sold.values()), capacity, (capacity, quotas, sold))
            # a refused request of 1 on each type: each type has nothing left; quotas sum above the
            # capacity, so the event is full (exactly, not one less)
            self.assertEqual(refused_single, set(types))
            self.assertEqual(sum(sold.values()), capacity, (capacity, quotas, sold))

            got = api.c.get(f"/api/events/{ev['id']}").json
            self.assertEqual((got["ticketsSold"], got["ticketsAvailable"]), (capacity, 0), got)
            self.assertEqual({t["id"]: (t["ticketsSold"], t["ticketsAvailable"]) for t in got["ticketTypes"]},
                             {tid: (sold[tid], 0) for tid in types}, got)
            db_capacity, db_sold, purchased, db_types = db_figures(db, ev["id"])
            self.assertEqual((db_capacity, db_sold, purchased), (capacity, capacity, capacity))
            self.assertEqual(db_types, {tid: (quota, sold[tid], sold[tid], sold[tid] * price[tid])
                                        for tid, quota in zip(types, quotas)})
            self.assertEqual(db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]),
                             sum(1 for r in results if r.status == 201))


class AdminWritesRaceMixin:
    """Admin writes through one process while another sells: every decision uses the current
    types, quotas and rules, and concurrent writers never pass a limit."""

    def admin_port(self):
        return self.ports()[-1]

    def admin(self, method, path, body=None):
        c = Client(self.admin_port())
        try:
            return c.request(method, path, body=body, token=self.api.admin_token())
        finally:
            c.close()

    def test_tightening_changes_made_elsewhere_apply_to_the_next_sale(self):
        sell = self.ports()[0]
        token, _ = self.api.user_token()
        ev = self.api.create_event(capacity=10, ticketTypes=[{"name": "A", "priceCents": 100, "quota": 10},
                                                             {"name": "B", "priceCents": 300, "quota": 10},
                                                             {"name": "C", "priceCents": 500, "quota": 10}])
        a, b, c = ev["ticketTypes"]
        tp = f"/api/events/{ev['id']}/ticket-types"
        self.assertEqual(purchase(sell, token, ev["id"], 1, a["id"]).status, 201)  # the seller has the event loaded
        self.assertEqual(self.admin("PUT", f"{tp}/{a['id']}", type_body(a, quota=2, priceCents=250)).status, 200)
        body = self.assertProblem(purchase(sell, token, ev["id"], 2, a["id"]), 409, "sold-out")
        self.assertEqual(body["ticketsAvailable"], 1)
        p = purchase(sell, token, ev["id"], 1, a["id"])
        self.assertEqual((p.status, p.json["unitPriceCents"], p.json["totalCents"]), (201, 250, 250), p)

        self.assertEqual(self.admin("DELETE", f"{tp}/{c['id']}").status, 204)
        self.assertEqual(list(ServiceTestCase.field_errors(self, purchase(sell, token, ev["id"], 1, c["id"]))),
                         ["ticketTypeId"])

        self.assertEqual(self.admin("PUT", f"/api/events/{ev['id']}", event_body(ev, capacity=4)).status, 200)
        self.assertEqual(self.assertProblem(purchase(sell, token, ev["id"], 3, b["id"]), 409,
                                            "sold-out")["ticketsAvailable"], 2)
        self.assertEqual(self.admin("PUT", f"/api/events/{ev['id']}",
                                    event_body(ev, capacity=4, maxPerBuyer=3)).status, 200)
        self.assertEqual(self.assertProblem(purchase(sell, token, ev["id"], 2, b["id"]), 409,
                                            "buyer-limit")["ticketsAllowed"], 1)
        self.assertEqual(purchase(sell, token, ev["id"], 1, b["id"]).status, 201)
        other, _ = self.api.user_token()
        self.assertEqual(self.admin("PUT", f"/api/events/{ev['id']}",
                                    event_body(ev, capacity=4, salesStartAt=iso_in(days=1))).status, 200)
        self.assertProblem(purchase(sell, other, ev["id"], 1, b["id"]), 409, "sales-not-open")
        _, sold, purchased, types = db_figures(self.db, ev["id"])
        self.assertEqual((sold, purchased), (3, 3))
        self.assertEqual({k: v[:3] for k, v in types.items()}, {a["id"]: (2, 2, 2), b["id"]: (10, 1, 1)})

    def test_relaxing_changes_apply_to_the_next_request(self):
        sell = self.ports()[0]
        token, _ = self.api.user_token()
        ev = self.api.create_event(capacity=10, ticketTypes=[{"name": "X", "priceCents": 100, "quota": 1}])
        x = ev["ticketTypes"][0]
        tp = f"/api/events/{ev['id']}/ticket-types"
        self.assertEqual(purchase(sell, token, ev["id"], 1).status, 201)
        self.assertProblem(purchase(sell, token, ev["id"], 1), 409, "sold-out")  # X is sold out
        r = self.admin("POST", tp, {"name": "Y", "priceCents": 300, "quota": 5})
        self.assertEqual(r.status, 201, r)
        y = r.json
        self.assertEqual(list(ServiceTestCase.field_errors(self, purchase(sell, token, ev["id"], 1))),
                         ["ticketTypeId"])  # now there are two
        p = purchase(sell, token, ev["id"], 2, y["id"])
        self.assertEqual((p.status, p.json.get("ticketTypeId"), p.json.get("totalCents")), (201, y["id"], 600), p)
        self.assertEqual(self.admin("PUT", f"{tp}/{x['id']}", type_body(x, quota=3)).status, 200)
        self.assertEqual(purchase(sell, token, ev["id"], 2, x["id"]).status, 201)

        self.assertEqual(self.admin("PUT", f"/api/events/{ev['id']}",
                                    event_body(ev, salesStartAt=iso_in(days=1))).status, 200)
        self.assertProblem(purchase(sell, token, ev["id"], 1, y["id"]), 409, "sales-not-open")
        self.assertEqual(self.admin("PUT", f"/api/events/{ev['id']}", event_body(ev, salesStartAt=None)).status, 200)
        self.assertEqual(purchase(sell, token, ev["id"], 1, y["id"]).status, 201)

        self.assertEqual(self.admin("PUT", f"/api/events/{ev['id']}", event_body(ev, capacity=6)).status, 200)
        self.assertProblem(purchase(sell, token, ev["id"], 1, y["id"]), 409, "sold-out")
        self.assertEqual(self.admin("PUT", f"/api/events/{ev['id']}", event_body(ev, capacity=7)).status, 200)
        self.assertEqual(purchase(sell, token, ev["id"], 1, y["id"]).status, 201)
        _, sold, purchased, _ = db_figures(self.db, ev["id"])
        self.assertEqual((sold, purchased), (7, 7))

    def test_quota_and_capacity_edits_racing_sales_never_oversell(self):
        tokens = [self.api.user_token()[0] for _ in range(8)]
        for _ in range(3):
            self.edits_racing_sales(tokens)

    def edits_racing_sales(self, tokens):
        ports = self.ports()
        ev = self.api.create_event(capacity=200, ticketTypes=[{"name": "A", "priceCents": 1, "quota": 150},
                                                              {"name": "B", "priceCents": 2, "quota": 150}])
        a, b = ev["ticketTypes"]
        tp = f"/api/events/{ev['id']}/ticket-types"
        edits = [("PUT", f"{tp}/{a['id']}", type_body(a, quota=30)),
                 ("PUT", f"{tp}/{b['id']}", type_body(b, quota=40)),
                 ("PUT", f"/api/events/{ev['id']}", event_body(ev, capacity=60))]
        n = 120

        def run(i):
            if i < len(edits):
                return self.admin(*edits[i])
            return purchase(ports[i % len(ports)], tokens[i % len(tokens)], ev["id"], 1 + i % 2,
                            (a, b)[i % 4 // 2]["id"])
        results = concurrently(n, run)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        for r in results[:len(edits)]:
            self.assertIn(r.status, (200, 409), r)
        for r in results[len(edits):]:
            self.assertIn(r.status, (201, 409), r)
            if r.status == 409:
                self.assertProblem(r, 409, "sold-out")
        capacity, sold, purchased, types = db_figures(self.db, ev["id"])
        self.assertEqual(sold, purchased)
        self.assertLessEqual(sold, capacity)
        self.assertEqual(sold, sum(r.json["quantity"] for r in results[len(edits):] if r.status == 201))
        for tid, (quota, type_sold, type_purchased, _) in types.items():
            self.assertLessEqual(type_sold, quota)
            self.assertEqual(type_sold, type_purchased)
        expected_quota = {a["id"]: 30 if results[0].status == 200 else 150,
                          b["id"]: 40 if results[1].status == 200 else 150}
        self.assertEqual({k: v[0] for k, v in types.items()}, expected_quota)
        self.assertEqual(capacity, 60 if results[2].status == 200 else 200)

    def test_concurrent_type_creation_stops_at_twenty(self):
        ev = self.api.create_event(capacity=50)
        for i in range(17):
            self.assertEqual(self.admin("POST", f"/api/events/{ev['id']}/ticket-types",
                                        {"name": f"T{i}", "priceCents": 0, "quota": 1}).status, 201)
        ports = self.ports()
        token = self.api.admin_token()

        def add(i):
            c = Client(ports[i % len(ports)])
            try:
                return c.post(f"/api/events/{ev['id']}/ticket-types", {"name": f"R{i}", "priceCents": 0, "quota": 1},
                              token=token)
            finally:
                c.close()
        results = concurrently(8, add)
        self.assertEqual(sorted(r.status for r in results), [201] * 2 + [409] * 6, results)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM ticket_types WHERE event_id = %s", ev["id"]), 20)

    def test_deleting_a_type_while_it_sells_is_all_or_nothing_and_harms_no_other_type(self):
        # DELETE …/{typeId}, or a PUT of the event leaving the type out, racing purchases of it
        # and of another type
        ports = self.ports()
        token, _ = self.api.user_token()
        for round in range(4):
            ev = self.api.create_event(capacity=50, ticketTypes=[{"name": "Keep", "priceCents": 0, "quota": 50},
                                                                 {"name": "Doomed", "priceCents": 0, "quota": 50}])
            keep, doomed = (t["id"] for t in ev["ticketTypes"])
            if round % 2 == 0:
                delete, done = ("DELETE", f"/api/events/{ev['id']}/ticket-types/{doomed}"), 204
            else:
                delete, done = ("PUT", f"/api/events/{ev['id']}",
                                event_body(ev, ticketTypes=[type_body(ev["ticketTypes"][0], id=keep)])), 200
            wanted = [None] + [doomed if i % 2 else keep for i in range(1, 16)]
            results = concurrently(16, lambda i: self.admin(*delete) if i == 0 else
                                   purchase(ports[i % len(ports)], token, ev["id"], 1, wanted[i]))
            deleted = results[0]
            self.assertIn(deleted.status, (done, 409), deleted)
            doomed_sales = [r for r, w in zip(results, wanted) if w == doomed]
            keep_sales = [r for r, w in zip(results, wanted) if w == keep]
            self.assertEqual([r.status for r in keep_sales], [201] * len(keep_sales), keep_sales)  # untouched
            for r in doomed_sales:
                self.assertIn(r.status, (201, 400), r)
            sold = sum(1 for r in doomed_sales if r.status == 201)
            if deleted.status == done:
                self.assertEqual(sold, 0, doomed_sales)
                for r in doomed_sales:
                    self.assertEqual(list(ServiceTestCase.field_errors(self, r)), ["ticketTypeId"])
            else:
                self.assertGreater(sold, 0)
            self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE ticket_type_id = %s", doomed), sold)


class ActorModeRaceTest(OverlapRaceMixin, BuyerLimitMixin, AdminWritesRaceMixin, ServiceTestCase):
    service_args = ("--db.pool-size", "4")

    def test_overlapping_quotas_under_hundreds_of_concurrent_buyers(self):
        self.overlap_race(self.api, self.db, [self.service.port], rounds=3)


class LockPerRequestModeRaceTest(OverlapRaceMixin, BuyerLimitMixin, AdminWritesRaceMixin, ServiceTestCase):
    service_args = ("--purchase.mode", "lock-per-request", "--db.pool-size", "8")

    def test_overlapping_quotas_under_hundreds_of_concurrent_buyers(self):
        self.overlap_race(self.api, self.db, [self.service.port], rounds=1)


class DefaultCurrencyTest(TicketTypesCase):
    service_args = ("--event.default-currency", "SEK")

    def test_types_without_currency_get_the_configured_one(self):
        ev = self.create(capacity=5)
        self.assertEqual(ev["ticketTypes"][0]["currency"], "SEK")
        r = self.client.post(self.type_path(ev["id"]), {"name": "B", "priceCents": 5, "quota": 1}, token=self.admin)
        self.assertEqual(r.json["currency"], "SEK")
        self.assertEqual(self.bought(ev["id"], 1, r.json["id"])["currency"], "SEK")


class TwoProcessesTest(OverlapRaceMixin, BuyerLimitMixin, AdminWritesRaceMixin, unittest.TestCase):
    """Two independent server processes (no cluster) on one database, buyers split across both."""

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        secret = uuid.uuid4().hex * 2
        cls.services = [Service(cls.db.url, "--db.pool-size", "4", secret=secret, name=f"process{i}")
                        for i in range(2)]
        for s in cls.services:
            s.start(wait=False)
        for s in cls.services:
            s.wait_ready()
        cls.service = cls.services[0]
        cls.api = Api(cls.services[0].client())

    @classmethod
    def tearDownClass(cls):
        codes = [s.stop() for s in cls.services]
        cls.db.drop()
        if codes != [0, 0]:
            raise AssertionError(f"exit codes {codes}:\n" + "\n".join(s.crash_report(2000) for s in cls.services))

    def ports(self):
        return [s.port for s in self.services]

    assertProblem = ServiceTestCase.assertProblem

    # Without a cluster, an admin write through one process does not reach the other's event
    # actors: their memo (refusals only: sold out, sales closed or not open) may lag up to its
    # 10 s safety TTL. Tightening changes are decided under the row lock and are checked here.
    test_relaxing_changes_apply_to_the_next_request = None

    def test_overlapping_quotas_with_two_processes_on_one_database(self):
        self.overlap_race(self.api, self.db, self.ports(), rounds=2)


MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "persistence", "migrations")


def flyway_checksum(sql):
    """persistence/migrator.cpp's checksum: CRC32 over the lines without their line ends."""
    crc = 0
    for line in sql.splitlines():
        crc = zlib.crc32(line.encode(), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class MigratedV3DataTest(unittest.TestCase):
    """A database holding V3 data (schema V1..V3 applied as the service would, rows written as
    the V3 service wrote them) is migrated by the service at start and served as the contract says."""

    def test_v3_events_get_general_admission_and_their_purchases_are_attached(self):
        db = TestDatabase()
        svc = None
        try:
            with open(os.path.join(MIGRATIONS, "V1__schema.sql")) as f:
                self.assertIn("CREATE TABLE purchases", f.read())  # the files are where we think
            conn = db.connect()
            cur = conn.cursor()
            cur.execute("""CREATE TABLE flyway_schema_history (
                installed_rank integer NOT NULL PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
                type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer,
                installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
                execution_time integer NOT NULL, success boolean NOT NULL)""")
            for rank, script in enumerate(["V1__schema.sql", "V2__pending_confirmations.sql",
                                           "V3__purchase_references_per_statement.sql"], start=1):
                with open(os.path.join(MIGRATIONS, script), newline="") as f:
                    sql = f.read()
                cur.execute(sql)
                cur.execute("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, "
                            "checksum, installed_by, execution_time, success) "
                            "VALUES (%s, %s, %s, 'SQL', %s, %s, current_user, 0, true)",
                            (rank, str(rank), script.split("__")[1][:-4].replace("_", " "), script,
                             flyway_checksum(sql)))
            # A V3 participant who can sign in: the hash of "password-123" made by this binary.
            helper_db = TestDatabase()
            try:
                helper = Service(helper_db.url, admin=False).start()
                Api(helper.client()).register("v3@example.com")
                password_hash = helper_db.scalar("SELECT password_hash FROM participants")
                helper.stop()
            finally:
                helper_db.drop()
            cur.execute("INSERT INTO participants (email, full_name, role, password_hash) "
                        "VALUES ('v3@example.com', 'Old Buyer', 'USER', %s) RETURNING id", (password_hash,))
            buyer = cur.fetchone()[0]
            cur.execute("INSERT INTO events (name, venue, starts_at, capacity, tickets_sold) VALUES "
                        "('Old sold', 'Hall', now() + interval '5 days', 10, 3), "
                        "('Old empty', 'Hall', now() + interval '6 days', 7, 0) RETURNING id")
            sold_id, empty_id = (row[0] for row in cur.fetchall())
            cur.execute("INSERT INTO purchases (event_id, participant_id, quantity) VALUES (%s, %s, 2), (%s, %s, 1) "
                        "RETURNING id", (sold_id, buyer, sold_id, buyer))
            first = cur.fetchone()[0]
            cur.execute("INSERT INTO idempotency_keys (participant_id, idempotency_key, event_id, quantity, "
                        "purchase_id) VALUES (%s, 'v3-key', %s, 2, %s)", (buyer, sold_id, first))
            conn.close()

            svc = Service(db.url).start()
            applied = [line for line in svc.output().splitlines() if "db.migration_applied" in line]
            # V1..V3 recognised as applied; V4 and every later one applied now, in order
            self.assertGreaterEqual(len(applied), 1, applied)
            self.assertIn("V4__ticket_types.sql", applied[0])
            c = svc.client()
            api = Api(c)
            sold = c.get(f"/api/events/{sold_id}").json
            [ga] = sold["ticketTypes"]
            self.assertEqual({k: ga[k] for k in ("eventId", "name", "priceCents", "currency", "quota", "ticketsSold",
                                                 "ticketsHeld", "ticketsAvailable")},
                             {"eventId": sold_id, "name": "General admission", "priceCents": 0, "currency": "EUR",
                              "quota": 10, "ticketsSold": 3, "ticketsHeld": 0, "ticketsAvailable": 7})
            self.assertEqual((sold["ticketsSold"], sold["salesStartAt"], sold["maxPerBuyer"], sold["admissionQueue"]),
                             (3, None, None, False))
            listing = {e["id"]: e for e in c.get("/api/events?size=100").json["items"]}
            self.assertEqual(listing[sold_id], sold)
            self.assertEqual(listing[empty_id]["ticketTypes"][0]["quota"], 7)

            token = api.login("v3@example.com", "password-123")
            mine = c.get("/api/me/purchases", token=token).json["items"]
            self.assertEqual([(p["ticketTypeId"], p["quantity"], p["unitPriceCents"], p["currency"], p["totalCents"],
                               p["cancelledQuantity"], p["refundedCents"], p["status"]) for p in mine],
                             [(ga["id"], 1, 0, "EUR", 0, 0, 0, "CONFIRMED"),
                              (ga["id"], 2, 0, "EUR", 0, 0, 0, "CONFIRMED")])
            replay = c.post(f"/api/events/{sold_id}/purchases", {"quantity": 2}, token=token,
                            headers={"Idempotency-Key": "v3-key"})
            self.assertEqual((replay.status, replay.json["id"], replay.json["ticketTypeId"]), (200, first, ga["id"]))

            # the converted type still follows the capacity, sells and cannot be deleted
            admin = api.admin_token()
            body = {"name": sold["name"], "venue": sold["venue"], "startsAt": sold["startsAt"], "capacity": 12}
            r = c.put(f"/api/events/{sold_id}", body, token=admin)
            self.assertEqual((r.status, r.json["ticketTypes"][0]["quota"]), (200, 12), r)
            p = c.post(f"/api/events/{sold_id}/purchases", {"quantity": 1}, token=token)
            self.assertEqual((p.status, p.json["ticketTypeId"]), (201, ga["id"]), p)
            r = c.delete(f"/api/events/{sold_id}/ticket-types/{ga['id']}", token=admin)
            self.assertEqual(r.status, 409, r)
            self.assertEqual(db.scalar("SELECT role FROM participants WHERE email = %s", ADMIN_EMAIL), "ADMIN")
            self.assertEqual(svc.stop(), 0)
        finally:
            if svc:
                svc.kill()
            db.drop()


if __name__ == "__main__":
    unittest.main()
