"""Cancellation and refunds (issue 20) over real HTTP against real PostgreSQL, one process, in both
purchase modes: POST /api/purchases/{id}/cancel in full, in parts, without a body; refundedCents at
the price paid; who may cancel (owner, ADMIN; someone else's is 404, STAFF 403); the cut-off
(purchase.cancel-cutoff before startsAt for the owner, startsAt for an ADMIN) from the command
line and the environment; the order of refusals (key, cancellation-closed, already-cancelled,
quantity); Idempotency-Key replays per participant and per kind of request; the freed tickets in
the event, its types, participants, /api/me/purchases and the buyer limit; an event or type with
cancelled sales is still not deleted; the purchase.cancelled notification (log line, webhook);
and races: 20 concurrent cancels of one purchase (without a key, with one key, in parts) free
exactly once, and a cancel racing 40 buyers for the last tickets never oversells."""
import collections
import contextlib
import time
import unittest
import uuid

from harness import Api, Client, Service, ServiceTestCase, TestDatabase, iso_in
from test_holds import PURCHASE_KEYS, make_users, ts, wait_for_log
from test_purchases import WebhookReceiver, concurrently, wait_until, webhook_args, webhook_signature_valid

UNKNOWN = 987654321
PRICE = 1250
ABSENT = object()  # no body at all
SLACK = 0.4        # seconds of clock and scheduling slack around a cut-off


def tag():
    return uuid.uuid4().hex[:12]


def cancel(port, token, purchase_id, quantity=ABSENT, key=None, request_id=None, body=ABSENT):
    """One cancel request on a connection of its own. quantity given → {"quantity": quantity};
    body given → that JSON body; neither → no body at all. Every request carries its own
    X-Request-Id (request_id, or a fresh one) so that its notification can be told apart."""
    headers = {"X-Request-Id": request_id or "cancel-" + tag()}
    if key is not None:
        headers["Idempotency-Key"] = key
    if quantity is not ABSENT:
        body = {"quantity": quantity}
    c = Client(port)
    try:
        return c.post(f"/api/purchases/{purchase_id}/cancel", None if body is ABSENT else body, token=token,
                      headers=headers)
    finally:
        c.close()


def buy(port, token, event_id, quantity=1, type_id=None, key=None):
    body = {"quantity": quantity}
    if type_id is not None:
        body["ticketTypeId"] = type_id
    c = Client(port)
    try:
        return c.post(f"/api/events/{event_id}/purchases", body, token=token,
                      headers={"Idempotency-Key": key} if key else None)
    finally:
        c.close()


def replayed(r):
    return r.header("idempotent-replayed") == "true"


def summary(results):
    """How a race was answered: a count per (status, problem type or replayed, cancelledQuantity)."""
    counts = collections.Counter()
    for r in results:
        if isinstance(r, Exception):
            counts[repr(r)] += 1
            continue
        body = r.json if r.text.startswith("{") else {}
        what = (body.get("type", "").rsplit("/", 1)[-1] if r.status >= 400 else
                "replayed" if replayed(r) else "new")
        counts[(r.status, what, body.get("cancelledQuantity"))] += 1
    return dict(counts)


def accounting(test, db, event_id):
    """What PostgreSQL holds for an event, checked against its own rows: every purchase has
    0 <= cancelled_quantity <= quantity and refunded_cents = cancelled_quantity × unit_price_cents,
    its purchase_cancellations rows add up to both; tickets_sold of the event and of each type is
    Σ(quantity − cancelled_quantity); sold plus held never passes capacity or quota."""
    capacity, sold, held = db.query("SELECT capacity, tickets_sold, tickets_held FROM events WHERE id = %s",
                                    event_id)[0]
    purchases = db.query(
        "SELECT p.id, p.ticket_type_id, p.quantity, p.cancelled_quantity, p.unit_price_cents, p.refunded_cents, "
        "(SELECT count(*) FROM purchase_cancellations c WHERE c.purchase_id = p.id), "
        "(SELECT coalesce(sum(c.quantity), 0) FROM purchase_cancellations c WHERE c.purchase_id = p.id), "
        "(SELECT coalesce(sum(c.refunded_cents), 0) FROM purchase_cancellations c WHERE c.purchase_id = p.id) "
        "FROM purchases p WHERE p.event_id = %s ORDER BY p.id", event_id)
    net, by_type, cancellations = 0, {}, 0
    for pid, tid, quantity, cancelled, unit, refunded, count, c_quantity, c_refunded in purchases:
        row = {"purchase": pid, "quantity": quantity, "cancelled": cancelled, "unit": unit, "refunded": refunded,
               "cancellations": count, "cancelled by rows": c_quantity, "refunded by rows": c_refunded}
        test.assertTrue(0 <= cancelled <= quantity, row)
        test.assertEqual(refunded, cancelled * unit, row)
        test.assertEqual((c_quantity, c_refunded), (cancelled, refunded), row)
        net += quantity - cancelled
        by_type[tid] = by_type.get(tid, 0) + quantity - cancelled
        cancellations += count
    figures = {"capacity": capacity, "sold": sold, "held": held, "net": net, "purchases": len(purchases),
               "cancellations": cancellations,
               "cancelled": sum(p[3] for p in purchases)}
    test.assertEqual(sold, net, figures)
    test.assertLessEqual(sold + held, capacity, figures)
    for tid, quota, t_sold, t_held in db.query("SELECT id, quota, tickets_sold, tickets_held FROM ticket_types "
                                               "WHERE event_id = %s", event_id):
        test.assertEqual(t_sold, by_type.get(tid, 0), (tid, figures))
        test.assertLessEqual(t_sold + t_held, quota, (tid, figures))
    return figures


def cancellation_rows(db, purchase_id):
    """(participant_id, idempotency_key, quantity, refunded_cents, request_id) of a purchase's
    cancellations, in order."""
    return db.query("SELECT participant_id, idempotency_key, quantity, refunded_cents, request_id "
                    "FROM purchase_cancellations WHERE purchase_id = %s ORDER BY cancelled_at, ctid", purchase_id)


def assert_cancellations_notified(test, db, services, event_id, owner_of_purchase, timeout=20):
    """The outbox drains of the event's purchase.cancelled rows, and every purchase_cancellations
    row of the event has its purchase.cancelled log line (matched by request id) on one of the
    services, with this cancellation's figures and the purchase's owner; no line without a row."""
    test.assertTrue(wait_until(lambda: db.scalar(
        "SELECT count(*) FROM pending_notifications WHERE type = 'purchase.cancelled' AND event_id = %s",
        event_id) == 0, timeout), "purchase.cancelled notifications left undelivered")
    rows = db.query("SELECT c.purchase_id, c.request_id, c.quantity, c.refunded_cents, p.currency "
                    "FROM purchase_cancellations c JOIN purchases p ON p.id = c.purchase_id "
                    "WHERE p.event_id = %s", event_id)
    expected = {(pid, rid): (event_id, owner_of_purchase[pid], quantity, refunded, currency.strip())
                for pid, rid, quantity, refunded, currency in rows}
    test.assertEqual(len(expected), len(rows), "two cancellations of one purchase share a request id")

    def logged():
        got = {}
        for service in services:
            for line in service.log_lines("purchase.cancelled"):
                if line.get("event_id") == event_id:
                    got[(line.get("purchase_id"), line.get("request_id"))] = (
                        line.get("event_id"), line.get("participant_id"), line.get("quantity"),
                        line.get("refunded_cents"), line.get("currency"))
        return got
    wait_until(lambda: set(logged()) >= set(expected), timeout=5)
    test.assertEqual(logged(), expected, "purchase.cancelled log lines differ from the cancellations stored")


class CancelCase(ServiceTestCase):
    """Calls and assertions shared by the classes below."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.api.admin_token()
        cls.admin_id = cls.client.get("/api/me", token=cls.admin).json["id"]

    def setUp(self):
        self.user, self.me = self.api.user_token()

    def create(self, capacity=10, price=PRICE, **extra):
        if "ticketTypes" not in extra:
            extra["ticketTypes"] = [{"name": "Standard", "priceCents": price, "quota": capacity}]
        return self.api.create_event(capacity=capacity, **extra)

    def get_event(self, event_id):
        r = self.client.get(f"/api/events/{event_id}")
        self.assertEqual(r.status, 200, r)
        return r.json

    def figures(self, event_id):
        e = self.get_event(event_id)
        return (e["ticketsSold"], e["ticketsAvailable"],
                [(t["ticketsSold"], t["ticketsAvailable"]) for t in e["ticketTypes"]])

    def bought(self, event_id, quantity=1, type_id=None, token=None):
        r = buy(self.service.port, token or self.user, event_id, quantity, type_id)
        self.assertEqual(r.status, 201, r)
        return r.json

    def cancel(self, purchase_id, quantity=ABSENT, token=None, key=None, request_id=None, body=ABSENT):
        return cancel(self.service.port, token or self.user, purchase_id, quantity, key, request_id, body)

    def cancelled(self, purchase_id, quantity=ABSENT, token=None, key=None, request_id=None, body=ABSENT):
        r = self.cancel(purchase_id, quantity, token, key, request_id, body)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(replayed(r), r)
        self.assertEqual(set(r.json), PURCHASE_KEYS)
        return r.json

    def get_purchase(self, purchase_id, token=None):
        r = self.client.get(f"/api/purchases/{purchase_id}", token=token or self.user)
        self.assertEqual(r.status, 200, r)
        return r.json

    def assertFieldError(self, r, status, field):
        body = self.assertProblem(r, status)
        self.assertIn(field, [e.get("field") for e in body.get("errors") or []], r)
        return body

    def state(self, event_ids):
        """Everything a refused request must leave as it was."""
        return (self.db.query("SELECT id, quantity, cancelled_quantity, refunded_cents FROM purchases "
                              "WHERE event_id = ANY(%s) ORDER BY id", list(event_ids)),
                self.db.query("SELECT count(*) FROM purchase_cancellations"),
                self.db.query("SELECT id, tickets_sold, tickets_held FROM events WHERE id = ANY(%s) ORDER BY id",
                              list(event_ids)),
                self.db.query("SELECT id, tickets_sold, tickets_held FROM ticket_types WHERE event_id = ANY(%s) "
                              "ORDER BY id", list(event_ids)),
                [self.get_event(e) for e in event_ids])

    @contextlib.contextmanager
    def unchanged(self, *event_ids):
        before = self.state(event_ids)
        yield
        self.assertEqual(self.state(event_ids), before, "a refused request changed something")


class CancellationTest(CancelCase):
    service_args = ("--purchase.max-per-order", "6", "--log.format", "json", "--notify.sweep-interval", "200ms")

    def test_a_full_cancel_frees_every_ticket_at_once_and_refunds_the_price_paid(self):
        ev = self.create(capacity=10)
        p = self.bought(ev["id"], 3)
        self.assertEqual((p["cancelledQuantity"], p["refundedCents"], p["totalCents"]), (0, 0, 3 * PRICE))
        self.assertEqual(self.figures(ev["id"]), (3, 7, [(3, 7)]))
        rid = "full-" + tag()
        c = self.cancelled(p["id"], request_id=rid)  # no body at all: everything left
        self.assertEqual(c, dict(p, cancelledQuantity=3, refundedCents=3 * PRICE, status="CANCELLED"))
        self.assertEqual(self.get_purchase(p["id"]), c)
        self.assertEqual(self.get_purchase(p["id"], token=self.admin), c)
        self.assertIn(c, self.client.get("/api/me/purchases?size=100", token=self.user).json["items"])
        self.assertEqual(self.figures(ev["id"]), (0, 10, [(0, 10)]))  # at once
        self.assertEqual(self.db.query("SELECT quantity, cancelled_quantity, refunded_cents, total_cents "
                                       "FROM purchases WHERE id = %s", p["id"]), [(3, 3, 3 * PRICE, 3 * PRICE)])
        self.assertEqual(cancellation_rows(self.db, p["id"]), [(self.me["id"], None, 3, 3 * PRICE, rid)])
        self.assertEqual(accounting(self, self.db, ev["id"])["sold"], 0)
        # the listing shows it within listing.max-age
        self.assertTrue(wait_until(lambda: [e["ticketsSold"] for e in self.client.get(
            f"/api/events?size=100&q={ev['name'].split()[-1]}").json["items"]] == [0], timeout=5))

        line = wait_for_log([self.service], "purchase.cancelled", lambda l: l.get("purchase_id") == p["id"])
        self.assertIsNotNone(line, "no purchase.cancelled log line")
        self.assertEqual({k: line.get(k) for k in ("event_id", "participant_id", "quantity", "refunded_cents",
                                                   "currency", "request_id")},
                         {"event_id": ev["id"], "participant_id": self.me["id"], "quantity": 3,
                          "refunded_cents": 3 * PRICE, "currency": "EUR", "request_id": rid})

        # nothing left: already-cancelled, whatever quantity is sent
        with self.unchanged(ev["id"]):
            for quantity in (ABSENT, 1, 3, 99):
                self.assertProblem(self.cancel(p["id"], quantity), 409, "already-cancelled")
            self.assertProblem(self.cancel(p["id"], body={}), 409, "already-cancelled")
            self.assertProblem(self.cancel(p["id"], token=self.admin), 409, "already-cancelled")
        # the freed tickets are really there: someone else buys all ten
        other, _ = self.api.user_token()
        self.bought(ev["id"], 6, token=other)
        self.bought(ev["id"], 4, token=other)
        self.assertProblem(buy(self.service.port, other, ev["id"], 1), 409, "sold-out")
        self.assertEqual(accounting(self, self.db, ev["id"])["sold"], 10)
        assert_cancellations_notified(self, self.db, [self.service], ev["id"], {p["id"]: self.me["id"]})

    def test_a_partial_cancel_then_the_rest_and_quantity_above_what_is_left_is_422(self):
        ev = self.create(capacity=8)
        p = self.bought(ev["id"], 5)
        first = self.cancelled(p["id"], 2, request_id=f"part-1-{p['id']}")
        self.assertEqual(first, dict(p, cancelledQuantity=2, refundedCents=2 * PRICE, status="CONFIRMED"))
        self.assertEqual(self.get_purchase(p["id"]), first)
        self.assertEqual(self.figures(ev["id"]), (3, 5, [(3, 5)]))
        with self.unchanged(ev["id"]):
            self.assertFieldError(self.cancel(p["id"], 4), 422, "quantity")
            self.assertFieldError(self.cancel(p["id"], 6), 422, "quantity")
            self.assertFieldError(self.cancel(p["id"], 4, token=self.admin), 422, "quantity")
        self.assertEqual(self.get_purchase(p["id"]), first)
        second = self.cancelled(p["id"], 1, request_id=f"part-2-{p['id']}")
        self.assertEqual(second, dict(p, cancelledQuantity=3, refundedCents=3 * PRICE, status="CONFIRMED"))
        rest = self.cancelled(p["id"], body={}, request_id=f"part-3-{p['id']}")  # {} = all that is left
        self.assertEqual(rest, dict(p, cancelledQuantity=5, refundedCents=5 * PRICE, status="CANCELLED"))
        self.assertEqual(self.figures(ev["id"]), (0, 8, [(0, 8)]))
        self.assertProblem(self.cancel(p["id"], 1), 409, "already-cancelled")
        self.assertEqual([row[2:] for row in cancellation_rows(self.db, p["id"])],
                         [(2, 2 * PRICE, f"part-1-{p['id']}"), (1, PRICE, f"part-2-{p['id']}"),
                          (2, 2 * PRICE, f"part-3-{p['id']}")])
        accounting(self, self.db, ev["id"])
        # one notification per cancellation, with that cancellation's figures (not the totals)
        assert_cancellations_notified(self, self.db, [self.service], ev["id"], {p["id"]: self.me["id"]})

    def test_an_exact_quantity_cancels_what_is_left_and_a_purchase_through_a_hold_cancels_alike(self):
        ev = self.create(capacity=6)
        p = self.bought(ev["id"], 4)
        self.assertEqual(self.cancelled(p["id"], 4)["status"], "CANCELLED")
        r = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 2}, token=self.user)
        self.assertEqual(r.status, 201, r)
        h = r.json
        held = self.bought(ev["id"], 1)
        self.assertEqual(self.get_event(ev["id"])["ticketsHeld"], 2)
        self.cancelled(held["id"])  # held tickets are not touched by a cancellation
        e = self.get_event(ev["id"])
        self.assertEqual((e["ticketsSold"], e["ticketsHeld"], e["ticketsAvailable"]), (0, 2, 4))
        c = self.client.post(f"/api/holds/{h['id']}/confirm", token=self.user)
        self.assertEqual(c.status, 201, c)
        done = self.cancelled(c.json["id"], 1)
        self.assertEqual((done["cancelledQuantity"], done["status"], done["refundedCents"]), (1, "CONFIRMED", PRICE))
        hold_now = self.client.get(f"/api/holds/{h['id']}", token=self.user).json
        self.assertEqual((hold_now["status"], hold_now["purchaseId"]), ("CONFIRMED", c.json["id"]))
        e = self.get_event(ev["id"])
        self.assertEqual((e["ticketsSold"], e["ticketsHeld"], e["ticketsAvailable"]), (1, 0, 5))
        accounting(self, self.db, ev["id"])

    def test_bad_quantities_and_path_ids_are_400_unknown_is_404_and_nothing_changes(self):
        ev = self.create(capacity=5)
        p = self.bought(ev["id"], 3)
        path = f"/api/purchases/{p['id']}/cancel"
        with self.unchanged(ev["id"]):
            for quantity in (0, -1, 1.5, "1", True, [1], {"n": 1}):
                self.assertEqual(list(self.field_errors(self.cancel(p["id"], quantity))), ["quantity"], quantity)
            # the body is checked before existence
            self.assertIn("quantity", self.field_errors(self.cancel(UNKNOWN, 0)))
            self.assertProblem(self.client.post(path, raw_body=b"{", token=self.user), 400)
            self.assertProblem(self.client.post(path, raw_body=b"[1]", token=self.user), 400)
            self.assertProblem(self.client.post(path, raw_body=b"quantity=1", token=self.user,
                                                content_type="application/x-www-form-urlencoded"), 415)
            for bad in ("abc", "0", "-1", "1.5"):
                self.assertProblem(self.client.post(f"/api/purchases/{bad}/cancel", token=self.user), 400)
            self.assertProblem(self.client.post(f"/api/purchases/{UNKNOWN}/cancel", token=self.user), 404)
            self.assertProblem(self.client.post(f"/api/purchases/{UNKNOWN}/cancel", token=self.admin), 404)
            self.assertIn("Idempotency-Key", self.field_errors(self.cancel(p["id"], 1, key="")))
            self.assertIn("Idempotency-Key", self.field_errors(self.cancel(p["id"], 1, key="k" * 65)))
            r = self.client.get(path, token=self.user)
            self.assertEqual(r.status, 405, r)
            self.assertIn("POST", r.header("allow") or "", r)
        self.assertEqual(self.get_purchase(p["id"]), p)
        self.assertEqual(cancellation_rows(self.db, p["id"]), [])

    def test_someone_elses_purchase_is_404_staff_is_403_no_token_401_and_an_admin_cancels_anyones(self):
        ev = self.create(capacity=6)
        p = self.bought(ev["id"], 4)
        stranger, _ = self.api.user_token()
        staff, _ = self.api.staff_token()
        path = f"/api/purchases/{p['id']}/cancel"
        with self.unchanged(ev["id"]):
            self.assertProblem(self.cancel(p["id"], token=stranger), 404)
            self.assertProblem(self.cancel(p["id"], 1, token=stranger), 404)
            self.assertProblem(self.cancel(UNKNOWN, token=stranger), 404)
            for body in (ABSENT, {"quantity": 1}, {"quantity": "bad"}):
                self.assertProblem(self.cancel(p["id"], token=staff, body=body), 403)
            self.assertProblem(self.client.post("/api/purchases/abc/cancel", token=staff), 403)
            self.assertProblem(self.client.post(f"/api/purchases/{UNKNOWN}/cancel", token=staff), 403)
            for token in (None, self.user + "x"):
                r = self.client.post(path, {"quantity": 1}, token=token)
                self.assertProblem(r, 401)
                self.assertEqual(r.header("www-authenticate"), "Bearer", r)
            self.assertProblem(self.client.post("/api/purchases/abc/cancel", {"quantity": "bad"}), 401)
        self.assertEqual(self.get_purchase(p["id"]), p)

        rid = "by-admin-" + tag()
        c = self.cancelled(p["id"], 1, token=self.admin, request_id=rid)
        self.assertEqual((c["participantId"], c["cancelledQuantity"], c["status"]), (self.me["id"], 1, "CONFIRMED"))
        rest = self.cancelled(p["id"], token=self.admin)
        self.assertEqual((rest["cancelledQuantity"], rest["refundedCents"], rest["status"]),
                         (4, 4 * PRICE, "CANCELLED"))
        self.assertEqual(self.get_purchase(p["id"]), rest)  # the owner sees it
        rows = cancellation_rows(self.db, p["id"])
        self.assertEqual([(row[0], row[2]) for row in rows], [(self.admin_id, 1), (self.admin_id, 3)])  # the caller
        self.assertEqual(rows[0][4], rid)
        # the notification names the purchase's owner, not the ADMIN
        line = wait_for_log([self.service], "purchase.cancelled", lambda l: l.get("request_id") == rid)
        self.assertIsNotNone(line, "no purchase.cancelled log line for the ADMIN's cancellation")
        self.assertEqual((line.get("purchase_id"), line.get("participant_id"), line.get("quantity"),
                          line.get("refunded_cents")), (p["id"], self.me["id"], 1, PRICE))
        self.assertEqual(self.figures(ev["id"]), (0, 6, [(0, 6)]))
        assert_cancellations_notified(self, self.db, [self.service], ev["id"], {p["id"]: self.me["id"]})

    def test_the_owner_may_cancel_until_24h_before_the_start_an_admin_until_the_start(self):
        later = self.create(capacity=5, startsAt=iso_in(seconds=25 * 3600))
        soon = self.create(capacity=5, startsAt=iso_in(seconds=23 * 3600))
        close = self.create(capacity=5, startsAt=iso_in(seconds=40))
        self.assertEqual(self.cancelled(self.bought(later["id"], 2)["id"], 1)["cancelledQuantity"], 1)
        for ev in (soon, close):
            p = self.bought(ev["id"], 3)
            with self.unchanged(ev["id"]):
                self.assertProblem(self.cancel(p["id"]), 409, "cancellation-closed")
                self.assertProblem(self.cancel(p["id"], 1), 409, "cancellation-closed")
                self.assertProblem(self.cancel(p["id"], 99), 409, "cancellation-closed")  # before 422
                self.assertProblem(self.cancel(p["id"], 1, key="closed-" + tag()), 409, "cancellation-closed")
            c = self.cancelled(p["id"], 2, token=self.admin)
            self.assertEqual((c["cancelledQuantity"], c["status"]), (2, "CONFIRMED"))
            self.assertEqual(self.figures(ev["id"]), (1, 4, [(1, 4)]))
            self.assertProblem(self.cancel(p["id"], 1), 409, "cancellation-closed")
            self.assertEqual(self.cancelled(p["id"], token=self.admin)["status"], "CANCELLED")
            # closed comes before already-cancelled
            self.assertProblem(self.cancel(p["id"]), 409, "cancellation-closed")
            self.assertProblem(self.cancel(p["id"], token=self.admin), 409, "already-cancelled")
            accounting(self, self.db, ev["id"])

    def test_idempotency_keys_replay_the_purchase_as_it_is_now_and_reused_keys_are_422(self):
        ev = self.create(capacity=10)
        p = self.bought(ev["id"], 4)
        q = self.bought(ev["id"], 2)
        key = "cancel-" + tag()
        first = self.cancelled(p["id"], 1, key=key, request_id="idem-1-" + key)
        again = self.cancel(p["id"], 1, key=key, request_id="idem-2-" + key)
        self.assertEqual((again.status, replayed(again)), (200, True), again)
        self.assertEqual(again.json, first)
        self.assertEqual(self.figures(ev["id"])[0], 5)  # nothing freed twice
        # another cancellation without the key, then the replay answers the purchase as it is now
        now = self.cancelled(p["id"], 1)
        self.assertEqual(now["cancelledQuantity"], 2)
        late = self.cancel(p["id"], 1, key=key)
        self.assertEqual((late.status, replayed(late), late.json), (200, True, now), late)
        with self.unchanged(ev["id"]):
            for quantity in (2, ABSENT):  # another quantity, also absent against given
                self.assertProblem(self.cancel(p["id"], quantity, key=key), 422, "idempotency-key-reused")
            self.assertProblem(self.cancel(p["id"], key=key, body={}), 422, "idempotency-key-reused")
            self.assertProblem(self.cancel(q["id"], 1, key=key), 422, "idempotency-key-reused")  # another purchase
            # the key check comes first: before quantity above what is left
            self.assertProblem(self.cancel(p["id"], 99, key=key), 422, "idempotency-key-reused")
        self.assertEqual(self.figures(ev["id"])[0], 4)
        # the rest is cancelled; a replay still answers 200 (not already-cancelled)
        self.assertEqual(self.cancelled(p["id"])["status"], "CANCELLED")
        final = self.cancel(p["id"], 1, key=key)
        self.assertEqual((final.status, replayed(final)), (200, True), final)
        self.assertEqual((final.json["cancelledQuantity"], final.json["status"]), (4, "CANCELLED"))
        # a key given without quantity replays the same way
        nobody = "all-" + tag()
        whole = self.cancelled(q["id"], key=nobody)
        self.assertEqual(whole["status"], "CANCELLED")
        rep = self.cancel(q["id"], key=nobody)
        self.assertEqual((rep.status, replayed(rep), rep.json), (200, True, whole), rep)
        self.assertProblem(self.cancel(q["id"], 2, key=nobody), 422, "idempotency-key-reused")
        rows = cancellation_rows(self.db, p["id"])
        self.assertEqual([(row[1], row[2]) for row in rows], [(key, 1), (None, 1), (None, 2)])
        self.assertEqual(rows[0][4], "idem-1-" + key)
        self.assertEqual(accounting(self, self.db, ev["id"])["sold"], 0)
        # replays are not notified again
        assert_cancellations_notified(self, self.db, [self.service], ev["id"],
                                      {p["id"]: self.me["id"], q["id"]: self.me["id"]})

    def test_keys_are_per_participant_and_per_kind_and_a_refused_cancel_does_not_keep_its_key(self):
        ev = self.create(capacity=20)
        other, other_p = self.api.user_token()
        key = "shared-" + tag()
        mine = self.bought(ev["id"], 3)
        theirs = self.bought(ev["id"], 3, token=other)
        self.assertEqual(self.cancelled(mine["id"], 1, key=key)["cancelledQuantity"], 1)
        # another participant's same key is their own request
        self.assertEqual(self.cancelled(theirs["id"], 1, key=key, token=other)["cancelledQuantity"], 1)
        # a key used on a purchase is new for a cancellation, and the other way round
        buy_key = "buy-" + tag()
        r = buy(self.service.port, self.user, ev["id"], 2, key=buy_key)
        self.assertEqual(r.status, 201, r)
        c = self.cancelled(r.json["id"], 1, key=buy_key)
        self.assertEqual(c["cancelledQuantity"], 1)
        again = buy(self.service.port, self.user, ev["id"], 2, key=buy_key)
        self.assertEqual((again.status, again.json["id"]), (200, r.json["id"]), again)  # still that purchase
        new = buy(self.service.port, self.user, ev["id"], 1, key=key)  # a cancellation's key on a purchase
        self.assertEqual(new.status, 201, new)
        self.assertEqual(new.json["cancelledQuantity"], 0)
        # a hold's key is new for a cancellation too
        hold_key = "hold-" + tag()
        h = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 1}, token=self.user,
                             headers={"Idempotency-Key": hold_key})
        self.assertEqual(h.status, 201, h)
        self.assertEqual(self.cancelled(new.json["id"], key=hold_key)["status"], "CANCELLED")

        # refused cancels (409, 422) do not remember their key
        retry = "retry-" + tag()
        with self.unchanged(ev["id"]):
            self.assertFieldError(self.cancel(mine["id"], 5, key=retry), 422, "quantity")
        self.assertEqual(self.cancelled(mine["id"], 1, key=retry)["cancelledQuantity"], 2)
        done = self.bought(ev["id"], 1)
        self.cancelled(done["id"])
        retry2 = "retry2-" + tag()
        self.assertProblem(self.cancel(done["id"], key=retry2), 409, "already-cancelled")
        self.assertEqual(self.cancelled(mine["id"], key=retry2)["status"], "CANCELLED")
        closed = self.create(capacity=3, startsAt=iso_in(seconds=3600))
        late = self.bought(closed["id"], 1)
        retry3 = "retry3-" + tag()
        self.assertProblem(self.cancel(late["id"], key=retry3), 409, "cancellation-closed")
        self.assertEqual(self.cancelled(theirs["id"], key=retry3, token=other)["status"], "CANCELLED")
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchase_cancellations WHERE participant_id = %s "
                                        "AND idempotency_key = ANY(%s)", other_p["id"], [key, retry3]), 2)
        accounting(self, self.db, ev["id"])

    def test_refunds_are_at_the_price_paid_in_its_currency_and_only_the_type_bought_gets_tickets_back(self):
        ev = self.create(capacity=10, ticketTypes=[{"name": "Floor", "priceCents": 1500, "quota": 6},
                                                   {"name": "Balcony", "priceCents": 3000, "currency": "USD",
                                                    "quota": 8}])
        floor, balcony = ev["ticketTypes"]
        p = self.bought(ev["id"], 3, balcony["id"])
        f = self.bought(ev["id"], 2, floor["id"])
        self.assertEqual((p["unitPriceCents"], p["currency"], p["totalCents"]), (3000, "USD", 9000))
        e = self.get_event(ev["id"])
        self.assertEqual((e["ticketsSold"], e["ticketsAvailable"]), (5, 5))
        rid = "usd-" + tag()
        c = self.cancelled(p["id"], 2, request_id=rid)
        self.assertEqual((c["cancelledQuantity"], c["refundedCents"], c["currency"], c["totalCents"], c["status"]),
                         (2, 6000, "USD", 9000, "CONFIRMED"))
        e = self.get_event(ev["id"])
        types = {t["id"]: t for t in e["ticketTypes"]}
        self.assertEqual((e["ticketsSold"], e["ticketsAvailable"]), (3, 7))
        self.assertEqual((types[balcony["id"]]["ticketsSold"], types[balcony["id"]]["ticketsAvailable"]), (1, 7))
        self.assertEqual((types[floor["id"]]["ticketsSold"], types[floor["id"]]["ticketsAvailable"]), (2, 4))
        self.assertEqual(self.client.get(f"/api/events/{ev['id']}/ticket-types/{balcony['id']}").json,
                         types[balcony["id"]])
        # a new price changes nothing for what was bought before
        r = self.client.put(f"/api/events/{ev['id']}/ticket-types/{balcony['id']}",
                            {"name": "Balcony", "priceCents": 9999, "currency": "USD", "quota": 8}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        rest = self.cancelled(p["id"])
        self.assertEqual((rest["cancelledQuantity"], rest["refundedCents"], rest["unitPriceCents"], rest["status"]),
                         (3, 9000, 3000, "CANCELLED"))
        self.assertEqual(self.cancelled(f["id"], 1)["refundedCents"], 1500)
        line = wait_for_log([self.service], "purchase.cancelled", lambda l: l.get("request_id") == rid)
        self.assertIsNotNone(line, "no purchase.cancelled log line")
        self.assertEqual((line.get("quantity"), line.get("refunded_cents"), line.get("currency")), (2, 6000, "USD"))
        accounting(self, self.db, ev["id"])
        assert_cancellations_notified(self, self.db, [self.service], ev["id"],
                                      {p["id"]: self.me["id"], f["id"]: self.me["id"]})

    def test_participants_and_my_purchases_show_the_tickets_net_of_cancellations(self):
        ev = self.create(capacity=20)
        other, other_p = self.api.user_token()
        a = self.bought(ev["id"], 2)
        b = self.bought(ev["id"], 3)
        o = self.bought(ev["id"], 1, token=other)
        self.cancelled(b["id"])
        self.cancelled(a["id"], 1)

        def listed():
            page = self.client.get(f"/api/events/{ev['id']}/participants", token=self.admin)
            self.assertEqual(page.status, 200, page)
            return [(i["participant"]["id"], i["ticketsPurchased"]) for i in page.json["items"]]
        self.assertEqual(listed(), sorted([(self.me["id"], 1), (other_p["id"], 1)]))
        self.cancelled(o["id"], token=other)
        # a participant whose purchases were all cancelled stays listed, with 0
        self.assertEqual(listed(), sorted([(self.me["id"], 1), (other_p["id"], 0)]))
        mine = self.client.get("/api/me/purchases?size=100", token=self.user).json
        self.assertEqual([(p["id"], p["quantity"], p["cancelledQuantity"], p["status"]) for p in mine["items"]],
                         [(b["id"], 3, 3, "CANCELLED"), (a["id"], 2, 1, "CONFIRMED")])
        for p in mine["items"]:
            self.assertEqual(set(p), PURCHASE_KEYS)
            self.assertEqual(self.get_purchase(p["id"]), p)
            self.assertEqual(p["refundedCents"], p["cancelledQuantity"] * PRICE)
        self.assertEqual(self.client.get("/api/me/purchases", token=other).json["items"][0]["status"], "CANCELLED")
        e = self.get_event(ev["id"])
        self.assertEqual((e["ticketsSold"], e["ticketsAvailable"]), (1, 19))
        accounting(self, self.db, ev["id"])

    def test_cancelled_tickets_give_the_buyer_limit_back(self):
        ev = self.create(capacity=20, maxPerBuyer=4)
        p = self.bought(ev["id"], 4)
        self.assertEqual(self.assertProblem(buy(self.service.port, self.user, ev["id"], 1), 409,
                                            "buyer-limit")["ticketsAllowed"], 0)
        self.cancelled(p["id"], 2)
        self.assertEqual(self.assertProblem(buy(self.service.port, self.user, ev["id"], 3), 409,
                                            "buyer-limit")["ticketsAllowed"], 2)
        self.bought(ev["id"], 1)
        r = self.client.post(f"/api/events/{ev['id']}/holds", {"quantity": 1}, token=self.user)
        self.assertEqual(r.status, 201, r)  # 2 left + 1 bought + 1 held = 4
        self.assertEqual(self.assertProblem(buy(self.service.port, self.user, ev["id"], 1), 409,
                                            "buyer-limit")["ticketsAllowed"], 0)
        self.cancelled(p["id"])  # the 2 left of the first purchase
        self.bought(ev["id"], 2)
        self.assertProblem(buy(self.service.port, self.user, ev["id"], 1), 409, "buyer-limit")
        net = self.db.scalar("SELECT sum(quantity - cancelled_quantity) FROM purchases WHERE event_id = %s "
                             "AND participant_id = %s", ev["id"], self.me["id"])
        self.assertEqual(net, 3)
        accounting(self, self.db, ev["id"])

    def test_an_event_or_type_whose_sales_were_all_cancelled_is_still_not_deleted(self):
        ev = self.create(capacity=5)
        p = self.bought(ev["id"], 2)
        self.cancelled(p["id"])
        self.assertEqual(self.figures(ev["id"])[0], 0)
        self.assertProblem(self.client.delete(f"/api/events/{ev['id']}", token=self.admin), 409)
        self.assertEqual(self.get_event(ev["id"])["id"], ev["id"])
        two = self.create(capacity=10, ticketTypes=[{"name": "A", "priceCents": 100, "quota": 5},
                                                    {"name": "B", "priceCents": 200, "quota": 5}])
        a, b = two["ticketTypes"]
        q = self.bought(two["id"], 1, a["id"])
        self.cancelled(q["id"])
        path = f"/api/events/{two['id']}/ticket-types/{a['id']}"
        self.assertProblem(self.client.delete(path, token=self.admin), 409)
        self.assertEqual(self.client.get(path).status, 200)
        self.assertEqual(self.client.delete(f"/api/events/{two['id']}/ticket-types/{b['id']}",
                                            token=self.admin).status, 204)  # never sold: deleted
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE id = ANY(%s)", [p["id"], q["id"]]), 2)
        # the capacity may go down to what is sold net of cancellations
        cap = self.api.create_event(capacity=5)  # General admission: its quota follows the capacity
        s = self.bought(cap["id"], 4)
        self.cancelled(s["id"], 3)
        body = {k: cap[k] for k in ("name", "venue", "startsAt")}
        r = self.client.put(f"/api/events/{cap['id']}", dict(body, capacity=1), token=self.admin)
        self.assertEqual((r.status, r.json and r.json.get("ticketsSold")), (200, 1), r)
        self.assertProblem(buy(self.service.port, self.user, cap["id"], 1), 409, "sold-out")
        accounting(self, self.db, cap["id"])


class CancellationLockPerRequestTest(CancellationTest):
    service_args = CancellationTest.service_args + ("--purchase.mode", "lock-per-request")


class CutoffTimingTest(CancelCase):
    """purchase.cancel-cutoff 2s: the owner until 2 s before startsAt, an ADMIN until startsAt,
    watched across both moments on one event; key replays come before the cut-off."""

    CUTOFF = 2.0
    service_args = ("--purchase.cancel-cutoff", "2s", "--log.format", "json")

    def wait_past(self, moment):
        """Polls the clock until `moment` (epoch seconds) plus slack has passed."""
        self.assertTrue(wait_until(lambda: time.time() > moment + SLACK, timeout=max(1, moment - time.time() + 5),
                                   interval=0.02))

    def test_the_owner_until_the_cutoff_an_admin_until_the_start_then_cancellation_closed(self):
        ev = self.create(capacity=10, startsAt=iso_in(seconds=7))
        starts = ts(ev["startsAt"])
        p1, p2, p3 = self.bought(ev["id"], 3), self.bought(ev["id"], 2), self.bought(ev["id"], 1)
        key = "early-" + tag()
        first = self.cancelled(p1["id"], 1, key=key)
        self.assertLess(time.time(), starts - self.CUTOFF - SLACK, "the set-up took longer than the test allows")
        self.assertEqual(self.cancelled(p3["id"], 1)["status"], "CANCELLED")  # before the cut-off: the owner may

        self.wait_past(starts - self.CUTOFF)
        self.assertLess(time.time(), starts - SLACK, "too late for the ADMIN part of the test")
        with self.unchanged(ev["id"]):
            self.assertProblem(self.cancel(p1["id"]), 409, "cancellation-closed")
            self.assertProblem(self.cancel(p1["id"], 99), 409, "cancellation-closed")
            self.assertProblem(self.cancel(p3["id"]), 409, "cancellation-closed")  # before already-cancelled
            # the key first: a replay answers, a mismatch is 422
            again = self.cancel(p1["id"], 1, key=key)
            self.assertEqual((again.status, replayed(again), again.json), (200, True, first), again)
            self.assertProblem(self.cancel(p1["id"], 2, key=key), 422, "idempotency-key-reused")
        c = self.cancelled(p2["id"], token=self.admin)
        self.assertEqual(c["status"], "CANCELLED")
        self.assertProblem(self.cancel(p2["id"]), 409, "cancellation-closed")
        self.assertProblem(self.cancel(p2["id"], token=self.admin), 409, "already-cancelled")
        self.assertEqual(self.figures(ev["id"])[0], 2)

        self.wait_past(starts)
        with self.unchanged(ev["id"]):
            self.assertProblem(self.cancel(p1["id"], 1, token=self.admin), 409, "cancellation-closed")
            self.assertProblem(self.cancel(p1["id"], token=self.admin), 409, "cancellation-closed")
            self.assertProblem(self.cancel(p1["id"], 99, token=self.admin), 409, "cancellation-closed")
            self.assertProblem(self.cancel(p2["id"], token=self.admin), 409, "cancellation-closed")
            self.assertProblem(self.cancel(p1["id"]), 409, "cancellation-closed")
            again = self.cancel(p1["id"], 1, key=key)
            self.assertEqual((again.status, replayed(again), again.json), (200, True, first), again)
            self.assertProblem(buy(self.service.port, self.user, ev["id"], 1), 409, "sales-closed")
        self.assertEqual(self.get_purchase(p1["id"])["cancelledQuantity"], 1)
        self.assertEqual(accounting(self, self.db, ev["id"])["sold"], 2)

    def test_a_short_cutoff_lets_the_owner_cancel_shortly_before_the_start(self):
        ev = self.create(capacity=5, startsAt=iso_in(seconds=3600))
        p = self.bought(ev["id"], 2)
        self.assertEqual(self.cancelled(p["id"])["status"], "CANCELLED")


class CutoffFromEnvironmentTest(CancelCase):
    """EVENTHUB_PURCHASE_CANCEL_CUTOFF=1h."""

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        cls.service = Service(cls.db.url, env={"EVENTHUB_PURCHASE_CANCEL_CUTOFF": "1h"}).start()
        cls.client = cls.service.client()
        cls.api = Api(cls.client)
        cls.admin = cls.api.admin_token()
        cls.admin_id = cls.client.get("/api/me", token=cls.admin).json["id"]

    def test_the_cutoff_comes_from_the_environment(self):
        in_two_hours = self.create(capacity=5, startsAt=iso_in(seconds=2 * 3600))
        in_half_an_hour = self.create(capacity=5, startsAt=iso_in(seconds=1800))
        p = self.bought(in_two_hours["id"], 2)
        self.assertEqual(self.cancelled(p["id"])["status"], "CANCELLED")  # the default 24h would refuse it
        q = self.bought(in_half_an_hour["id"], 2)
        self.assertProblem(self.cancel(q["id"]), 409, "cancellation-closed")
        self.assertEqual(self.cancelled(q["id"], token=self.admin)["status"], "CANCELLED")


class CancellationWebhookTest(CancelCase):
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

    def test_each_cancellation_is_posted_with_its_own_figures(self):
        ev = self.create(capacity=10, ticketTypes=[{"name": "VIP", "priceCents": 4200, "currency": "USD",
                                                    "quota": 10}])
        p = self.bought(ev["id"], 4)
        r1, r2 = "hook-1-" + tag(), "hook-2-" + tag()
        self.cancelled(p["id"], 1, request_id=r1)
        self.cancelled(p["id"], token=self.admin, request_id=r2)
        replay_key = "hook-" + tag()
        q = self.bought(ev["id"], 1)
        self.cancelled(q["id"], key=replay_key, request_id="hook-3-" + replay_key)
        self.assertEqual(self.cancel(q["id"], key=replay_key).status, 200)

        def cancellations():
            return [(body, headers, raw) for body, headers, raw in self.receiver.received
                    if body.get("type") == "purchase.cancelled" and body["data"].get("eventId") == ev["id"]]
        # delivered: the outbox drained, one log line per cancellation (none for the replay)
        assert_cancellations_notified(self, self.db, [self.service], ev["id"],
                                      {p["id"]: self.me["id"], q["id"]: self.me["id"]})
        self.assertTrue(wait_until(lambda: len({b["data"].get("requestId") for b, _, _ in cancellations()}) >= 3,
                                   timeout=10), cancellations())
        for body, headers, raw in cancellations():
            self.assertTrue(webhook_signature_valid(self.receiver.secret, headers, raw), headers)
        got = {b["data"].get("requestId"): b["data"] for b, _, _ in cancellations()}
        fields = ("purchaseId", "eventId", "participantId", "quantity", "refundedCents", "currency", "requestId")
        self.assertEqual({rid: {k: b.get(k) for k in fields} for rid, b in got.items()}, {
            r1: {"purchaseId": p["id"], "eventId": ev["id"], "participantId": self.me["id"], "quantity": 1,
                 "refundedCents": 4200, "currency": "USD", "requestId": r1},
            r2: {"purchaseId": p["id"], "eventId": ev["id"], "participantId": self.me["id"], "quantity": 3,
                 "refundedCents": 12600, "currency": "USD", "requestId": r2},
            "hook-3-" + replay_key: {"purchaseId": q["id"], "eventId": ev["id"], "participantId": self.me["id"],
                                     "quantity": 1, "refundedCents": 4200, "currency": "USD",
                                     "requestId": "hook-3-" + replay_key}})


class CancelRaceMixin:
    """Races of cancels, each request on a connection of its own, several rounds."""

    rounds = 3
    buyers = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = make_users(cls.service.port, 20)
        cls.tokens = [t for t, _ in users]
        cls.participants = [p["id"] for _, p in users]

    def setUp(self):
        self.user, self.me = self.tokens[0], {"id": self.participants[0]}

    def fire(self, n, fn):
        results = concurrently(n, fn)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        return results

    def settled(self, ev, purchase, results, rids):
        """After a race on one purchase of 5: the event got exactly 5 back, the DB agrees, and the
        successful (not replayed) answers are the stored cancellations and their notifications."""
        self.assertEqual(self.figures(ev["id"]), (0, ev["capacity"], [(0, ev["capacity"])]))
        figures = accounting(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["cancelled"]), (0, 5), figures)
        won = sorted(rids[i] for i, r in enumerate(results) if r.status == 200 and not replayed(r))
        self.assertEqual(sorted(row[4] for row in cancellation_rows(self.db, purchase["id"])), won)
        self.assertEqual(self.get_purchase(purchase["id"], token=self.tokens[0])["status"], "CANCELLED")
        assert_cancellations_notified(self, self.db, [self.service], ev["id"], {purchase["id"]: self.participants[0]})

    def test_twenty_concurrent_full_cancels_without_a_key_have_exactly_one_winner(self):
        for n in range(self.rounds):
            ev = self.create(capacity=5)
            p = self.bought(ev["id"], 5, token=self.tokens[0])
            rids = [f"race-a1-{tag()}" for _ in range(20)]
            bodies = [ABSENT, {}, {"quantity": 5}]
            # the owner and the ADMIN at once
            results = self.fire(20, lambda i: cancel(self.service.port, self.admin if i % 5 == 4 else self.tokens[0],
                                                     p["id"], body=bodies[i % 3], request_id=rids[i]))
            statuses = [r.status for r in results]
            self.assertEqual((statuses.count(200), statuses.count(409)), (1, 19), summary(results))
            for r in results:
                if r.status == 409:
                    self.assertProblem(r, 409, "already-cancelled")
            [ok] = [r for r in results if r.status == 200]
            self.assertFalse(replayed(ok), ok)
            self.assertEqual(ok.json, dict(p, cancelledQuantity=5, refundedCents=5 * PRICE, status="CANCELLED"))
            self.settled(ev, p, results, rids)

    def test_twenty_concurrent_cancels_with_one_key_all_answer_200_and_cancel_once(self):
        for n in range(self.rounds):
            ev = self.create(capacity=5)
            p = self.bought(ev["id"], 5, token=self.tokens[0])
            key = f"same-{tag()}"
            rids = [f"race-b-{tag()}" for _ in range(20)]
            body = ABSENT if n % 2 == 0 else {"quantity": 5}
            results = self.fire(20, lambda i: cancel(self.service.port, self.tokens[0], p["id"], body=body,
                                                     key=key, request_id=rids[i]))
            self.assertEqual([r.status for r in results], [200] * 20, summary(results))
            self.assertEqual(sum(1 for r in results if not replayed(r)), 1, summary(results))
            expected = dict(p, cancelledQuantity=5, refundedCents=5 * PRICE, status="CANCELLED")
            for r in results:
                self.assertEqual(r.json, expected, r)
            rows = cancellation_rows(self.db, p["id"])
            self.assertEqual([(row[1], row[2]) for row in rows], [(key, 5)])
            self.settled(ev, p, results, rids)

    def test_twenty_concurrent_partial_cancels_free_exactly_what_was_bought(self):
        for n in range(self.rounds + 1):
            ev = self.create(capacity=5)
            p = self.bought(ev["id"], 5, token=self.tokens[0])
            rids = [f"race-c-{tag()}" for _ in range(20)]
            mixed = n % 2 == 1  # quantities 1 and 2, or all 1
            quantities = [1 + (i % 2 if mixed else 0) for i in range(20)]
            results = self.fire(20, lambda i: cancel(self.service.port, self.tokens[0], p["id"], quantities[i],
                                                     request_id=rids[i]))
            ok = [(quantities[i], r) for i, r in enumerate(results) if r.status == 200]
            for i, r in enumerate(results):
                if r.status == 409:
                    self.assertProblem(r, 409, "already-cancelled")
                elif r.status == 422:
                    self.assertTrue(mixed and quantities[i] == 2, r)  # 2 asked, 1 left
                    self.assertFieldError(r, 422, "quantity")
                else:
                    self.assertEqual(r.status, 200, r)
                    self.assertFalse(replayed(r), r)
            self.assertEqual(sum(q for q, _ in ok), 5, [(q, r.json["cancelledQuantity"]) for q, r in ok])
            if not mixed:
                self.assertEqual(len(ok), 5)
            # serialized: each answer shows the running total after its own cancellation
            ok.sort(key=lambda a: a[1].json["cancelledQuantity"])
            running = 0
            for q, r in ok:
                running += q
                self.assertEqual((r.json["cancelledQuantity"], r.json["refundedCents"]), (running, running * PRICE), r)
                self.assertEqual(r.json["status"], "CANCELLED" if running == 5 else "CONFIRMED", r)
            self.assertEqual(sorted(row[2] for row in cancellation_rows(self.db, p["id"])), sorted(q for q, _ in ok))
            self.settled(ev, p, results, rids)

    def test_cancels_racing_buyers_for_the_last_tickets_never_oversell(self):
        port = self.service.port
        for n in range(self.rounds):
            capacity = 12
            ev = self.create(capacity=capacity)
            p1 = self.bought(ev["id"], 3, token=self.tokens[0])
            p2 = self.bought(ev["id"], 2, token=self.tokens[1])
            for i in range(7):
                self.bought(ev["id"], 1, token=self.tokens[2 + i])
            self.assertEqual(self.figures(ev["id"])[:2], (12, 0))
            k = 3 + 1  # p1 whole, one of p2
            ops = ([lambda: cancel(port, self.tokens[0], p1["id"]),
                    lambda: cancel(port, self.tokens[1], p2["id"], 1)] +
                   [lambda i=i: buy(port, self.tokens[i % len(self.tokens)], ev["id"], 1)
                    for i in range(self.buyers)])
            if n % 2:  # the cancels last in the list, in case start order matters
                ops = ops[2:] + ops[:2]
            results = self.fire(len(ops), lambda i: ops[i]())
            cancels = results[:2] if n % 2 == 0 else results[-2:]
            purchases = results[2:] if n % 2 == 0 else results[:-2]
            self.assertEqual([r.status for r in cancels], [200, 200], cancels)
            for r in purchases:
                self.assertIn(r.status, (201, 409), r)
                if r.status == 409:
                    self.assertProblem(r, 409, "sold-out")
            won = [r.json["id"] for r in purchases if r.status == 201]
            self.assertLessEqual(len(won), k, won)
            self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE id = ANY(%s)", won), len(won))
            figures = accounting(self, self.db, ev["id"])
            self.assertEqual(figures["sold"], capacity - k + len(won), figures)
            self.assertLessEqual(figures["sold"], capacity, figures)
            e = self.get_event(ev["id"])
            self.assertEqual((e["ticketsSold"], e["ticketsAvailable"]), (figures["sold"], capacity - figures["sold"]))
            # no freed ticket lost: what is left is sold now, and then nothing more
            left = capacity - figures["sold"]
            if left:
                self.bought(ev["id"], left, token=self.tokens[-1])
            self.assertProblem(buy(port, self.tokens[-1], ev["id"], 1), 409, "sold-out")
            self.assertEqual(accounting(self, self.db, ev["id"])["sold"], capacity)
            assert_cancellations_notified(self, self.db, [self.service], ev["id"],
                                          {p1["id"]: self.participants[0], p2["id"]: self.participants[1]})


class ActorModeCancelRaceTest(CancelRaceMixin, CancelCase):
    service_args = ("--db.pool-size", "4", "--log.format", "json", "--notify.sweep-interval", "200ms")


class LockPerRequestModeCancelRaceTest(CancelRaceMixin, CancelCase):
    service_args = ("--purchase.mode", "lock-per-request", "--db.pool-size", "8", "--log.format", "json",
                    "--notify.sweep-interval", "200ms")


if __name__ == "__main__":
    unittest.main()
