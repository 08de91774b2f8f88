"""The embedded PostgreSQL never outlives the service, and a server left behind is harmless.

Real processes only: the eventhub binary with no db.url (so it runs its project-local PostgreSQL),
signals as `timeout`, a supervisor or Ctrl-C send them, kill -9. A process belongs to the embedded
server when its working directory is the data directory (the postmaster and every backend run
there), so nothing here matches process names. No fixed sleeps: every wait is for a condition,
with a deadline. Whatever a test leaves running is killed by its cleanup, even when it fails.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import psycopg2

from harness import ADMIN_EMAIL, ADMIN_PASSWORD, BIN, FAST_HASHING, Api, Client, Service

IS_ROOT = os.geteuid() == 0


def wait_until(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{message} (waited {timeout} s)")


def processes_in(directory):
    """Pids of the processes whose working directory is `directory`."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.readlink(f"/proc/{name}/cwd") == directory:
                    pids.append(int(name))
            except OSError:
                pass
    return pids


def watchdogs_of(pgdata):
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"eventhub-pg-watchdog" in argv and pgdata.encode() in argv:
                pids.append(int(name))
    return pids


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours is dead for this purpose
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class EmbeddedDatabaseLifecycleTest(unittest.TestCase):
    """One data directory for the class (initdb once); each test starts from no server running."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="eventhub-embedded-")
        os.chmod(cls.workdir, 0o755)  # like a checkout: user postgres (when run as root) traverses it
        cls.data = os.path.join(cls.workdir, "data")
        cls.pgdata = os.path.join(cls.data, "pgdata")

    @classmethod
    def tearDownClass(cls):
        if not os.environ.get("EVENTHUB_KEEP_TEST_DIRS"):
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        self.services = []
        self.addCleanup(self.kill_everything)

    def kill_everything(self):
        for svc in self.services:
            svc.kill()
        for pid in watchdogs_of(self.pgdata) + (processes_in(self.pgdata) if os.path.isdir(self.pgdata) else []):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if os.path.isdir(self.pgdata):
            wait_until(lambda: not processes_in(self.pgdata), 10, "the killed PostgreSQL did not go")

    # --- helpers ---

    def service(self, *extra):
        svc = Service("unused")
        port_file = os.path.join(svc.workdir, "port")
        svc.args = [BIN, "--http.host", "127.0.0.1", "--http.port", "0", "--http.port-file", port_file,
                    "--db.embedded-dir", self.data, "--admin.email", ADMIN_EMAIL,
                    "--admin.password", ADMIN_PASSWORD, *FAST_HASHING, *extra]
        svc.port_file = port_file
        self.services.append(svc)
        return svc

    def postmaster(self):
        """The running postmaster of the data directory (its pid file names it), or None."""
        try:
            with open(os.path.join(self.pgdata, "postmaster.pid")) as f:
                pid = int(f.readline())
        except (OSError, ValueError):
            return None
        return pid if pid in processes_in(self.pgdata) else None

    def connect_embedded(self):
        socket_dir = os.path.join(self.data, "run")
        return psycopg2.connect(host=socket_dir, port=5432, user="eventhub", dbname="eventhub")

    def assertNothingLeft(self):
        wait_until(lambda: not processes_in(self.pgdata) and not watchdogs_of(self.pgdata), 30,
                   f"PostgreSQL {processes_in(self.pgdata)} or its watchdog {watchdogs_of(self.pgdata)} "
                   "outlived the service")
        self.assertFalse(os.path.exists(os.path.join(self.pgdata, "postmaster.pid")))

    def assertExits(self, svc, timeout, code=0):
        try:
            self.assertEqual(svc.proc.wait(timeout), code, svc.output()[-3000:])
        except subprocess.TimeoutExpired:
            self.fail(f"eventhub did not exit within {timeout} s:\n{svc.output()[-3000:]}")

    # --- a second stop signal during shutdown ---

    def second_signal_during_shutdown(self, sig):
        svc = self.service("--http.request-timeout", "60s", "--db.lock-timeout", "60s").start()
        api = Api(svc.client())
        token, _ = api.user_token()
        event = api.create_event(capacity=5)
        # A purchase waits for a row lock we hold: a request in flight that the shutdown waits for.
        blocker = self.connect_embedded()
        blocker.autocommit = False
        blocker.cursor().execute("SELECT * FROM events WHERE id = %s FOR UPDATE", (event["id"],))
        result = {}

        def purchase():
            try:
                result["r"] = Client(svc.port).post(f"/api/events/{event['id']}/purchases",
                                                    {"quantity": 1}, token=token)
            except OSError as e:
                result["r"] = e
        t = threading.Thread(target=purchase, daemon=True)
        t.start()
        wait_until(lambda: blocker_waits(blocker), 20, "the purchase never waited for the row lock")

        svc.proc.send_signal(sig)
        wait_until(lambda: listener_closed(svc.port), 20, "the service did not start stopping")
        self.assertIsNone(svc.proc.poll(), "the first signal did not wait for the request in flight")
        svc.proc.send_signal(sig)  # as `timeout`, a supervisor or an impatient Ctrl-C does
        wait_until(lambda: "service.stopping_now" in svc.output(), 20, "the second signal was not taken")
        wait_until(lambda: "http.stop_with_requests_in_flight" in svc.output(), 10,
                   "the second signal did not end the wait for the request in flight")
        self.assertIsNone(svc.proc.poll(), "the second signal ended the process before its cleanup")
        svc.proc.send_signal(sig)  # a third one changes nothing
        blocker.rollback()  # the purchase's database work completes; the actors drain it
        blocker.close()
        self.assertExits(svc, 60)
        svc.log.close()
        out = svc.output()
        self.assertIn("service.stopped", out)
        self.assertIn("db.embedded_stopped", out)
        self.assertNothingLeft()
        t.join(30)

    def test_sigterm_twice_during_shutdown_stops_postgres_too(self):
        self.second_signal_during_shutdown(signal.SIGTERM)

    def test_sigint_twice_during_shutdown_stops_postgres_too(self):
        self.second_signal_during_shutdown(signal.SIGINT)

    # --- eventhub killed ---

    def test_kill_9_of_eventhub_alone_its_watchdog_stops_postgres(self):
        svc = self.service().start()
        self.assertTrue(self.postmaster())
        self.assertEqual(len(watchdogs_of(self.pgdata)), 1)
        svc.kill()
        self.assertNothingLeft()
        with open(os.path.join(self.data, "setup.log")) as f:
            self.assertIn("server stopped", f.read()[-200:], "stopped by the watchdog's pg_ctl")

        # Killed again and restarted at once, while the watchdog may still be stopping the server:
        # the next start waits for it (the watchdog holds the lock) and never adopts a dying one.
        svc.start()
        svc.kill()
        again = self.service().start()
        self.assertEqual(again.client().get("/actuator/health").json["status"], "UP")
        again.stop()
        self.assertNothingLeft()

    def kill_9_with_its_watchdog(self, svc):
        watchdogs = watchdogs_of(self.pgdata)
        self.assertEqual(len(watchdogs), 1, "one watchdog per embedded server")
        os.kill(watchdogs[0], signal.SIGKILL)
        wait_until(lambda: not alive(watchdogs[0]), 10, "the watchdog survived SIGKILL")
        svc.kill()

    def test_a_server_left_by_kill_9_is_adopted_with_its_data_and_stopped_cleanly(self):
        svc = self.service().start()
        event = Api(svc.client()).create_event(name="Survives kill -9")
        leftover = self.postmaster()
        self.kill_9_with_its_watchdog(svc)
        self.assertEqual(self.postmaster(), leftover, "the test needs a leftover server")

        again = self.service().start()
        self.assertIn("db.embedded_adopted", again.output())
        self.assertEqual(self.postmaster(), leftover, "adopted, not restarted")
        r = again.client().get(f"/api/events/{event['id']}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["name"], "Survives kill -9")
        self.assertEqual(len(watchdogs_of(self.pgdata)), 1, "the adopted server has a watchdog again")
        self.assertEqual(again.stop(), 0)
        self.assertIn("db.embedded_stopped", again.output())
        self.assertNothingLeft()

    def test_a_leftover_not_listening_on_our_socket_is_stopped_and_started_again(self):
        svc = self.service().start()
        event = Api(svc.client()).create_event(name="Survives a restart")
        leftover = self.postmaster()
        self.kill_9_with_its_watchdog(svc)
        os.remove(os.path.join(self.data, "run", ".s.PGSQL.5432"))  # e.g. a /tmp cleaner

        again = self.service().start()
        self.assertIn("db.embedded_restarting", again.output())
        self.assertFalse(alive(leftover), "the leftover was not stopped")
        self.assertNotEqual(self.postmaster(), leftover)
        r = again.client().get(f"/api/events/{event['id']}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(again.stop(), 0)
        self.assertNothingLeft()

    # --- a stale postmaster.pid ---

    def write_stale_pid_file(self, pid):
        path = os.path.join(self.pgdata, "postmaster.pid")
        with open(path, "w") as f:  # the layout PostgreSQL writes
            f.write(f"{pid}\n{self.pgdata}\n{int(time.time()) - 3600}\n5432\n{os.path.join(self.data, 'run')}\n"
                    "\n  5432001      7\nready   \n")
        if IS_ROOT:
            shutil.chown(path, "postgres", "postgres")

    def test_a_stale_postmaster_pid_does_not_stop_the_next_start(self):
        self.service().start().stop()  # the cluster exists, nothing runs
        self.assertNothingLeft()
        cases = {}
        dead = subprocess.Popen(["true"])
        dead.wait()
        cases["a dead pid"] = dead.pid
        # A dead server's pid reused by a live process of the server's user: pg_ctl status calls
        # that "running", PostgreSQL refuses to start over it, and pg_ctl stop would signal it.
        unrelated = subprocess.Popen(["sleep", "120"], user="postgres" if IS_ROOT else None)
        self.addCleanup(lambda: (unrelated.kill(), unrelated.wait()))
        cases["a pid reused by another process"] = unrelated.pid
        for name, pid in cases.items():
            with self.subTest(name):
                self.write_stale_pid_file(pid)
                svc = self.service().start()
                self.assertNotIn("db.embedded_adopted", svc.output())
                self.assertIn("db.embedded_started", svc.output())
                self.assertNotEqual(self.postmaster(), pid)
                self.assertEqual(svc.client().get("/actuator/health").json["status"], "UP")
                self.assertEqual(svc.stop(), 0)
                self.assertNothingLeft()
        self.assertIsNone(unrelated.poll(), "the process that reused the pid was signalled")


def blocker_waits(blocker_conn):
    """Whether some other session waits for a lock (the purchase, on the row we hold)."""
    with psycopg2.connect(blocker_conn.dsn) as probe:
        with probe.cursor() as c:
            c.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            waiting = c.fetchone()[0] > 0
    probe.close()
    return waiting


def listener_closed(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


if __name__ == "__main__":
    unittest.main()
