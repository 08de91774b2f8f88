"""Cancellation with two processes on one PostgreSQL: two cluster nodes (joined, each event owned by
one of them and requests forwarded to it), and two independent processes in lock-per-request mode
and in actor mode. Purchases made through one process are cancelled through the other; 20
concurrent cancels of one purchase split across both (without a key, with one key, in parts) free
its tickets exactly once; cancels racing buyers of the last tickets on both never oversell."""
import time
import unittest
import uuid

from harness import Api, Service, ServiceTestCase, TestDatabase
from test_cancellation import (PRICE, ABSENT, accounting, assert_cancellations_notified, buy, cancel,
                               cancellation_rows, replayed, summary, tag)
from test_cluster import Cluster, owner_of
from test_holds import PURCHASE_KEYS, make_users
from test_purchases import concurrently

NOTIFY = ("--notify.sweep-interval", "200ms", "--notify.redelivery-delay", "1s")


def call(node, method, path, body=None, token=None, headers=None):
    """One request through a node, on a connection of its own."""
    c = node.client()
    try:
        return c.request(method, path, body=body, token=token, headers=headers)
    finally:
        c.close()


class TwoProcessesCancelMixin:
    """The tests; a class below starts the two processes (self.a, self.b, self.nodes)."""

    rounds = 3
    assertProblem = ServiceTestCase.assertProblem

    @classmethod
    def prepare(cls):
        cls.api = Api(cls.a.client())
        cls.admin = cls.api.admin_token()
        users = make_users(cls.a.port, 20)
        cls.tokens = [t for t, _ in users]
        cls.participants = [p["id"] for _, p in users]

    def create(self, capacity, n=0):
        """An event with one priced type; on a cluster, owned by node n % 2 (rendezvous hashing),
        so that the rounds exercise both owners."""
        for _ in range(60):
            e = self.api.create_event(capacity=capacity, ticketTypes=[{"name": "Standard", "priceCents": PRICE,
                                                                       "quota": capacity}])
            names = getattr(self, "names", None)
            if not names or owner_of(e["id"], names) == names[n % 2]:
                return e
        self.fail("rendezvous hashing gave one node no event of 60")

    def bought(self, node, token, event_id, quantity):
        r = buy(node.port, token, event_id, quantity)
        self.assertEqual(r.status, 201, r)
        return r.json

    def bought_eventually(self, node, token, event_id, quantity):
        """Two unclustered processes in actor mode each keep a memo of the event's figures: tickets
        the other process freed may be refused as sold out from it until it is read again (at the
        latest after 10 s, event_actor.cpp memo_ttl; never an oversale). A cluster routes every
        command to the event's one owner, and lock-per-request keeps no memo: there it is at once."""
        deadline = time.monotonic() + (12 if getattr(self, "mode", None) == "actor" else 0)
        while True:
            r = buy(node.port, token, event_id, quantity)
            if r.status == 201 or time.monotonic() >= deadline:
                self.assertEqual(r.status, 201, r)
                return r.json
            self.assertProblem(r, 409, "sold-out")
            time.sleep(0.2)

    def figures(self, node, event_id):
        r = call(node, "GET", f"/api/events/{event_id}")
        self.assertEqual(r.status, 200, r)
        e = r.json
        return e["ticketsSold"], e["ticketsAvailable"], [(t["ticketsSold"], t["ticketsAvailable"])
                                                          for t in e["ticketTypes"]]

    def fire(self, n, fn):
        results = concurrently(n, fn)
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        return results

    def settled(self, ev, p, results, rids):
        """The purchase of 5 is cancelled once: every process shows the 5 back, the DB agrees, and
        the stored cancellations are those answered (not replayed), each notified on some process."""
        for node in self.nodes:
            self.assertEqual(self.figures(node, ev["id"]), (0, ev["capacity"], [(0, ev["capacity"])]))
        figures = accounting(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["cancelled"]), (0, 5), figures)
        won = sorted(rids[i] for i, r in enumerate(results) if r.status == 200 and not replayed(r))
        self.assertEqual(sorted(row[4] for row in cancellation_rows(self.db, p["id"])), won)
        for node in self.nodes:
            got = call(node, "GET", f"/api/purchases/{p['id']}", token=self.tokens[0])
            self.assertEqual((got.status, got.json["cancelledQuantity"], got.json["status"]), (200, 5, "CANCELLED"))
        assert_cancellations_notified(self, self.db, self.nodes, ev["id"], {p["id"]: self.participants[0]})

    def test_1_a_purchase_made_through_one_process_is_cancelled_and_replayed_through_the_other(self):
        token, me = self.tokens[0], self.participants[0]
        for n in range(2):
            ev = self.create(6, n)
            p = self.bought(self.a, token, ev["id"], 4)
            r = cancel(self.b.port, token, p["id"], 1)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, dict(p, cancelledQuantity=1, refundedCents=PRICE))
            self.assertEqual(set(r.json), PURCHASE_KEYS)
            for node in self.nodes:  # at once, on both
                self.assertEqual(self.figures(node, ev["id"]), (3, 3, [(3, 3)]))
                self.assertEqual(call(node, "GET", f"/api/purchases/{p['id']}", token=token).json, r.json)
            key = "across-" + tag()
            k = cancel(self.a.port, token, p["id"], 2, key=key)
            self.assertEqual((k.status, k.json["cancelledQuantity"]), (200, 3), k)
            again = cancel(self.b.port, token, p["id"], 2, key=key)
            self.assertEqual((again.status, replayed(again), again.json), (200, True, k.json), again)
            self.assertProblem(cancel(self.b.port, token, p["id"], 1, key=key), 422, "idempotency-key-reused")
            self.assertProblem(cancel(self.a.port, token, p["id"], 2), 422)  # 1 left
            admin = cancel(self.b.port, self.admin, p["id"])
            self.assertEqual((admin.status, admin.json["status"], admin.json["refundedCents"]),
                             (200, "CANCELLED", 4 * PRICE), admin)
            self.assertProblem(cancel(self.a.port, token, p["id"]), 409, "already-cancelled")
            self.assertProblem(cancel(self.a.port, self.tokens[1], p["id"]), 404)
            for node in self.nodes:
                self.assertEqual(self.figures(node, ev["id"]), (0, 6, [(0, 6)]))
            # the freed tickets are sold again, through either process, and no more
            self.bought(self.b, self.tokens[1], ev["id"], 3)
            self.bought(self.a, self.tokens[2], ev["id"], 3)
            self.assertProblem(buy(self.b.port, self.tokens[3], ev["id"], 1), 409, "sold-out")
            self.assertEqual(accounting(self, self.db, ev["id"])["sold"], 6)
            assert_cancellations_notified(self, self.db, self.nodes, ev["id"], {p["id"]: me})

    def test_2_twenty_concurrent_cancels_on_both_processes_without_a_key_have_one_winner(self):
        for n in range(self.rounds):
            ev = self.create(5, n)
            p = self.bought(self.a, self.tokens[0], ev["id"], 5)
            rids = [f"split-a-{tag()}" for _ in range(20)]
            bodies = [ABSENT, {}, {"quantity": 5}]
            results = self.fire(20, lambda i: cancel(self.nodes[i % 2].port, self.tokens[0], p["id"],
                                                     body=bodies[i % 3], request_id=rids[i]))
            statuses = [r.status for r in results]
            self.assertEqual((statuses.count(200), statuses.count(409)), (1, 19), summary(results))
            for r in results:
                if r.status == 409:
                    self.assertProblem(r, 409, "already-cancelled")
            [ok] = [r for r in results if r.status == 200]
            self.assertFalse(replayed(ok), ok)
            self.assertEqual(ok.json, dict(p, cancelledQuantity=5, refundedCents=5 * PRICE, status="CANCELLED"))
            self.settled(ev, p, results, rids)

    def test_3_twenty_concurrent_cancels_on_both_processes_with_one_key_all_answer_and_cancel_once(self):
        for n in range(self.rounds):
            ev = self.create(5, n)
            p = self.bought(self.a, self.tokens[0], ev["id"], 5)
            key = "split-" + tag()
            rids = [f"split-b-{tag()}" for _ in range(20)]
            body = ABSENT if n % 2 == 0 else {"quantity": 5}
            results = self.fire(20, lambda i: cancel(self.nodes[i % 2].port, self.tokens[0], p["id"], body=body,
                                                     key=key, request_id=rids[i]))
            self.assertEqual([r.status for r in results], [200] * 20, summary(results))
            self.assertEqual(sum(1 for r in results if not replayed(r)), 1, summary(results))
            expected = dict(p, cancelledQuantity=5, refundedCents=5 * PRICE, status="CANCELLED")
            for r in results:
                self.assertEqual(r.json, expected, r)
            self.assertEqual([(row[1], row[2]) for row in cancellation_rows(self.db, p["id"])], [(key, 5)])
            self.settled(ev, p, results, rids)

    def test_4_twenty_concurrent_partial_cancels_on_both_processes_free_exactly_what_was_bought(self):
        for n in range(self.rounds):
            ev = self.create(5, n)
            p = self.bought(self.a, self.tokens[0], ev["id"], 5)
            rids = [f"split-c-{tag()}" for _ in range(20)]
            results = self.fire(20, lambda i: cancel(self.nodes[i % 2].port, self.tokens[0], p["id"], 1,
                                                     request_id=rids[i]))
            ok = [r for r in results if r.status == 200]
            self.assertEqual(len(ok), 5, summary(results))
            for r in results:
                if r.status != 200:
                    self.assertProblem(r, 409, "already-cancelled")
            self.assertEqual(sorted(r.json["cancelledQuantity"] for r in ok), [1, 2, 3, 4, 5])
            self.settled(ev, p, results, rids)

    def test_5_cancels_racing_buyers_of_the_last_tickets_on_both_processes_never_oversell(self):
        for n in range(self.rounds):
            capacity = 12
            ev = self.create(capacity, n)
            p1 = self.bought(self.a, self.tokens[0], ev["id"], 3)
            p2 = self.bought(self.a, self.tokens[1], ev["id"], 2)
            for i in range(7):
                self.bought(self.nodes[i % 2], self.tokens[2 + i], ev["id"], 1)
            k = 3 + 1
            ops = ([lambda: cancel(self.b.port, self.tokens[0], p1["id"]),
                    lambda: cancel(self.a.port, self.tokens[1], p2["id"], 1)] +
                   [lambda i=i: buy(self.nodes[i % 2].port, self.tokens[i % len(self.tokens)], ev["id"], 1)
                    for i in range(40)])
            results = self.fire(len(ops), lambda i: ops[i]())
            cancels, purchases = results[:2], results[2:]
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
            for node in self.nodes:
                self.assertEqual(self.figures(node, ev["id"])[:2], (figures["sold"], capacity - figures["sold"]))
            left = capacity - figures["sold"]
            if left:
                self.bought_eventually(self.b, self.tokens[-1], ev["id"], left)
            self.assertProblem(buy(self.a.port, self.tokens[-1], ev["id"], 1), 409, "sold-out")
            self.assertEqual(accounting(self, self.db, ev["id"])["sold"], capacity)
            assert_cancellations_notified(self, self.db, self.nodes, ev["id"],
                                          {p1["id"]: self.participants[0], p2["id"]: self.participants[1]})


class ClusterCancellationTest(TwoProcessesCancelMixin, unittest.TestCase):
    """Two joined cluster nodes: each event has one owner; the other forwards to it."""

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        cls.cluster = Cluster(cls.db, size=2, extra=("--cluster.forward-timeout", "700ms", *NOTIFY))
        cls.nodes = cls.cluster.nodes
        cls.a, cls.b = cls.nodes
        cls.names = cls.cluster.names
        cls.prepare()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()
        cls.db.drop()


class TwoProcessesMixin:
    """Starts two independent processes on one database (self.a, self.b, self.nodes) in `mode`, with
    `settings` added to their command lines."""
    mode = "actor"
    settings = NOTIFY

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        secret = uuid.uuid4().hex * 2
        cls.nodes = [Service(cls.db.url, "--purchase.mode", cls.mode, "--db.pool-size", "4", "--log.format", "json",
                             *cls.settings, secret=secret, name=f"{cls.mode}-{i}") for i in range(2)]
        for s in cls.nodes:
            s.start()
        cls.a, cls.b = cls.nodes
        cls.prepare()

    @classmethod
    def tearDownClass(cls):
        codes = [s.stop() for s in cls.nodes]
        cls.db.drop()
        if any(c not in (0, None) for c in codes):
            raise AssertionError(f"eventhub exited with {codes}:\n" + "\n".join(s.crash_report() for s in cls.nodes))


class TwoProcessesLockPerRequestTest(TwoProcessesMixin, TwoProcessesCancelMixin, unittest.TestCase):
    mode = "lock-per-request"


class TwoProcessesActorModeTest(TwoProcessesMixin, TwoProcessesCancelMixin, unittest.TestCase):
    mode = "actor"


if __name__ == "__main__":
    unittest.main()
