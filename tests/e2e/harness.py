"""End-to-end test harness: throwaway databases, the real eventhub binary, an HTTP client.

Everything here talks to real processes: PostgreSQL (EVENTHUB_TEST_PG, started by
scripts/test), the eventhub binary (EVENTHUB_BIN) on a free port, over real HTTP.
"""
import atexit
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import uuid

import psycopg2

SUPPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support")
BIN = os.environ.get("EVENTHUB_BIN", os.path.join(os.path.dirname(__file__), "../../build/app/eventhub"))
ADMIN_EMAIL = "admin@eventhub.test"
ADMIN_PASSWORD = "admin-" + secrets.token_hex(8)
FAST_HASHING = ["--security.argon2-memory-kib", "8192", "--security.argon2-iterations", "1"]


def pg_dsn(dbname="postgres"):
    base = os.environ.get("EVENTHUB_TEST_PG")
    if not base:
        raise unittest.SkipTest("EVENTHUB_TEST_PG is not set (run the tests with scripts/test)")
    parts = dict(p.split("=", 1) for p in base.split())
    parts["dbname"] = dbname
    return " ".join(f"{k}={v}" for k, v in parts.items())


def pg_url(dbname):
    parts = dict(p.split("=", 1) for p in pg_dsn(dbname).split())
    return f"postgresql://{parts.get('user', 'postgres')}@{parts['host']}:{parts['port']}/{dbname}"


class TestDatabase:
    """A fresh, empty database on the test server, dropped by drop()."""

    def __init__(self):
        self.name = "eh_" + uuid.uuid4().hex[:16]
        with self._admin() as conn:
            conn.cursor().execute(f'CREATE DATABASE "{self.name}" TEMPLATE template0')
        self.url = pg_url(self.name)

    @staticmethod
    def _admin():
        conn = psycopg2.connect(pg_dsn())
        conn.autocommit = True
        return _Closing(conn)

    def connect(self):
        conn = psycopg2.connect(pg_dsn(self.name))
        conn.autocommit = True
        return conn

    def query(self, sql, *args):
        with _Closing(self.connect()) as conn:
            cur = conn.cursor()
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None

    def scalar(self, sql, *args):
        return self.query(sql, *args)[0][0]

    def drop(self):
        with self._admin() as conn:
            cur = conn.cursor()
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (self.name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{self.name}"')


class _Closing:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()


class PrivatePostgres:
    """A PostgreSQL of the test's own, so it can be stopped and started."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="eventhub-private-pg-")
        out = subprocess.run([os.path.join(SUPPORT, "test-postgres"), "start", self.dir],
                             capture_output=True, text=True, check=True)
        self.port = int(out.stdout.strip())
        self.bin = sorted(os.listdir("/usr/lib/postgresql"))[-1]

    def pg_ctl(self, *args):
        cmd = [f"/usr/lib/postgresql/{self.bin}/bin/pg_ctl", "-D", os.path.join(self.dir, "data"), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, capture_output=True)

    def stop(self):
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start(self):
        self.pg_ctl("-l", os.path.join(self.dir, "server.log"), "-o", f"-p {self.port}", "-w", "start")

    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def query(self, sql, *args):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        try:
            cur = conn.cursor()
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def scalar(self, sql, *args):
        return self.query(sql, *args)[0][0]

    def destroy(self):
        subprocess.run([os.path.join(SUPPORT, "test-postgres"), "stop", self.dir], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = body
        self.text = body.decode("utf-8", "replace")

    @property
    def json(self):
        return json.loads(self.text) if self.text else None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.text[:300]}>"


class Client:
    """HTTP/1.1 client on one keep-alive connection (reconnects when the server closes it)."""

    def __init__(self, port, host="127.0.0.1", timeout=30, source_address=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.source_address = (source_address, 0) if source_address else None  # e.g. "127.0.0.2"
        self.conn = None

    def request(self, method, path, body=None, token=None, headers=None, raw_body=None,
                content_type="application/json"):
        hdrs = dict(headers or {})
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = content_type
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                                       source_address=self.source_address)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                resp = Response(r.status, r.getheaders(), r.read())
                if resp.header("connection") == "close":
                    self.close()
                return resp
            except (ConnectionError, http.client.RemoteDisconnected, http.client.CannotSendRequest,
                    BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __del__(self):
        self.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_running = []
_workdirs = []


@atexit.register
def _kill_leftovers():
    """A failed test must not leave a server behind (CI machines run many tests in a row), nor
    its files (EVENTHUB_KEEP_TEST_DIRS=1 keeps them for a post-mortem; failures print the log)."""
    for proc in _running:
        if proc.poll() is None:
            proc.kill()
    if not os.environ.get("EVENTHUB_KEEP_TEST_DIRS"):
        for d in _workdirs:
            shutil.rmtree(d, ignore_errors=True)


class Service:
    """The real eventhub binary against a database URL, on a free port."""

    def __init__(self, db_url, *extra, admin=True, secret=None, env=None, name="eventhub"):
        self.workdir = tempfile.mkdtemp(prefix="eventhub-e2e-")
        _workdirs.append(self.workdir)
        self.port_file = os.path.join(self.workdir, "port")
        self.log_path = os.path.join(self.workdir, f"{name}.log")
        self.secret = secret or secrets.token_hex(32)
        self.args = [BIN, "--db.url", db_url, "--http.host", "127.0.0.1", "--http.port", "0",
                     "--http.port-file", self.port_file, "--jwt.secret", self.secret,
                     "--db.embedded-dir", os.path.join(self.workdir, "embedded"), *FAST_HASHING]
        if admin:
            self.args += ["--admin.email", ADMIN_EMAIL, "--admin.password", ADMIN_PASSWORD]
        self.args += list(extra)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.port = None

    def start(self, wait=True):
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        _running.append(self.proc)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"eventhub exited with {self.proc.returncode}:\n{self.output()}")
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    self.port = int(f.read().strip())
                probe = self.client()
                try:
                    if probe.get("/actuator/health").status == 200:
                        return
                except OSError:
                    pass
                finally:
                    probe.close()
            time.sleep(0.05)
        raise AssertionError(f"eventhub did not become ready:\n{self.output()}")

    def client(self, source_address=None):
        return Client(self.port, source_address=source_address)

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("eventhub did not stop on SIGTERM")
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.log.close()

    def crash_report(self, limit=3000):
        """What the process printed apart from its log lines (a sanitizer's report, "terminate
        called ...", a CAF abort), then the last log lines: the report comes first so that a
        truncated CI excerpt still shows why the process died."""
        lines = self.output().splitlines()
        other = [l for l in lines if not re.match(r'\d{4}-\d\d-\d\dT|\{"ts":', l)]
        report = "\n".join(other)
        if len(report) > limit:  # a sanitizer's first report says most: keep it and the end
            report = report[: limit * 2 // 3] + "\n[...]\n" + report[-limit // 3 :]
        return f"{report}\n--- last log lines:\n" + "\n".join(lines[-10:])[-limit:]

    def output(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_lines(self, event=None):
        """The JSON log lines (run with --log.format json), optionally of one event."""
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if event is None or obj.get("event") == event:
                    lines.append(obj)
        return lines


def metric(client, name, **labels):
    """The value of one Prometheus series from GET /actuator/prometheus (0 when absent)."""
    r = client.get("/actuator/prometheus")
    assert r.status == 200, r
    series = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in r.text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


class Api:
    """Typical calls of the contract, asserting they succeed."""

    def __init__(self, client):
        self.c = client
        self._admin_token = None

    def login(self, email, password):
        r = self.c.post("/api/auth/login", {"email": email, "password": password})
        assert r.status == 200, r
        return r.json["accessToken"]

    def admin_token(self):
        if self._admin_token is None:
            self._admin_token = self.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        return self._admin_token

    def register(self, email=None, password="password-123", full_name="Test User"):
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        r = self.c.post("/api/auth/register", {"email": email, "password": password, "fullName": full_name})
        assert r.status == 201, r
        return r.json

    def user_token(self, email=None, password="password-123"):
        p = self.register(email, password)
        return self.login(p["email"], password), p

    def staff_token(self, email=None, password="password-123"):
        """A STAFF account made by the ADMIN, signed in."""
        email = email or f"staff-{uuid.uuid4().hex[:12]}@example.com"
        r = self.c.post("/api/participants", {"email": email, "password": password,
                                              "fullName": "Door Staff", "role": "STAFF"},
                        token=self.admin_token())
        assert r.status == 201, r
        return self.login(email, password), r.json

    def create_event(self, capacity=100, name=None, venue="Main Hall", starts_in_days=30, **extra):
        body = {"name": name or f"Event {uuid.uuid4().hex[:8]}", "venue": venue,
                "startsAt": iso_in(days=starts_in_days), "capacity": capacity, **extra}
        r = self.c.post("/api/events", body, token=self.admin_token())
        assert r.status == 201, r
        return r.json


def iso_in(days=0, seconds=0):
    t = time.time() + days * 86400 + seconds
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class ServiceTestCase(unittest.TestCase):
    """One database and one service for the whole test class."""

    service_args = ()

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        cls.service = Service(cls.db.url, *cls.service_args).start()
        cls.client = cls.service.client()
        cls.api = Api(cls.client)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        code = cls.service.stop()
        cls.db.drop()
        if code not in (0, None):
            raise AssertionError(f"eventhub exited with {code}:\n{cls.service.crash_report()}")

    def assertProblem(self, r, status, type_suffix=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("content-type"), "application/problem+json", r)
        body = r.json
        for key in ("type", "title", "status", "detail", "instance"):
            self.assertIn(key, body, r)
        self.assertEqual(body["status"], status)
        if type_suffix:
            self.assertTrue(body["type"].endswith("/" + type_suffix), body["type"])
        return body

    def field_errors(self, r):
        body = self.assertProblem(r, 400)
        return {e["field"]: e["message"] for e in body.get("errors", [])}
