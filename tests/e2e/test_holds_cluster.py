"""Holds on a cluster: three node processes on loopback sharing one PostgreSQL. A hold made through
one node is read, confirmed and released through the others, whichever node owns its event; the
last tickets and the buyer limit hold across nodes; the event's owner killed with kill -9 loses no
hold: a survivor confirms one, and the holds left alone expire on time (stored EXPIRED within 2 s
of expiresAt, their tickets free), also on an event nothing touches after the kill; a node
killed mid-load and restarted loses no confirmed purchase, and no hold stays HELD past its
expiry."""
import collections
import threading
import time
import unittest

from harness import Api, ServiceTestCase, TestDatabase
from test_cluster import Cluster, owner_of
from test_holds import (STORED_WITHIN, confirm, hold, hold_row, inventory, purchase_of, release, ts,
                        wait_for_log, wait_stored)
from test_purchases import assert_confirmations_delivered, concurrently, wait_until

TTL = 6.0


def call(node, method, path, body=None, token=None):
    """One request through a node, on a connection of its own."""
    c = node.client()
    try:
        return c.request(method, path, body=body, token=token)
    finally:
        c.close()


class HoldsClusterTest(unittest.TestCase):
    assertProblem = ServiceTestCase.assertProblem

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        cls.cluster = Cluster(cls.db, extra=("--cluster.forward-timeout", "700ms", "--hold.ttl", "6s",
                                             "--hold.sweep-interval", "200ms", "--purchase.idle-timeout", "1s",
                                             "--notify.sweep-interval", "200ms", "--notify.redelivery-delay", "1s"))
        cls.a, cls.b, cls.c = cls.cluster.nodes
        cls.api = Api(cls.a.client())
        users = [cls.api.user_token() for _ in range(12)]
        cls.tokens = [t for t, _ in users]
        cls.participants = [p["id"] for _, p in users]

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()
        cls.db.drop()

    def ports(self):
        return [n.port for n in self.cluster.nodes]

    def events_owned_by(self, node, count, **extra):
        """New events until `node` owns `count` of them (rendezvous hashing, test_cluster.owner_of)."""
        name = self.cluster.names[self.cluster.nodes.index(node)]
        owned = []
        for _ in range(90):
            e = self.api.create_event(**extra)
            if owner_of(e["id"], self.cluster.names) == name:
                owned.append(e)
                if len(owned) == count:
                    return owned
        self.fail(f"rendezvous hashing gave {name} {len(owned)} of 90 events")

    def event(self, node, event_id):
        r = call(node, "GET", f"/api/events/{event_id}")
        self.assertEqual(r.status, 200, r)
        return r.json

    def figures(self, node, event_id):
        e = self.event(node, event_id)
        return e["ticketsSold"], e["ticketsHeld"], e["ticketsAvailable"]

    def confirm_until_answered(self, nodes, token, hold_id, deadline):
        """Confirms through the nodes in turn until one answers other than 503 (while the cluster
        notices a dead node), or the deadline passes. Returns the answer (None at the deadline)
        and the failed attempts before it."""
        failed = []
        while True:
            for node in nodes:
                try:
                    r = confirm(node.port, token, hold_id)
                except OSError as e:
                    failed.append(e)
                    continue
                if r.status != 503:
                    return r, failed
                failed.append(r)
            if time.time() > deadline:
                return None, failed
            time.sleep(0.1)

    def test_1_a_hold_made_through_one_node_is_read_confirmed_and_released_through_the_others(self):
        token, me = self.tokens[0], self.participants[0]
        for owner in self.cluster.nodes:
            [ev] = self.events_owned_by(owner, 1, capacity=5)
            r = hold(self.a.port, token, ev["id"], 2)
            self.assertEqual(r.status, 201, r)
            h = r.json
            self.assertEqual((h["eventId"], h["participantId"], h["quantity"], h["status"]), (ev["id"], me, 2, "HELD"))
            for node in (self.b, self.c):
                got = call(node, "GET", f"/api/holds/{h['id']}", token=token)
                self.assertEqual((got.status, got.json), (200, h), got)
                self.assertEqual(self.figures(node, ev["id"]), (0, 2, 3))

            c = confirm(self.b.port, token, h["id"])
            self.assertEqual(c.status, 201, c)
            self.assertEqual((c.json["quantity"], c.json["ticketTypeId"]), (2, h["ticketTypeId"]))
            again = confirm(self.c.port, token, h["id"])
            self.assertEqual((again.status, again.header("idempotent-replayed"), again.json), (200, "true", c.json))
            self.assertProblem(release(self.a.port, token, h["id"]), 409, "hold-confirmed")
            self.assertEqual(call(self.c, "GET", f"/api/holds/{h['id']}", token=token).json,
                             dict(h, status="CONFIRMED", purchaseId=c.json["id"]))

            other = hold(self.c.port, token, ev["id"], 3)
            self.assertEqual(other.status, 201, other)
            self.assertEqual(self.figures(self.a, ev["id"]), (2, 3, 0))
            self.assertEqual(release(self.b.port, token, other.json["id"]).status, 204)
            for node in self.cluster.nodes:  # free at once, on every node
                self.assertEqual(self.figures(node, ev["id"]), (2, 0, 3))
            self.assertProblem(confirm(self.a.port, token, other.json["id"]), 409, "hold-released")
            self.assertEqual(self.db.query(f"SELECT h.id, h.status, {purchase_of(self.db)} FROM holds h "
                                           "WHERE h.event_id = %s ORDER BY h.id", ev["id"]),
                             [(h["id"], "CONFIRMED", c.json["id"]), (other.json["id"], "RELEASED", None)])
            figures = inventory(self, self.db, ev["id"])
            self.assertEqual((figures["sold"], figures["held"]), (2, 0))

    def test_1b_the_last_tickets_and_the_buyer_limit_hold_across_nodes(self):
        ports = self.ports()
        ev = self.api.create_event(capacity=40)
        results = concurrently(150, lambda i: hold(ports[i % 3], self.tokens[i % len(self.tokens)], ev["id"], 1))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        statuses = [r.status for r in results]
        self.assertEqual((statuses.count(201), statuses.count(409)), (40, 110),
                         [r for r in results if r.status not in (201, 409)][:3])
        for r in results:
            if r.status == 409:
                self.assertEqual(self.assertProblem(r, 409, "sold-out")["ticketsAvailable"], 0, r)
        figures = inventory(self, self.db, ev["id"])
        self.assertEqual((figures["sold"], figures["held"]), (0, 40))
        for node in self.cluster.nodes:
            self.assertEqual(self.figures(node, ev["id"]), (0, 40, 0))

        limited = self.api.create_event(capacity=100, maxPerBuyer=3)
        token, me = self.tokens[1], self.participants[1]
        results = concurrently(30, lambda i: hold(ports[i % 3], token, limited["id"], 1))
        self.assertFalse([r for r in results if isinstance(r, Exception)], results[:3])
        self.assertEqual(sorted(r.status for r in results), [201] * 3 + [409] * 27,
                         [r for r in results if r.status not in (201, 409)][:3])
        for r in results:
            if r.status == 409:
                self.assertEqual(self.assertProblem(r, 409, "buyer-limit")["ticketsAllowed"], 0, r)
        self.assertEqual(self.db.scalar("SELECT coalesce(sum(quantity), 0) FROM holds WHERE event_id = %s "
                                        "AND participant_id = %s AND status = 'HELD'", limited["id"], me), 3)
        inventory(self, self.db, limited["id"])

    def test_2_the_owner_killed_loses_no_hold_a_survivor_confirms_one_and_the_rest_expire_on_time(self):
        victim = self.b
        kept, idle = self.events_owned_by(victim, 2, capacity=6)
        made = [hold(self.a.port, self.tokens[0], kept["id"], 2), hold(self.a.port, self.tokens[1], kept["id"], 1),
                hold(self.a.port, self.tokens[2], idle["id"], 3)]
        self.assertEqual([r.status for r in made], [201] * 3, made)
        h1, h2, h3 = (r.json for r in made)
        victim.kill()
        try:
            self.assertEqual([row[0] for row in self.db.query(
                "SELECT status FROM holds WHERE id = ANY(%s) ORDER BY id", [h1["id"], h2["id"], h3["id"]])],
                ["HELD"] * 3)
            r, failed = self.confirm_until_answered([self.c, self.a], self.tokens[0], h1["id"],
                                                    ts(h1["expiresAt"]) - 0.5)
            self.assertIsNotNone(r, f"no answer but 503 before expiresAt: {failed[-3:]}")
            if r.status == 200:  # an earlier attempt got through before its answer was lost
                self.assertTrue(failed, r)
                self.assertEqual(r.header("idempotent-replayed"), "true", r)
            else:
                self.assertEqual(r.status, 201, r)
            p = r.json
            self.assertEqual((p["quantity"], p["eventId"]), (2, kept["id"]))
            self.assertEqual(hold_row(self.db, h1["id"])[4:], ("CONFIRMED", p["id"]))
            self.assertEqual(self.db.query("SELECT quantity FROM purchases WHERE id = %s", p["id"]), [(2,)])

            # h2 shares the event that a survivor now serves; nothing touches h3's event any more
            for h in (h2, h3):
                deadline = ts(h["expiresAt"]) + STORED_WITHIN + 0.1
                self.assertEqual(wait_stored(self.db, [h["id"]], "EXPIRED", deadline), set(),
                                 f"hold {h['id']} not stored EXPIRED within {STORED_WITHIN}s of expiresAt")
            for h in (h2, h3):
                line = wait_for_log([self.a, self.c], "hold.expired", lambda l: l.get("hold_id") == h["id"],
                                    timeout=5)
                self.assertIsNotNone(line, f"no hold.expired log line for hold {h['id']} on a survivor")
            for node in (self.a, self.c):
                self.assertEqual(self.figures(node, kept["id"]), (2, 0, 4))
                self.assertEqual(self.figures(node, idle["id"]), (0, 0, 6))
            self.assertProblem(confirm(self.c.port, self.tokens[1], h2["id"]), 409, "hold-expired")
            for e in (kept, idle):
                inventory(self, self.db, e["id"])
            # the freed tickets are really there
            self.assertEqual(hold(self.c.port, self.tokens[3], idle["id"], 6).status, 201)
            self.cluster.wait_members([self.a, self.c], 2)
        finally:
            if victim.proc.poll() is not None:
                victim.start()
        self.cluster.wait_members(self.cluster.nodes, 3, timeout=30)

    def test_3_kill_9_mid_load_and_restart_lose_no_confirmed_purchase_and_leave_no_hold_past_its_expiry(self):
        victim = self.b
        if victim.proc.poll() is not None:
            victim.start()
            self.cluster.wait_members(self.cluster.nodes, 3, timeout=30)
        [ev] = self.events_owned_by(victim, 1, capacity=100000)
        nodes = self.cluster.nodes
        held, bought, expired, unexpected = {}, {}, [], []
        statuses = collections.Counter()
        lock, stop = threading.Lock(), threading.Event()

        def worker(i):
            token = self.tokens[i % len(self.tokens)]
            target = i % 3
            while not stop.is_set():
                try:
                    try:
                        r = hold(nodes[target].port, token, ev["id"], 1)
                    except OSError:
                        target = (target + 1) % 3  # a dead node: the client goes elsewhere
                        continue
                    with lock:
                        statuses[r.status] += 1
                    if r.status != 201:
                        if r.status != 503:
                            unexpected.append(r)
                        time.sleep(0.05)
                        continue
                    h = r.json
                    with lock:
                        held[h["id"]] = ts(h["expiresAt"])
                    for attempt in range(4):  # through another node, elsewhere again if that one fails
                        node = nodes[(target + 1 + attempt) % 3]
                        try:
                            c = confirm(node.port, token, h["id"])
                        except OSError:
                            continue
                        if c.status in (200, 201):
                            with lock:
                                bought[h["id"]] = c.json["id"]
                            break
                        if c.status == 409 and c.json["type"].endswith("/hold-expired"):
                            expired.append(h["id"])
                            break
                        if c.status != 503:
                            unexpected.append(c)
                            break
                        time.sleep(0.05)
                except Exception as e:  # recorded, asserted below
                    unexpected.append(e)
                    return

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        try:
            self.assertTrue(wait_until(lambda: len(bought) >= 40, 30), statuses)
            victim.kill()
            so_far = len(bought)
            self.assertTrue(wait_until(lambda: len(bought) >= so_far + 40, 30), statuses)  # the survivors serve
            victim.start()
            self.cluster.wait_members(nodes, 3, timeout=30)
            so_far = len(bought)
            self.assertTrue(wait_until(lambda: len(bought) >= so_far + 40, 30), statuses)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertEqual(unexpected, [], statuses)

        with lock:
            held, bought = dict(held), dict(bought)
        present = {row[0] for row in self.db.query("SELECT id FROM holds WHERE id = ANY(%s)", list(held))}
        self.assertEqual(set(held) - present, set(), "a hold answered 201 was lost")
        present = {row[0] for row in self.db.query("SELECT id FROM purchases WHERE id = ANY(%s)",
                                                   list(bought.values()))}
        self.assertEqual(set(bought.values()) - present, set(), "a purchase answered 201 was lost")
        self.assertEqual(len(set(bought.values())), len(bought), "one purchase answered for two holds")
        stored = {row[0]: row[1:] for row in self.db.query(f"SELECT h.id, h.status, {purchase_of(self.db)} "
                                                           "FROM holds h WHERE h.id = ANY(%s)", list(bought))}
        self.assertEqual(stored, {hid: ("CONFIRMED", pid) for hid, pid in bought.items()})

        # no hold stays HELD past its expiresAt + 2 s: watched until the last one has expired
        last = max(self.db.scalar("SELECT extract(epoch FROM max(expires_at))::float8 FROM holds WHERE event_id = %s",
                                  ev["id"]), max(held.values()))
        conn = self.db.connect()
        try:
            cur = conn.cursor()
            while True:
                cur.execute("SELECT id, expires_at FROM holds WHERE event_id = %s AND status = 'HELD' "
                            "AND expires_at < now() - interval '2.3 seconds'", (ev["id"],))
                late = cur.fetchall()
                self.assertEqual(late, [], "holds still HELD more than 2 s past their expiresAt")
                if time.time() > last + STORED_WITHIN + 0.5:
                    break
                time.sleep(0.2)
        finally:
            conn.close()
        self.assertEqual(self.db.scalar("SELECT count(*) FROM holds WHERE event_id = %s AND status = 'HELD'",
                                        ev["id"]), 0)

        # every purchase is one confirmed hold's, with its quantity, never two for one hold
        figures = inventory(self, self.db, ev["id"])
        confirmed, distinct, matching = self.db.query(
            f"WITH c AS (SELECT h.quantity, h.participant_id, h.ticket_type_id, {purchase_of(self.db)} AS purchase_id "
            "FROM holds h WHERE h.event_id = %s AND h.status = 'CONFIRMED') "
            "SELECT count(*), count(DISTINCT c.purchase_id), count(p.id) FROM c "
            "LEFT JOIN purchases p ON p.id = c.purchase_id AND p.quantity = c.quantity "
            "AND p.participant_id = c.participant_id AND p.ticket_type_id = c.ticket_type_id", ev["id"])[0]
        self.assertEqual((distinct, matching), (confirmed, confirmed))
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", ev["id"]), confirmed)
        self.assertEqual((figures["sold"], figures["held"]), (confirmed, 0))
        for node in nodes:
            self.assertEqual(self.figures(node, ev["id"]), (confirmed, 0, 100000 - confirmed))
        assert_confirmations_delivered(self, self.db, nodes, ev["id"])
        # every stored expiry was notified, on some node (at least once, also across the kill)
        expired_ids = {row[0] for row in self.db.query("SELECT id FROM holds WHERE event_id = %s "
                                                       "AND status = 'EXPIRED'", ev["id"])}

        def notified():
            logged = set()
            for node in nodes:
                logged |= {line.get("hold_id") for line in node.log_lines("hold.expired")}
            return expired_ids - logged
        self.assertTrue(wait_until(lambda: not notified(), 15), f"hold.expired never logged for {notified()}")


if __name__ == "__main__":
    unittest.main()
