"""Regression test for the Pistache 0.0.5 misdelivery (docs/decisions/0001-http-front-end.md):
clients that vanish before reading their response (FIN or RST) while new connections reuse
their file descriptors must never make a response reach the wrong client.

32 threads each loop: connect, send a request with a unique X-Request-Id, then either close at
once (by FIN, or by RST with SO_LINGER 0) or read the response and check it carries exactly its
own id. Requests go through actors (the listing cache, the DB pool), whose replies come back on
other threads, as in the original reproducer."""
import socket
import struct
import threading
import time
import uuid

from harness import ServiceTestCase
from test_http_server import read_response

CHECKED_READS = 10000
THREADS = 32


class ChurnTest(ServiceTestCase):
    def test_no_response_reaches_another_client_under_disconnect_churn(self):
        event = self.api.create_event(capacity=10)
        paths = [b"/api/events?size=5", f"/api/events/{event['id']}".encode(), b"/actuator/health"]
        lock = threading.Lock()
        stats = {"checked": 0, "wrong": 0, "fin": 0, "rst": 0, "errors": 0}
        wrong = []

        def client(n):
            i = 0
            while True:
                with lock:
                    if stats["checked"] >= CHECKED_READS:
                        return
                i += 1
                rid = f"churn-{n}-{i}-{uuid.uuid4().hex[:8]}"
                mode = (n + i) % 4  # 0: FIN before reading, 1: RST before reading, 2-3: read and check
                try:
                    s = socket.create_connection(("127.0.0.1", self.service.port), timeout=10)
                    s.sendall(b"GET " + paths[i % 3] + b" HTTP/1.1\r\nHost: x\r\nX-Request-Id: " +
                              rid.encode() + b"\r\n\r\n")
                    if mode == 0:
                        s.close()
                        with lock:
                            stats["fin"] += 1
                        continue
                    if mode == 1:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        s.close()
                        with lock:
                            stats["rst"] += 1
                        continue
                    status, headers, _, _ = read_response(s)
                    s.close()
                    with lock:
                        stats["checked"] += 1
                        if headers.get("x-request-id") != rid:
                            stats["wrong"] += 1
                            wrong.append((rid, headers.get("x-request-id"), status))
                except OSError:
                    with lock:
                        stats["errors"] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(stats["checked"], CHECKED_READS, stats)
        self.assertEqual(stats["wrong"], 0, (stats, wrong[:5]))
        self.assertGreater(stats["fin"], CHECKED_READS // 3, stats)
        self.assertGreater(stats["rst"], CHECKED_READS // 3, stats)
        self.assertLess(stats["errors"], stats["checked"] // 100, stats)
        print(f"\nchurn: {stats} in {elapsed:.1f}s", flush=True)
        # and the server still serves
        for path in ("/actuator/health", "/api/events"):
            self.assertEqual(self.client.get(path).status, 200)


if __name__ == "__main__":
    import unittest
    unittest.main()
