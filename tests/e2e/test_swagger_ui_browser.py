"""Swagger UI in a real browser: Debian's headless Chromium, driven by playwright-core
(tests/node/swagger_ui_purchase.js), opens /swagger-ui/ of the real service, logs in through
"Try it out", authorizes with the token, buys tickets through "Try it out" and sees 201. The
screenshot of the purchase's response is saved as build/test-output/swagger-ui-purchase-201.png.
"""
import json
import os
import uuid

import node_tools
from harness import ServiceTestCase


class SwaggerUiBrowserTest(ServiceTestCase):
    def test_login_authorize_and_buy_tickets_through_try_it_out(self):
        self.assertTrue(os.access(node_tools.CHROMIUM, os.X_OK),
                        f"{node_tools.CHROMIUM} is missing: run scripts/install-deps --test")
        event = self.api.create_event(capacity=5, name="Swagger UI Concert")
        password = "browser-password-1"
        buyer = self.api.register(password=password, full_name="Browser Buyer")
        key = "browser-" + uuid.uuid4().hex
        screenshot = node_tools.output_path("swagger-ui-purchase-201.png")
        for stale in (screenshot, screenshot.replace(".png", "-failure.png")):
            if os.path.exists(stale):
                os.remove(stale)

        run = node_tools.run("swagger_ui_purchase.js",
                             "--base-url", f"http://127.0.0.1:{self.service.port}",
                             "--email", buyer["email"], "--password", password,
                             "--event-id", event["id"], "--quantity", 2,
                             "--idempotency-key", key, "--screenshot", screenshot)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        shown = json.loads(run.stdout.strip().splitlines()[-1])

        # What the page showed: the login's 200, then the purchase's 201 and its body.
        self.assertTrue(shown["title"].startswith("Event Hub API"), shown)
        self.assertEqual(shown["loginStatus"], "200")
        self.assertEqual(shown["purchaseStatus"], "201")
        bought = shown["purchase"]
        self.assertEqual((bought["eventId"], bought["participantId"], bought["quantity"],
                          bought["status"]), (event["id"], buyer["id"], 2, "CONFIRMED"))
        self.assertTrue(shown["authorizedAfterReload"], "persistAuthorization kept the token")
        self.assertEqual(shown["pageErrors"], [])

        # The purchase is real: the API and the database agree, and the UI sent the key.
        token = self.api.login(buyer["email"], password)
        self.assertEqual(self.client.get(f"/api/purchases/{bought['id']}", token=token).status, 200)
        self.assertEqual(self.db.scalar("SELECT tickets_sold FROM events WHERE id = %s",
                                        event["id"]), 2)
        replay = self.client.post(f"/api/events/{event['id']}/purchases", {"quantity": 2},
                                  token=token, headers={"Idempotency-Key": key})
        self.assertEqual(replay.status, 200, replay)
        self.assertEqual(replay.header("idempotent-replayed"), "true")
        self.assertEqual(replay.json["id"], bought["id"])

        with open(screenshot, "rb") as f:
            png = f.read()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertGreater(len(png), 20000)
