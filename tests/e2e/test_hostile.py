"""Hostile clients: SQL injection in every string field and query parameter, oversized URLs and
headers, role escalation. Every answer is one of the contract's, and the data stays intact."""
import base64
import json
import socket
import urllib.parse
import uuid

from harness import ADMIN_EMAIL, Client, ServiceTestCase
from test_purchases import assert_confirmations_delivered

PAYLOADS = [
    "' OR '1'='1",
    "'; DROP TABLE events; --",
    "\" OR \"\"=\"",
    "1; DELETE FROM participants WHERE 1=1",
    "admin'--",
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(5); --",
    "$1$2$3",
    "'||(SELECT password_hash FROM participants LIMIT 1)||'",
    "\u0000",
    "Robert'); DROP TABLE purchases;--",
]


class SqlInjectionTest(ServiceTestCase):
    service_args = ("--log.format", "json")

    def counts(self):
        return self.db.query("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM participants), "
                             "(SELECT count(*) FROM purchases), (SELECT count(*) FROM idempotency_keys)")[0]

    def assertHarmless(self, r, allowed):
        self.assertIn(r.status, allowed, r)
        self.assertNotIn("syntax error", r.text.lower())
        self.assertNotIn("pqxx", r.text.lower())
        self.assertNotIn("argon2", r.text.lower())

    def test_payloads_in_body_fields_are_stored_as_data_or_rejected(self):
        admin = self.api.admin_token()
        for p in PAYLOADS:
            before = self.counts()
            # registration: email is rejected by format, fullName and password are data
            r = self.client.post("/api/auth/register", {"email": p, "password": "password-1", "fullName": "x"})
            self.assertHarmless(r, (400,))
            email = f"inj-{uuid.uuid4().hex[:8]}@example.com"
            r = self.client.post("/api/auth/register", {"email": email, "password": (p + "x" * 8)[:128],
                                                        "fullName": p})
            self.assertHarmless(r, (201, 400))  # NUL is refused, the rest is data
            if r.status == 201:
                self.assertEqual(r.json["fullName"], p)
                login = self.client.post("/api/auth/login", {"email": email, "password": (p + "x" * 8)[:128]})
                self.assertEqual(login.status, 200, login)
            r = self.client.post("/api/auth/login", {"email": p, "password": p})
            self.assertHarmless(r, (400, 401))
            # events: name, description and venue are data
            body = {"name": p, "description": p, "venue": p, "startsAt": "2099-01-01T00:00:00Z", "capacity": 3}
            r = self.client.post("/api/events", body, token=admin)
            self.assertHarmless(r, (201, 400))
            if r.status == 201:
                stored = self.client.get(f"/api/events/{r.json['id']}").json
                self.assertEqual((stored["name"], stored["description"], stored["venue"]), (p, p, p))
            after = self.counts()
            self.assertGreaterEqual(after[0], before[0])
            self.assertGreaterEqual(after[1], before[1])

    def test_payloads_in_query_parameters_and_path_ids(self):
        event = self.api.create_event(capacity=5, name="Quiet Event")
        admin = self.api.admin_token()
        for p in PAYLOADS:
            q = urllib.parse.quote(p, safe="")
            r = self.client.get(f"/api/events?q={q}")
            self.assertHarmless(r, (200, 400))
            if r.status == 200:
                for item in r.json["items"]:
                    self.assertTrue(p.lower() in item["name"].lower() or p.lower() in item["venue"].lower(), item)
            for name in ("from", "to", "page", "size"):
                self.assertHarmless(self.client.get(f"/api/events?{name}={q}"), (400,))
            self.assertHarmless(self.client.get(f"/api/events/{q}"), (400, 404))
            self.assertHarmless(self.client.get(f"/api/participants?page={q}", token=admin), (400,))
            self.assertHarmless(self.client.get(f"/api/participants/{q}", token=admin), (400, 404))
        self.assertEqual(self.client.get(f"/api/events/{event['id']}").status, 200)

    def test_payloads_in_headers(self):
        token, _ = self.api.user_token()
        event = self.api.create_event(capacity=100)
        for p in PAYLOADS:
            key = "".join(ch for ch in p if 0x21 <= ord(ch) <= 0x7E)[:64] or "k"
            r = self.client.post(f"/api/events/{event['id']}/purchases", {"quantity": 1}, token=token,
                                 headers={"Idempotency-Key": key, "X-Request-Id": key})
            self.assertHarmless(r, (201, 200))
            self.assertEqual(r.header("x-request-id"), key)
        stored = self.db.query("SELECT idempotency_key FROM idempotency_keys")
        self.assertTrue(stored)
        assert_confirmations_delivered(self, self.db, [self.service])


class OversizedTest(ServiceTestCase):
    def raw(self, data, read=65536):
        with socket.create_connection(("127.0.0.1", self.service.port), timeout=10) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            chunks = b""
            try:
                while True:
                    part = s.recv(read)
                    if not part:
                        break
                    chunks += part
            except (ConnectionResetError, socket.timeout):
                pass
            return chunks

    def test_a_huge_url_is_refused_and_the_server_keeps_serving(self):
        answer = self.raw(b"GET /api/events?q=" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        if answer:
            status = int(answer.split(b" ", 2)[1])
            self.assertIn(status, (400, 414, 431))
        self.assertEqual(self.client.get("/actuator/health").status, 200)

    def test_huge_headers_are_refused_and_the_server_keeps_serving(self):
        headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 1000) for i in range(1024))  # 1 MiB
        answer = self.raw(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        if answer:
            self.assertIn(int(answer.split(b" ", 2)[1]), (400, 431))
        self.assertEqual(self.client.get("/actuator/health").status, 200)


class EscalationTest(ServiceTestCase):
    def test_a_user_token_edited_to_admin_is_401_everywhere(self):
        token, me = self.api.user_token()
        head, payload, sig = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["role"] = "ADMIN"
        forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        forged = f"{head}.{forged_payload}.{sig}"
        for method, path in (("GET", "/api/participants"), ("POST", "/api/events"), ("GET", "/api/me"),
                             ("DELETE", "/api/events/1"), ("POST", "/api/participants")):
            r = self.client.request(method, path, body={} if method == "POST" else None, token=forged)
            self.assertEqual(r.status, 401, (method, path, r))
            self.assertEqual(r.header("www-authenticate"), "Bearer")

    def test_user_tokens_cannot_reach_admin_routes_nor_create_admins(self):
        token, _ = self.api.user_token()
        r = self.client.post("/api/participants", {"email": "evil@example.com", "password": "password-1",
                                                   "fullName": "Evil", "role": "ADMIN"}, token=token)
        self.assertEqual(r.status, 403)
        r = self.client.post("/api/auth/register", {"email": "evil2@example.com", "password": "password-1",
                                                    "fullName": "Evil", "role": "ADMIN"})
        self.assertEqual(r.status, 201)
        self.assertEqual(r.json["role"], "USER")  # self-registration always creates a USER
        self.assertEqual(self.db.scalar("SELECT count(*) FROM participants WHERE role = 'ADMIN'"), 1)
        self.assertEqual(self.db.scalar("SELECT email FROM participants WHERE role = 'ADMIN'"), ADMIN_EMAIL)


if __name__ == "__main__":
    import unittest
    unittest.main()
