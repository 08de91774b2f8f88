"""The waitlist with two processes on one PostgreSQL: a two-node cluster (each event owned by one
node, the other forwarding to it), and two independent processes in lock-per-request mode and in
actor mode. An entry joined through one process is offered the tickets that a cancellation
through the other frees, exactly once, ahead of an entry joined later through the first; its
leaving passes them on exactly once; figures agree on both. A hold expires after the process that
served its event was killed with kill -9 (freeing and offering share one transaction, so this is
the kill "between freeing and offering"): the survivor offers its ticket to the waiting entry
within 2 s of expiresAt, exactly once, and restarting the killed process, which then serves the
event again, makes no second offer."""
import time
import unittest

from harness import Api, ServiceTestCase, TestDatabase
from test_cancellation import cancel
from test_cancellation_cluster import TwoProcessesMixin as TwoProcesses, call
from test_cluster import Cluster, owner_of
from test_holds import STORED_WITHIN, hold, make_users, ts
from test_purchases import buy, wait_until
from test_waitlist import DEFAULT_OFFER_TTL, ENTRY_KEYS, holds_of, join, leave, ledger, offered_log_line

SETTINGS = ("--hold.ttl", "5s", "--hold.sweep-interval", "200ms", "--notify.sweep-interval", "200ms",
            "--notify.redelivery-delay", "1s")
QUIET = 2.0  # seconds watched (ten sweeps) for an offer that must not be made


class TwoProcessesWaitlistMixin:
    """The tests; a class below starts the two processes (self.a, self.b, self.nodes)."""

    assertProblem = ServiceTestCase.assertProblem

    @classmethod
    def prepare(cls):
        cls.api = Api(cls.a.client())
        cls.admin = cls.api.admin_token()
        users = make_users(cls.a.port, 10)
        cls.tokens = [t for t, _ in users]
        cls.participants = [p["id"] for _, p in users]

    def create(self, capacity, n):
        """An event; on a cluster, owned by node n (rendezvous hashing)."""
        names = getattr(self, "names", None)
        for _ in range(60):
            e = self.api.create_event(capacity=capacity)
            if not names or owner_of(e["id"], names) == names[n]:
                return e
        self.fail(f"rendezvous hashing gave node {n} no event of 60")

    def answered(self, node, method, path, body=None, token=None, timeout=10):
        """A request through a node, again while it answers 503 (a cluster noticing a dead member)."""
        deadline = time.time() + timeout
        while True:
            r = call(node, method, path, body, token)
            if r.status != 503 or time.time() > deadline:
                return r
            time.sleep(0.1)

    def entry(self, node, token, entry_id):
        r = self.answered(node, "GET", f"/api/waitlist/{entry_id}", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), ENTRY_KEYS, r)
        return r.json

    def figures(self, node, event_id):
        r = self.answered(node, "GET", f"/api/events/{event_id}")
        self.assertEqual(r.status, 200, r)
        return r.json["ticketsSold"], r.json["ticketsHeld"], r.json["ticketsAvailable"]

    def joined(self, node, token, event_id, quantity=1):
        r = join(node.port, token, event_id, quantity)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["status"], r.json["holdId"]), ("WAITING", None), r)
        return r.json

    def wait_offered(self, event_id, participant_id, deadline):
        """Polls PostgreSQL (only) until the participant has a hold of the event; its id or None."""
        while True:
            rows = holds_of(self.db, event_id, participant_id)
            if rows or time.time() > deadline:
                return rows[0][0] if rows else None
            time.sleep(0.05)

    def test_1_an_entry_joined_through_one_process_is_offered_what_a_cancel_through_the_other_frees_once(self):
        seller, first, second, buyer = self.tokens[:4]
        first_id, second_id = self.participants[1], self.participants[2]
        for n in range(2):
            ev = self.create(2, n)
            r = buy(self.a.port, seller, ev["id"], 2)
            self.assertEqual(r.status, 201, r)
            p = r.json
            e1 = self.joined(self.b, first, ev["id"])
            e2 = self.joined(self.a, second, ev["id"])
            self.assertEqual((e1["position"], e2["position"]), (1, 2))
            for node in self.nodes:
                self.assertEqual(self.figures(node, ev["id"]), (2, 0, 0))

            c = cancel(self.a.port, seller, p["id"], 1)
            self.assertEqual(c.status, 200, c)
            offered = self.entry(self.b, first, e1["id"])
            self.assertEqual((offered["status"], offered["position"]), ("OFFERED", None), offered)
            self.assertEqual(holds_of(self.db, ev["id"], first_id), [(offered["holdId"], 1, "HELD")])
            self.assertEqual(holds_of(self.db, ev["id"], second_id), [])
            for node in self.nodes:  # at once, the same on both
                self.assertEqual(self.entry(node, first, e1["id"]), offered)
                self.assertEqual(self.entry(node, second, e2["id"])["position"], 1)
                self.assertEqual(self.figures(node, ev["id"]), (1, 1, 0))
            h = self.answered(self.a, "GET", f"/api/holds/{offered['holdId']}", token=first).json
            self.assertEqual((h["status"], h["participantId"], h["quantity"]), ("HELD", first_id, 1), h)
            self.assertAlmostEqual(ts(h["expiresAt"]) - ts(h["createdAt"]), DEFAULT_OFFER_TTL, delta=2)
            self.assertProblem(buy(self.b.port, buyer, ev["id"], 1), 409, "sold-out")

            # leaving through the other process passes the ticket on, once
            self.assertEqual(leave(self.b.port, first, e1["id"]).status, 204)
            self.assertEqual(self.entry(self.a, first, e1["id"]), dict(offered, status="LEFT"))
            self.assertEqual(holds_of(self.db, ev["id"], first_id), [(offered["holdId"], 1, "RELEASED")])
            passed = self.entry(self.a, second, e2["id"])
            self.assertEqual(passed["status"], "OFFERED", passed)
            self.assertEqual(holds_of(self.db, ev["id"], second_id), [(passed["holdId"], 1, "HELD")])
            for node in self.nodes:
                self.assertEqual(self.entry(node, second, e2["id"]), passed)
                self.assertEqual(self.figures(node, ev["id"]), (1, 1, 0))
            r = call(self.b, "POST", f"/api/holds/{passed['holdId']}/confirm", token=second)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(self.entry(self.a, second, e2["id"])["status"], "CONFIRMED")
            for node in self.nodes:
                self.assertEqual(self.figures(node, ev["id"]), (2, 0, 0))
            figures = ledger(self, self.db, ev["id"])
            self.assertEqual((figures["sold"], figures["held"]), (2, 0))

    def test_2_a_hold_expiring_after_its_process_was_killed_is_offered_by_the_survivor_exactly_once(self):
        victim, survivor = self.b, self.a
        holder, waiter, buyer = self.tokens[4:7]
        waiter_id = self.participants[5]
        ev = self.create(1, 1)  # on a cluster, the victim owns it
        r = hold(victim.port, holder, ev["id"], 1)
        self.assertEqual(r.status, 201, r)
        h = r.json
        exp = ts(h["expiresAt"])
        e = self.joined(victim, waiter, ev["id"])
        victim.kill()
        try:
            self.assertLess(time.time(), exp - 1, "the set-up took longer than the test allows")
            self.assertEqual(holds_of(self.db, ev["id"], waiter_id), [])
            offer = self.wait_offered(ev["id"], waiter_id, exp + STORED_WITHIN + 0.1)
            self.assertIsNotNone(offer, f"no offer within {STORED_WITHIN}s of expiresAt after the kill")
            self.assertEqual(self.db.scalar("SELECT status FROM holds WHERE id = %s", h["id"]), "EXPIRED")
            offered = self.entry(survivor, waiter, e["id"])
            self.assertEqual(offered, dict(e, status="OFFERED", position=None, holdId=offer))
            self.assertEqual(self.figures(survivor, ev["id"]), (0, 1, 0))
            self.assertIsNotNone(offered_log_line([survivor], offered), "no waitlist.offered log line on the survivor")
        finally:
            if victim.proc.poll() is not None:
                victim.start()
        self.restarted()

        # the restarted process serves the event again: its requests must not offer it twice
        for node in self.nodes:
            self.assertEqual(self.entry(node, waiter, e["id"]), offered)
            self.assertEqual(self.figures(node, ev["id"]), (0, 1, 0))
        self.assertProblem(self.answered(victim, "POST", f"/api/events/{ev['id']}/purchases", {"quantity": 1},
                                         token=buyer), 409, "sold-out")
        self.assertProblem(self.answered(victim, "POST", f"/api/events/{ev['id']}/holds", {"quantity": 1},
                                         token=buyer), 409, "sold-out")
        deadline = time.time() + QUIET
        while time.time() < deadline:
            self.assertEqual(holds_of(self.db, ev["id"], waiter_id), [(offer, 1, "HELD")])
            time.sleep(0.1)
        r = self.answered(victim, "POST", f"/api/holds/{offer}/confirm", token=waiter)
        self.assertEqual(r.status, 201, r)
        for node in self.nodes:
            self.assertEqual(self.entry(node, waiter, e["id"])["status"], "CONFIRMED")
            self.assertEqual(self.figures(node, ev["id"]), (1, 0, 0))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = %s", ev["id"]), 2)
        figures = ledger(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["held"]), (1, 0))


class ClusterWaitlistTest(TwoProcessesWaitlistMixin, unittest.TestCase):
    """Two joined cluster nodes: each event has one owner; the other forwards to it."""

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        cls.cluster = Cluster(cls.db, size=2, extra=("--cluster.forward-timeout", "700ms", *SETTINGS))
        cls.nodes = cls.cluster.nodes
        cls.a, cls.b = cls.nodes
        cls.names = cls.cluster.names
        cls.prepare()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()
        cls.db.drop()

    def restarted(self):
        self.cluster.wait_members(self.nodes, 2, timeout=30)


class TwoProcessesMixin(TwoProcesses):
    settings = SETTINGS

    def restarted(self):
        self.assertTrue(wait_until(lambda: call(self.b, "GET", "/actuator/health").status == 200, timeout=30))


class TwoProcessesLockPerRequestWaitlistTest(TwoProcessesMixin, TwoProcessesWaitlistMixin, unittest.TestCase):
    mode = "lock-per-request"


class TwoProcessesActorModeWaitlistTest(TwoProcessesMixin, TwoProcessesWaitlistMixin, unittest.TestCase):
    mode = "actor"


if __name__ == "__main__":
    unittest.main()
