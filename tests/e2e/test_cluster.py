"""Cluster: three node processes on loopback sharing one PostgreSQL. Ownership by rendezvous
hashing, forwarding, broadcast invalidation, failure detection (kill -9, SIGSTOP), rejoin."""
import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from harness import Api, Client, Service, TestDatabase, free_port, metric
from test_purchases import assert_confirmations_delivered, buy, concurrently, consistency, wait_until

MASK = (1 << 64) - 1


def fnv1a(s):
    h = 1469598103934665603
    for b in s.encode():
        h = ((h ^ b) * 1099511628211) & MASK
    return h


def mix(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def owner_of(event_id, members):
    """domain/ownership.cpp, independently: the test checks the documented rule, not a copy."""
    return max(members, key=lambda m: (mix(fnv1a(m) ^ mix(event_id)), [-ord(c) for c in m]))


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class ClusterCA:
    """A cluster CA and node certificates made by scripts/cluster-certs in a scratch directory,
    removed when the test process exits."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="eventhub-cluster-ca-")
        atexit.register(shutil.rmtree, self.dir, True)
        self.issued = set()

    def args(self, node):
        """The cluster.tls-* arguments of a node with its own certificate of this CA."""
        if node not in self.issued:
            subprocess.run([os.path.join(ROOT, "scripts", "cluster-certs"), self.dir, node], check=True,
                           capture_output=True)
            self.issued.add(node)
        return ("--cluster.tls-ca", os.path.join(self.dir, "ca.pem"),
                "--cluster.tls-certificate", os.path.join(self.dir, f"{node}.pem"),
                "--cluster.tls-key", os.path.join(self.dir, f"{node}.key"))


_cluster_ca = None


def cluster_ca():
    """The CA every test cluster of this process uses (one key generation per process)."""
    global _cluster_ca
    if _cluster_ca is None:
        _cluster_ca = ClusterCA()
    return _cluster_ca


class Cluster:
    """Nodes with mutual TLS from cluster_ca(), as in production (cluster.tls-*)."""

    def __init__(self, db, size=3, extra=()):
        self.db = db
        self.secret = uuid.uuid4().hex * 2
        self.extra = extra
        for attempt in range(5):  # a chosen port may be taken meanwhile: pick again
            self.ports = [free_port() for _ in range(size)]
            self.names = [f"127.0.0.1:{p}" for p in self.ports]
            self.nodes = [self.make(i) for i in range(size)]
            try:
                for n in self.nodes:
                    n.start(wait=False)
                for n in self.nodes:
                    n.wait_ready()
                break
            except AssertionError:
                self.stop()
                if attempt == 4:
                    raise
        self.wait_members(self.nodes, size)

    def make(self, i):
        return Service(self.db.url, "--cluster.port", str(self.ports[i]), "--cluster.host", "127.0.0.1",
                       "--cluster.seeds", ",".join(self.names), "--cluster.heartbeat-interval", "200ms",
                       "--cluster.connection-timeout", "1500ms", "--log.format", "json", *self.slow_build(),
                       *cluster_ca().args(f"node{i}"), *self.extra,
                       secret=self.secret, name=f"node{i}")

    @staticmethod
    def slow_build():
        """Under ThreadSanitizer three nodes on two cores run several times slower: 180 purchases
        at once can outwait the default 10 s answer deadline, which is not what these tests test."""
        return ("--http.request-timeout", "30s") if os.environ.get("TSAN_OPTIONS") else ()

    def view(self, node):
        r = node.client().get("/actuator/health")
        return {m["node"]: m["status"] for m in r.json["components"]["cluster"]["details"]["members"]}

    def wait_members(self, nodes, up, timeout=20):
        ok = wait_until(lambda: all(list(self.view(n).values()).count("UP") == up for n in nodes), timeout)
        assert ok, [self.view(n) for n in nodes]

    def stop(self):
        for n in self.nodes:
            if n.proc and n.proc.poll() is None:
                n.stop()


class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        cls.cluster = Cluster(cls.db, extra=("--cluster.forward-timeout", "700ms"))
        cls.a, cls.b, cls.c = cls.cluster.nodes
        cls.api = Api(cls.a.client())
        cls.tokens = [cls.api.user_token()[0] for _ in range(12)]

    @classmethod
    def tearDownClass(cls):
        for n in cls.cluster.nodes:
            if n.proc and n.proc.poll() is None:
                os.kill(n.proc.pid, signal.SIGCONT)
        cls.cluster.stop()
        cls.db.drop()

    def ports(self, nodes):
        return [n.port for n in nodes]

    def race(self, event, ports, buyers=150):
        results = concurrently(buyers, lambda i: buy(ports[i % len(ports)], self.tokens[i % len(self.tokens)],
                                                     event["id"], 1))
        self.assertFalse([r for r in results if isinstance(r, Exception)])
        self.assertEqual({r.status for r in results} - {201, 409}, set(), [r for r in results if r.status not in (201, 409)][:3])
        return results

    def test_1_health_lists_every_member_from_each_node_view(self):
        for node in self.cluster.nodes:
            view = self.cluster.view(node)
            self.assertEqual(view, {name: "UP" for name in self.cluster.names})
            self.assertEqual(metric(node.client(), "eventhub_cluster_members"), 3)

    def test_2_round_robin_purchases_sell_exactly_capacity_and_are_forwarded_to_the_owner(self):
        forwarded_before = sum(metric(n.client(), "eventhub_cluster_purchases_forwarded_total") for n in self.cluster.nodes)
        for capacity in (25, 60):
            event = self.api.create_event(capacity=capacity)
            results = self.race(event, self.ports(self.cluster.nodes))
            self.assertEqual(sum(1 for r in results if r.status == 201), capacity)
            c = consistency(self.db, event["id"])
            self.assertEqual((c["sold"], c["sum"]), (capacity, capacity), c)
            assert_confirmations_delivered(self, self.db, self.cluster.nodes, event["id"])
            owner = self.cluster.nodes[self.cluster.names.index(owner_of(event["id"], self.cluster.names))]
            self.assertGreater(metric(owner.client(), "eventhub_cluster_purchases_received_total"), 0)
        forwarded = sum(metric(n.client(), "eventhub_cluster_purchases_forwarded_total") for n in self.cluster.nodes)
        self.assertGreaterEqual(forwarded - forwarded_before, 150)  # about 2/3 of 300 requests

    def test_2b_overlapping_types_and_the_buyer_limit_hold_across_nodes(self):
        """Purchases of two types whose quotas sum above the capacity, through all three nodes
        (forwarded with their ticketTypeId), and one buyer's concurrent requests on every node."""
        for _ in range(2):
            event = self.api.create_event(capacity=40, maxPerBuyer=4, ticketTypes=[
                {"name": "A", "priceCents": 1000, "quota": 30}, {"name": "B", "priceCents": 2000, "quota": 25}])
            types = [t["id"] for t in event["ticketTypes"]]
            ports = self.ports(self.cluster.nodes)
            results = concurrently(180, lambda i: buy(ports[i % 3], self.tokens[i % len(self.tokens)], event["id"],
                                                      1, ticket_type_id=types[i % 2]))
            statuses = [r.status for r in results]
            self.assertEqual(set(statuses) - {201, 409}, set(), [r for r in results if r.status not in (201, 409)][:3])
            # 12 buyers × 4 = 48 > 40: capacity, quotas and the limit all bind
            rows = self.db.query("SELECT ticket_type_id, sum(quantity), max(t.tickets_sold), max(t.quota) "
                                 "FROM purchases p JOIN ticket_types t ON t.id = p.ticket_type_id "
                                 "WHERE p.event_id = %s GROUP BY ticket_type_id", event["id"])
            for _type, total, counter, quota in rows:
                self.assertEqual(total, counter)
                self.assertLessEqual(total, quota)
            c = consistency(self.db, event["id"])
            self.assertEqual(c["sold"], c["sum"])
            self.assertEqual(c["sold"], statuses.count(201))
            self.assertLessEqual(c["sold"], 40)
            per_buyer = self.db.query("SELECT max(s) FROM (SELECT sum(quantity) s FROM purchases WHERE event_id = %s "
                                      "GROUP BY participant_id) x", event["id"])[0][0]
            self.assertLessEqual(per_buyer, 4)
            problems = {r.json["type"].rsplit("/", 1)[1] for r in results if r.status == 409}
            self.assertLessEqual(problems, {"sold-out", "buyer-limit"})
        missing = buy(self.b.port, self.tokens[0], event["id"], 1)  # forwarded for most events
        self.assertEqual(missing.status, 400, missing)
        self.assertEqual([e["field"] for e in missing.json["errors"]], ["ticketTypeId"])

    def test_3_an_admin_update_through_one_node_is_at_once_in_the_listing_of_another(self):
        event = self.api.create_event(capacity=5, name="Before " + uuid.uuid4().hex[:6])
        c_client = self.c.client()
        self.assertIn(event["name"], c_client.get(f"/api/events?size=100&q={event['name'].split()[1]}").text)
        body = {"name": "After " + uuid.uuid4().hex[:6], "venue": event["venue"], "startsAt": event["startsAt"],
                "capacity": 7}
        r = self.a.client().put(f"/api/events/{event['id']}", body, token=self.api.admin_token())
        self.assertEqual(r.status, 200, r)
        listing = c_client.get("/api/events?size=100").json["items"]
        mine = [e for e in listing if e["id"] == event["id"]]
        self.assertEqual((mine[0]["name"], mine[0]["capacity"]), (body["name"], 7))

    def test_4_a_hung_owner_is_bypassed_and_nothing_is_charged_twice(self):
        stopped = self.b
        # Events until b owns three (a third of them on average; 12 fixed ones left b none about
        # once in 130 runs).
        owned, created = [], 0
        while len(owned) < 3 and created < 90:
            e = self.api.create_event(capacity=1000)
            created += 1
            if owner_of(e["id"], self.cluster.names) == self.cluster.names[1]:
                owned.append(e)
        self.assertEqual(len(owned), 3, f"rendezvous hashing gave node b {len(owned)} of {created} events")
        # Under load a node may miss heartbeats and be down for a moment; a then serves b's events
        # itself without a forward, which is right but not what this test is about.
        self.cluster.wait_members(self.cluster.nodes, 3)
        os.kill(stopped.proc.pid, signal.SIGSTOP)
        try:
            served_before = metric(self.a.client(), "eventhub_cluster_purchases_served_for_owner_total")
            results = [buy(self.a.port, self.tokens[0], e["id"]) for e in owned[:3]]
            self.assertEqual([r.status for r in results], [201] * len(results))
            self.assertGreater(metric(self.a.client(), "eventhub_cluster_purchases_served_for_owner_total"), served_before,
                               self.cluster.view(self.a))
            self.cluster.wait_members([self.a, self.c], 2)  # b is declared down by heartbeats
            self.assertEqual(self.cluster.view(self.a)[self.cluster.names[1]], "DOWN")
            self.assertEqual(buy(self.c.port, self.tokens[1], owned[0]["id"]).status, 201)
        finally:
            os.kill(stopped.proc.pid, signal.SIGCONT)
        self.cluster.wait_members(self.cluster.nodes, 3, timeout=30)
        time.sleep(1)  # b processes what it received while stopped: replays of our own keys
        for e in owned[:3]:
            c = consistency(self.db, e["id"])
            self.assertEqual(c["purchases"], 2 if e is owned[0] else 1, c)
            self.assertEqual(c["sold"], c["sum"], c)

    def test_5_kill_9_mid_load_leaves_two_nodes_selling_without_oversale_or_loss(self):
        victim = self.b
        event = self.api.create_event(capacity=400)
        confirmed, lock, stop = [], threading.Lock(), threading.Event()
        ports = self.ports(self.cluster.nodes)

        def buyer(i):
            target = i % 3
            while not stop.is_set():
                try:
                    r = buy(ports[target], self.tokens[i % len(self.tokens)], event["id"])
                except OSError:
                    target = (target + 1) % 3  # the killed node: the client retries elsewhere
                    continue
                if r.status == 201:
                    with lock:
                        confirmed.append(r.json["id"])
                elif r.status == 409:
                    return
                else:
                    self.assertIn(r.status, (503,), r)
        threads = [threading.Thread(target=buyer, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        self.assertTrue(wait_until(lambda: len(confirmed) >= 60, 30))
        victim.kill()
        for t in threads:
            t.join(60)
        stop.set()
        c = consistency(self.db, event["id"])
        self.assertEqual(c["sold"], 400, c)  # the survivors sold out the event
        self.assertEqual(c["sum"], 400, c)
        present = {row[0] for row in self.db.query("SELECT id FROM purchases WHERE id = ANY(%s)", confirmed)}
        self.assertEqual(set(confirmed) - present, set(), "a confirmed purchase was lost")
        self.assertEqual(len(set(confirmed)), len(confirmed))
        self.cluster.wait_members([self.a, self.c], 2)

    def test_6_a_restarted_node_rejoins_and_takes_back_its_events(self):
        restarted = self.b
        if restarted.proc.poll() is None:
            restarted.kill()
            self.cluster.wait_members([self.a, self.c], 2)
        restarted.start()
        self.cluster.wait_members(self.cluster.nodes, 3, timeout=30)
        events = [self.api.create_event(capacity=50) for _ in range(9)]
        mine = [e for e in events if owner_of(e["id"], self.cluster.names) == self.cluster.names[1]]
        received_before = metric(restarted.client(), "eventhub_cluster_purchases_received_total")
        for e in events:
            self.assertEqual(buy(self.a.port, self.tokens[2], e["id"]).status, 201)
            self.assertEqual(buy(self.c.port, self.tokens[3], e["id"]).status, 201)
        received = metric(restarted.client(), "eventhub_cluster_purchases_received_total") - received_before
        self.assertEqual(received, 2 * len(mine))


if __name__ == "__main__":
    unittest.main()
