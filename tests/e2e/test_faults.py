"""Faults: PostgreSQL restarted under purchase load, a slow database, bounded waits."""
import threading
import time
import unittest

from harness import Api, Client, PrivatePostgres, Service, ServiceTestCase
from test_purchases import assert_confirmations_delivered, buy, concurrently, wait_until


class PostgresRestartUnderLoadTest(unittest.TestCase):
    def test_503_while_down_then_recovery_without_a_restart_and_nothing_confirmed_lost(self):
        pg = PrivatePostgres()
        svc = Service(pg.url(), "--db.connect-timeout", "1s", "--notify.sweep-interval", "200ms",
                      "--notify.redelivery-delay", "1s", "--log.format", "json")
        try:
            svc.start()
            api = Api(svc.client())
            tokens = [api.user_token()[0] for _ in range(8)]
            event = api.create_event(capacity=100000)
            statuses, confirmed, lock, stop = {}, [], threading.Lock(), threading.Event()

            def buyer(i):
                c = Client(svc.port, timeout=15)
                while not stop.is_set():
                    r = c.post(f"/api/events/{event['id']}/purchases", {"quantity": 1}, token=tokens[i])
                    with lock:
                        statuses[r.status] = statuses.get(r.status, 0) + 1
                        if r.status == 201:
                            confirmed.append(r.json["id"])
                        if r.status == 503:
                            assert r.header("retry-after"), r
                            assert r.header("content-type") == "application/problem+json", r
                    if r.status == 503:
                        time.sleep(0.05)
                c.close()
            threads = [threading.Thread(target=buyer, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            self.assertTrue(wait_until(lambda: len(confirmed) >= 100, 30))
            pg.stop()
            self.assertTrue(wait_until(lambda: statuses.get(503, 0) >= 20, 30), statuses)
            # DOWN within health.cache-ttl (1 s) of the next check
            self.assertTrue(wait_until(lambda: svc.client().get("/actuator/health").status == 503, 5))
            before_restart = len(confirmed)
            pg.start()
            self.assertTrue(wait_until(lambda: len(confirmed) >= before_restart + 100, 30), statuses)
            stop.set()
            for t in threads:
                t.join()
            self.assertIsNone(svc.proc.poll(), "the service must survive the outage")
            self.assertEqual(set(statuses) - {201, 503}, set(), statuses)
            ids = {row[0] for row in pg.query("SELECT id FROM purchases")}
            self.assertEqual(set(confirmed) - ids, set(), "a purchase confirmed to a client was lost")
            sold, total = pg.query("SELECT tickets_sold, (SELECT sum(quantity) FROM purchases) FROM events "
                                   "WHERE id = %s", event["id"])[0]
            self.assertEqual(sold, total)
            assert_confirmations_delivered(self, pg, [svc])
            self.assertEqual(svc.stop(), 0)
        finally:
            svc.kill()
            pg.destroy()


class SlowDatabaseTest(ServiceTestCase):
    # The lock wait outlasts the HTTP edge's patience: the edge answers, the queue stays bounded.
    service_args = ("--db.lock-timeout", "20s", "--db.statement-timeout", "30s",
                    "--http.request-timeout", "1s", "--db.pool-size", "2", "--db.queue-max", "20")

    def test_a_held_row_lock_gives_a_bounded_503_never_a_hang(self):
        token, _ = self.api.user_token()
        event = self.api.create_event(capacity=10)
        blocker = self.db.connect()
        blocker.autocommit = False
        blocker.cursor().execute("SELECT * FROM events WHERE id = %s FOR UPDATE", (event["id"],))
        try:
            started = time.monotonic()
            results = concurrently(40, lambda i: buy(self.service.port, token, event["id"]))
            elapsed = time.monotonic() - started
            self.assertEqual({r.status for r in results}, {503}, results[:3])
            self.assertLess(elapsed, 5, "answers must come after the request timeout, not the lock")
            # other work still gets a connection: only one batch waits for the lock
            self.assertEqual(self.client.get("/api/me", token=token).status, 200)
        finally:
            blocker.rollback()
            blocker.close()
        time.sleep(0.5)  # the batch that waited for the lock finishes: it must sell nothing
        self.assertEqual(self.db.scalar("SELECT count(*) FROM purchases WHERE event_id = %s", event["id"]), 0,
                         "clients told 503 must not be charged")
        self.assertTrue(wait_until(lambda: buy(self.service.port, token, event["id"]).status == 201, 30))
        sold, total = self.db.query("SELECT tickets_sold, coalesce((SELECT sum(quantity) FROM purchases "
                                    "WHERE event_id = %s), 0) FROM events WHERE id = %s", event["id"], event["id"])[0]
        self.assertEqual(sold, total)


if __name__ == "__main__":
    unittest.main()
