"""At least once for the log channel: with no webhook, a notification's log line is its only
delivery, so its outbox row may be deleted only once the line is out of the process. spdlog's
stdout sink writes each line with its own fflush, and the notifier flushes (and fsyncs a file,
as here) before the fan-out transaction deletes the rows. kill -9 the moment a row is gone must
never lose its line: a row deleted before its line was written, or a line left in a buffer,
fails this."""
import os
import signal
import time
import unittest

from harness import Api, Service, TestDatabase
from test_purchases import buy, wait_until


class LogDeliveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()

    def outbox_empty(self):
        return self.db.scalar("SELECT count(*) FROM pending_confirmations") == 0

    def test_a_deleted_outbox_row_has_its_log_line_even_after_kill_9(self):
        for round_ in range(3):
            svc = Service(self.db.url, "--log.format", "json")
            try:
                svc.start()
                api = Api(svc.client())
                event = api.create_event(capacity=10)
                r = buy(svc.port, api.user_token()[0], event["id"], 1)
                self.assertEqual(r.status, 201, r)
                # Kill the moment the row is gone: at low load nothing else flushes stdout.
                self.assertTrue(wait_until(self.outbox_empty, timeout=15, interval=0.002))
                os.kill(svc.proc.pid, signal.SIGKILL)
                svc.proc.wait()
                logged = [line.get("purchase_id") for line in svc.log_lines("purchase.confirmed")]
                self.assertIn(r.json["id"], logged, f"round {round_}: the row was deleted, its line lost")
            finally:
                svc.kill()


if __name__ == "__main__":
    unittest.main()
