"""The Beast front end over raw sockets: keep-alive, Connection: close, HTTP/1.0, pipelining,
limits, slow and hostile clients, the connection cap, graceful shutdown."""
import json
import signal
import socket
import threading
import time
import unittest

from harness import Client, Service, ServiceTestCase, TestDatabase


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, buffer=b""):
    """Reads one response (Content-Length framed); returns (status, headers, body, rest)."""
    while b"\r\n\r\n" not in buffer:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response")
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a body")
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def closed_by_peer(s, wait=5):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class ConnectionHandlingTest(ServiceTestCase):
    def test_keep_alive_serves_many_requests_on_one_connection(self):
        s = connect(self.service.port)
        for i in range(50):
            s.sendall(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\nX-Request-Id: ka-%d\r\n\r\n" % i)
            status, headers, body, rest = read_response(s)
            self.assertEqual((status, headers["x-request-id"], rest), (200, f"ka-{i}", b""))
            self.assertNotEqual(headers.get("connection", "").lower(), "close")
        s.close()

    def test_connection_close_is_honoured(self):
        s = connect(self.service.port)
        s.sendall(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _, _ = read_response(s)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("connection", "").lower(), "close")
        self.assertTrue(closed_by_peer(s))

    def test_http_1_0_without_keep_alive_is_closed_after_the_answer(self):
        s = connect(self.service.port)
        s.sendall(b"GET /actuator/health HTTP/1.0\r\n\r\n")
        status, _, _, _ = read_response(s)
        self.assertEqual(status, 200)
        self.assertTrue(closed_by_peer(s))

    def test_pipelined_requests_are_all_answered_in_order(self):
        s = connect(self.service.port)
        batch = b"".join(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipe-%d\r\n\r\n" % i
                         for i in range(20))
        batch += b"GET /api/nothing HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipe-404\r\n\r\n"
        s.sendall(batch)
        rest, seen = b"", []
        for _ in range(21):
            status, headers, _, rest = read_response(s, rest)
            seen.append((status, headers["x-request-id"]))
        self.assertEqual(seen, [(200, f"pipe-{i}") for i in range(20)] + [(404, "pipe-404")])
        s.close()

    def test_garbage_gets_a_400_problem_and_the_connection_closes(self):
        for garbage in (b"HELLO WORLD\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n", b"GET /a HTTP/9.9\r\n\r\n",
                        b"GET /a HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b"GET /a HTTP/1.1\r\nNo colon\r\n\r\n"):
            s = connect(self.service.port)
            s.sendall(garbage)
            status, headers, body, _ = read_response(s)
            self.assertEqual(status, 400, garbage)
            self.assertEqual(headers["content-type"], "application/problem+json")
            self.assertEqual(json.loads(body)["status"], 400)
            self.assertTrue(closed_by_peer(s))
        self.assertEqual(self.client.get("/actuator/health").status, 200)

    def test_a_body_over_64_kib_is_413_and_exactly_64_kib_is_read(self):
        s = connect(self.service.port)
        s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 65537\r\n\r\n" + b"x" * 65537)
        status, headers, body, _ = read_response(s)
        self.assertEqual(status, 413)
        self.assertEqual(headers["content-type"], "application/problem+json")
        s.close()
        exact = Client(self.service.port).post("/api/auth/login", raw_body=b" " * 65536)
        self.assertEqual(exact.status, 400)  # read, then refused as malformed JSON

    def test_refusals_before_the_handler_echo_the_clients_request_id(self):
        """413, 431 and 400 are answered by the session itself, before any handler, and still carry
        the client's X-Request-Id (docs/api.md: every response does)."""
        login = b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        cases = [
            # Content-Length over the limit: refused from the header, the id after the length
            ("413-length", login + b"Content-Length: 65537\r\nX-Request-Id: big-1\r\n\r\n" + b"x" * 65537,
             413, "big-1"),
            # a chunked body that grows over the limit: refused while the body is read
            ("413-chunked", login + b"X-Request-Id: big-2\r\nTransfer-Encoding: chunked\r\n\r\n"
             + b"%x\r\n" % 70000 + b"x" * 70000 + b"\r\n0\r\n\r\n", 413, "big-2"),
            # a header block over 16 KiB, never parsed: the id is found in what was read
            ("431", b"GET /actuator/health HTTP/1.1\r\nHost: x\r\nX-Request-Id: huge-3\r\n"
             + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 1000) for i in range(17)), 431, "huge-3"),
            # a request line the parser refuses
            ("400", b"GET /a HTTP/9.9\r\nX-Request-Id: bad-4\r\n\r\n", 400, "bad-4"),
        ]
        for name, raw, status, request_id in cases:
            with self.subTest(name):
                s = connect(self.service.port)
                try:
                    s.sendall(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused before all was sent: the answer is already on its way
                got, headers, body, _ = read_response(s)
                s.close()
                self.assertEqual(got, status, body)
                self.assertEqual(headers["x-request-id"], request_id)
                self.assertEqual(json.loads(body)["status"], status)

    def test_expect_100_continue_is_answered(self):
        s = connect(self.service.port)
        body = json.dumps({"email": "x@example.com", "password": "password-1"}).encode()
        s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        status, _, _, rest = read_response(s)
        self.assertEqual(status, 100)
        s.sendall(body)
        status, _, _, _ = read_response(s, rest)
        self.assertEqual(status, 401)
        s.close()

    def test_a_1_mib_header_is_refused_while_others_are_served(self):
        s = connect(self.service.port)
        s.sendall(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\n")
        stop = threading.Event()
        served = []

        def others():
            c = Client(self.service.port)
            while not stop.is_set():
                served.append(c.get("/actuator/health").status)
            c.close()
        t = threading.Thread(target=others)
        t.start()
        try:
            for _ in range(1024):
                s.sendall(b"X-Filler: " + b"v" * 1014 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: refused
        try:
            s.sendall(b"\r\n")
            status, _, _, _ = read_response(s)
            self.assertEqual(status, 431)
        except (BrokenPipeError, ConnectionError, OSError):
            pass
        stop.set()
        t.join()
        s.close()
        self.assertTrue(served and set(served) == {200}, served[:5])


class SlowClientsTest(ServiceTestCase):
    service_args = ("--http.read-timeout", "1s", "--http.idle-timeout", "2s", "--http.max-connections", "20")

    def test_clients_that_send_nothing_or_trickle_do_not_stop_others_and_are_cut_off(self):
        silent = [connect(self.service.port) for _ in range(10)]
        trickler = connect(self.service.port)
        trickler.sendall(b"GET /actuator/health HTTP/1.1\r\n")
        started = time.monotonic()
        for _ in range(20):  # others are served at once meanwhile
            self.assertEqual(self.client.get("/actuator/health").status, 200)
        self.assertLess(time.monotonic() - started, 5)
        for i in range(12):
            try:
                trickler.sendall(b"X-Slow-%d: y\r\n" % i)
            except OSError:
                break
            time.sleep(0.2)
        for s in silent + [trickler]:
            self.assertTrue(closed_by_peer(s, wait=5), "a silent client must be cut off by the read timeout")
            s.close()

    def test_idle_keep_alive_connections_are_closed_after_the_idle_timeout(self):
        s = connect(self.service.port)
        s.sendall(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_response(s)[0], 200)
        time.sleep(1.2)  # longer than the read timeout: an idle keep-alive has the idle timeout
        s.sendall(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_response(s)[0], 200)
        self.assertTrue(closed_by_peer(s, wait=4))

    def test_the_connection_cap_refuses_extra_connections_and_keeps_serving_the_others(self):
        held = [connect(self.service.port) for _ in range(19)]
        time.sleep(0.2)
        keeper = connect(self.service.port)  # the 20th: still accepted
        keeper.sendall(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_response(keeper)[0], 200)
        extra = connect(self.service.port)   # the 21st: closed at once
        self.assertTrue(closed_by_peer(extra, wait=2))
        keeper.sendall(b"GET /actuator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_response(keeper)[0], 200)
        for s in held + [keeper, extra]:
            s.close()
        time.sleep(0.3)
        self.assertEqual(Client(self.service.port).get("/actuator/health").status, 200)


class GracefulShutdownTest(unittest.TestCase):
    def test_a_request_in_flight_at_sigterm_is_answered_and_the_process_exits_0(self):
        db = TestDatabase()
        svc = Service(db.url, "--db.lock-timeout", "20s", "--http.request-timeout", "20s").start()
        try:
            from harness import Api
            api = Api(svc.client())
            token, _ = api.user_token()
            event = api.create_event(capacity=5)
            blocker = db.connect()
            blocker.autocommit = False
            blocker.cursor().execute("SELECT * FROM events WHERE id = %s FOR UPDATE", (event["id"],))
            result = {}

            def purchase():
                result["r"] = Client(svc.port).post(f"/api/events/{event['id']}/purchases", {"quantity": 1},
                                                    token=token)
            t = threading.Thread(target=purchase)
            t.start()
            time.sleep(0.5)  # the purchase now waits for the row lock
            svc.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            with self.assertRaises(OSError):  # the listener is closed once stopping
                connect(svc.port, timeout=2)
            blocker.rollback()
            blocker.close()
            t.join(30)
            self.assertEqual(result["r"].status, 201, result["r"])
            self.assertEqual(svc.proc.wait(30), 0)
            self.assertEqual(db.scalar("SELECT tickets_sold FROM events WHERE id = %s", event["id"]), 1)
        finally:
            svc.kill()
            db.drop()


if __name__ == "__main__":
    unittest.main()
