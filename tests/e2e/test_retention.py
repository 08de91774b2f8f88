"""Retention on the real binary (docs/operations.md, "Retention"): with second-scale ages, a
released hold and the delivery log of a delivered webhook message are deleted by the retention
actor on its own schedule, while a HELD hold, a confirmed hold, the attempts of a message still
pending, and the purchase a remembered Idempotency-Key names all stay: the replays of the
purchase and of the confirmation still answer the original. The deletions are counted in
eventhub_retention_deleted_total{table} and logged as retention.deleted."""
import unittest
import uuid

from harness import Api, Service, TestDatabase, metric
from test_purchases import WebhookReceiver, wait_until, webhook_args

RETENTION = ("--retention.interval", "200ms", "--retention.holds", "1s",
             "--retention.webhook-deliveries", "1s", "--retention.idempotency-keys", "1h",
             "--retention.batch-size", "2")


class RetentionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.live = WebhookReceiver()  # the configured endpoint: answers 204
        cls.dead = WebhookReceiver(answer=lambda request: 500)  # retried in an hour: pending
        cls.db = TestDatabase()
        # One retry an hour from now: the dead endpoint's message stays PENDING for the whole test.
        cls.service = Service(cls.db.url, *webhook_args(cls.live, schedule="1h"), *RETENTION,
                              "--notify.sweep-interval", "100ms", "--log.format", "json").start()
        cls.client = cls.service.client()
        cls.api = Api(cls.client)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        code = cls.service.stop()
        cls.live.stop()
        cls.dead.stop()
        cls.db.drop()
        if code not in (0, None):
            raise AssertionError(f"eventhub exited with {code}:\n{cls.service.crash_report()}")

    def deliveries(self, endpoint_id):
        r = self.client.get(f"/api/webhooks/{endpoint_id}/deliveries?page=0&size=50",
                            token=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.json["items"]

    def test_old_rows_go_on_schedule_and_what_the_contract_remembers_stays(self):
        self.admin = self.api.admin_token()
        r = self.client.post("/api/webhooks", {"url": self.dead.url, "eventTypes": ["purchase.confirmed"]},
                             token=self.admin)
        self.assertEqual(r.status, 201, r)
        dead_id = r.json["id"]
        endpoints = self.client.get("/api/webhooks?page=0&size=20", token=self.admin).json["items"]
        live_id = next(e["id"] for e in endpoints if e["url"] == self.live.url)

        token, _ = self.api.user_token()
        event = self.api.create_event(capacity=20)["id"]
        key = f"order-{uuid.uuid4().hex[:8]}"
        bought = self.client.post(f"/api/events/{event}/purchases", {"quantity": 2}, token=token,
                                  headers={"Idempotency-Key": key})
        self.assertEqual(bought.status, 201, bought)

        def hold():
            r = self.client.post(f"/api/events/{event}/holds", {"quantity": 1}, token=token)
            self.assertEqual(r.status, 201, r)
            return r.json["id"]

        released, held, confirmed = hold(), hold(), hold()
        self.assertEqual(self.client.delete(f"/api/holds/{released}", token=token).status, 204)
        self.assertEqual(self.client.get(f"/api/holds/{released}", token=token).json["status"], "RELEASED")
        first_confirm = self.client.post(f"/api/holds/{confirmed}/confirm", token=token)
        self.assertEqual(first_confirm.status, 201, first_confirm)

        # The live endpoint got the purchase; the dead one answered 500 and waits an hour to retry.
        purchase_id = bought.json["id"]
        self.assertTrue(wait_until(lambda: self.live.bodies("purchase.confirmed", purchaseId=purchase_id), 20),
                        "the purchase was never delivered")
        self.assertTrue(wait_until(lambda: len(self.deliveries(dead_id)) >= 2, 20),
                        "the dead endpoint's attempts were never recorded")

        # The retention actor, on its own, deletes the released hold and the delivered log.
        self.assertTrue(wait_until(lambda: self.client.get(f"/api/holds/{released}", token=token).status == 404, 20),
                        "the released hold was never deleted")
        self.assertTrue(wait_until(lambda: self.deliveries(live_id) == [], 20),
                        f"the delivered messages' attempts stay: {self.deliveries(live_id)}")
        self.assertGreaterEqual(metric(self.client, "eventhub_retention_deleted_total", table="holds"), 1)
        self.assertGreaterEqual(metric(self.client, "eventhub_retention_deleted_total",
                                       table="webhook_attempts"), 2)  # both purchases' deliveries
        # Rounds went on meanwhile: the pending message's attempts are older than the age and stay.
        pending = self.deliveries(dead_id)
        self.assertGreaterEqual(len(pending), 2, pending)
        self.assertTrue(all(a["outcome"] == "FAILED" for a in pending), pending)
        self.assertEqual(self.db.scalar("SELECT count(*) FROM webhook_messages WHERE endpoint_id = %s", dead_id),
                         2)

        # What the contract remembers stays: the HELD and CONFIRMED holds, and both replays.
        self.assertEqual(self.client.get(f"/api/holds/{held}", token=token).json["status"], "HELD")
        self.assertEqual(self.client.get(f"/api/holds/{confirmed}", token=token).json["status"], "CONFIRMED")
        replay = self.client.post(f"/api/events/{event}/purchases", {"quantity": 2}, token=token,
                                  headers={"Idempotency-Key": key})
        self.assertEqual(replay.status, 200, replay)
        self.assertEqual(replay.header("Idempotent-Replayed"), "true")
        self.assertEqual(replay.json["id"], purchase_id)
        confirm_again = self.client.post(f"/api/holds/{confirmed}/confirm", token=token)
        self.assertEqual(confirm_again.status, 200, confirm_again)
        self.assertEqual(confirm_again.header("Idempotent-Replayed"), "true")
        self.assertEqual(confirm_again.json["id"], first_confirm.json["id"])
        # The audit log keeps the deleted hold's history.
        audit = self.client.get(f"/api/audit?entityType=hold&entityId={released}", token=self.admin)
        self.assertEqual(audit.status, 200, audit)
        self.assertEqual({e["action"] for e in audit.json["items"]}, {"hold.created", "hold.released"})

        lines = self.service.log_lines("retention.deleted")
        self.assertTrue(lines, "no retention.deleted line")
        self.assertGreaterEqual(sum(line["holds"] for line in lines), 1)


if __name__ == "__main__":
    unittest.main()
