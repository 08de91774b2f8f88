"""The cluster protocol over mutual TLS (cluster.tls-*): members show certificates of the cluster
CA; a process without one, or with one of another CA, cannot join, forward or invalidate."""
import socket
import ssl
import unittest
import uuid

from harness import Api, Service, TestDatabase, free_port, metric
from test_cluster import Cluster, ClusterCA, cluster_ca
from test_purchases import buy, wait_until


def tls_client(ca, cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # members are not told apart by name: any certificate of the CA
    ctx.load_verify_locations(ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def first_bytes(port, ctx):
    """What the cluster port says first to a TLS client: CAF's server handshake (BASP) once the
    TLS handshake passed; b"" or an SSLError when the node refused the client."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as conn:
            return conn.recv(64)


class ClusterTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        # listing.max-age at its longest: within it only a broadcast changes a cached listing.
        cls.cluster = Cluster(cls.db, size=2, extra=("--listing.max-age", "1000ms"))
        cls.a, cls.b = cls.cluster.nodes
        cls.api = Api(cls.a.client())
        cls.ca = cluster_ca()
        cls.other_ca = ClusterCA()
        port = free_port()
        seeds = ",".join(cls.cluster.names + [f"127.0.0.1:{port}"])
        common = ("--cluster.host", "127.0.0.1", "--cluster.seeds", seeds, "--cluster.heartbeat-interval",
                  "200ms", "--cluster.connection-timeout", "1500ms", "--log.format", "json")
        cls.plain = Service(cls.db.url, "--cluster.port", str(port), "--cluster.insecure", "true", *common,
                            secret=cls.cluster.secret, name="plain")
        other_port = free_port()
        cls.foreign = Service(cls.db.url, "--cluster.port", str(other_port), *common,
                              *cls.other_ca.args("foreign"), secret=cls.cluster.secret, name="foreign")
        for outsider in (cls.plain, cls.foreign):
            outsider.start()

    @classmethod
    def tearDownClass(cls):
        for node in (cls.plain, cls.foreign):
            node.stop()
        cls.cluster.stop()
        cls.db.drop()

    def test_1_members_of_one_ca_form_the_cluster_over_tls(self):
        self.assertEqual(self.cluster.view(self.a), {name: "UP" for name in self.cluster.names})
        self.assertTrue(any(line.get("tls") == "mutual" for line in self.a.log_lines("cluster.listening")))

    def test_2_the_cluster_port_answers_only_a_certificate_of_the_cluster_ca(self):
        port = self.cluster.ports[0]
        member = self.ca.args("probe")
        ca, cert, key = member[1], member[3], member[5]
        self.assertTrue(first_bytes(port, tls_client(ca, cert, key)), "a member's certificate got no BASP handshake")
        foreign = self.other_ca.args("probe")
        for name, ctx in (("no certificate", tls_client(ca)),
                          ("a certificate of another CA", tls_client(ca, foreign[3], foreign[5]))):
            with self.subTest(name):
                try:
                    said = first_bytes(port, ctx)
                except (ssl.SSLError, ConnectionError):
                    said = b""
                self.assertEqual(said, b"", f"{name}: the node spoke BASP")
        with self.subTest("plain TCP"), socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"\x00" * 64)  # not a TLS record: the node answers with an alert or closes
            try:
                said = raw.recv(64)
            except ConnectionError:
                said = b""
            self.assertTrue(said == b"" or said[0] == 0x15, said)

    def test_2b_refused_handshakes_do_not_disturb_the_members(self):
        """libcaf_openssl left a refused handshake's errors on the multiplexer thread, and the next
        read of a member's connection failed on them (security/openssl_error_queue.cpp)."""
        no_cert = tls_client(self.ca.args("probe")[1])
        for port in self.cluster.ports * 5:
            try:
                first_bytes(port, no_cert)
            except (ssl.SSLError, ConnectionError):
                pass
            self.assertEqual(buy(self.a.port, self.api.user_token()[0], self.api.create_event()["id"]).status, 201)
        for member in (self.a, self.b):
            self.assertEqual(list(self.cluster.view(member).values()), ["UP", "UP"])
            self.assertEqual(member.log_lines("cluster.member_down"), [])

    def test_3_outsiders_cannot_join_forward_or_invalidate(self):
        foreign = self.foreign.client()
        self.assertTrue(wait_until(lambda: metric(foreign, "eventhub_cluster_connect_failures_total") >= 3, 30),
                        "the node of another CA never tried the seeds")
        for outsider in (self.plain, self.foreign):
            view = self.cluster.view(outsider)
            self.assertEqual(list(view.values()), ["UP"], f"an outsider sees members: {view}")
        for member in (self.a, self.b):
            self.assertEqual(set(self.cluster.view(member)), set(self.cluster.names))
        # Invalidate: an admin edit through an outsider does not reach a member's cached listing,
        # while the same edit through the other member does, at once.
        event = self.api.create_event(capacity=5, name="Before " + uuid.uuid4().hex[:6])
        admin = self.api.admin_token()
        listed = lambda: {e["id"]: e["name"] for e in self.a.client().get("/api/events?size=100").json["items"]}
        self.assertEqual(listed()[event["id"]], event["name"])
        body = {"venue": event["venue"], "startsAt": event["startsAt"], "capacity": 5}
        for outsider in (self.plain, self.foreign):
            r = outsider.client().put(f"/api/events/{event['id']}", {**body, "name": "Outsider"}, token=admin)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(listed()[event["id"]], event["name"], "an outsider invalidated a member's cache")
        r = self.b.client().put(f"/api/events/{event['id']}", {**body, "name": "Member"}, token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(listed()[event["id"]], "Member")
        # Forward: an outsider sells its purchases itself; no member receives one.
        received = [metric(m.client(), "eventhub_cluster_purchases_received_total") for m in (self.a, self.b)]
        token = self.api.user_token()[0]
        for outsider in (self.plain, self.foreign):
            self.assertEqual(buy(outsider.port, token, event["id"], 1).status, 201)
            self.assertEqual(metric(outsider.client(), "eventhub_cluster_purchases_forwarded_total"), 0)
        self.assertEqual([metric(m.client(), "eventhub_cluster_purchases_received_total") for m in (self.a, self.b)],
                         received)


if __name__ == "__main__":
    unittest.main()
