"""Foundation: health, 404/405, request ids, configuration errors, migrations across processes,
checksum refusal, PostgreSQL restarts, the embedded default database and the admin CLI."""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Api, PrivatePostgres, Service, ServiceTestCase, TestDatabase



class BasicsTest(ServiceTestCase):
    def test_health_is_up_with_a_db_component(self):
        r = self.client.get("/actuator/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "UP")
        self.assertEqual(r.json["components"]["db"]["status"], "UP")
        self.assertIn("cluster", r.json["components"])

    def test_unknown_path_is_404_problem(self):
        r = self.client.get("/no/such/thing")
        self.assertProblem(r, 404, "not-found")
        self.assertEqual(r.json["instance"], "/no/such/thing")

    def test_wrong_method_is_405_with_allow_for_anyone(self):
        r = self.client.request("PATCH", "/api/events")
        self.assertProblem(r, 405)
        self.assertEqual(r.header("allow"), "GET, POST")
        r = self.client.delete("/actuator/health")
        self.assertProblem(r, 405)
        self.assertEqual(r.header("allow"), "GET")

    def test_request_id_is_echoed_or_generated(self):
        r = self.client.get("/actuator/health", headers={"X-Request-Id": "trace-abc-123"})
        self.assertEqual(r.header("x-request-id"), "trace-abc-123")
        generated = self.client.get("/actuator/health").header("x-request-id")
        self.assertRegex(generated, r"^[0-9a-f]{32}$")
        too_long = self.client.get("/actuator/health", headers={"X-Request-Id": "x" * 129})
        self.assertNotEqual(too_long.header("x-request-id"), "x" * 129)


class ConfigurationTest(unittest.TestCase):
    def run_binary(self, *args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([BIN, *args], capture_output=True, text=True, env=e, timeout=60)

    def test_bad_value_exits_2_with_one_line_naming_the_key(self):
        for args, env, key in [(["--http.port", "abc"], None, "http.port"),
                               ([], {"EVENTHUB_DB_POOL_SIZE": "0"}, "db.pool-size"),
                               (["--log.format", "yaml"], None, "log.format"),
                               (["--unknown.key", "1"], None, "unknown.key")]:
            r = self.run_binary(*args, env=env)
            self.assertEqual(r.returncode, 2, r)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn(key, lines[0])

    def test_file_then_environment_then_command_line(self):
        db = TestDatabase()
        workdir = tempfile.mkdtemp()
        try:
            conf = os.path.join(workdir, "eventhub.conf")
            ports = {name: os.path.join(workdir, name) for name in ("file", "env", "cli")}
            with open(conf, "w") as f:
                f.write(f"# reference file\nhttp.port-file = {ports['file']}\nlog.level = warn\n")
            svc = Service(db.url, "--config", conf, admin=False)
            svc.args = [a for a in svc.args if a not in ("--http.port-file", svc.port_file)]
            # the harness passes its own port file on the command line: drop it to test the file
            idx = svc.args.index(BIN)
            svc.args = [svc.args[idx]] + [a for a in svc.args[idx + 1:]]
            svc.port_file = ports["file"]
            svc.start()
            self.assertEqual(svc.client().get("/actuator/health").status, 200)
            svc.stop()
            svc.env["EVENTHUB_HTTP_PORT_FILE"] = ports["env"]
            svc.port_file = ports["env"]
            svc.start()
            self.assertTrue(os.path.exists(ports["env"]))
            svc.stop()
            svc.args += ["--http.port-file", ports["cli"]]
            svc.port_file = ports["cli"]
            svc.start()
            self.assertTrue(os.path.exists(ports["cli"]))
            self.assertEqual(svc.stop(), 0)
        finally:
            db.drop()
            shutil.rmtree(workdir, ignore_errors=True)


class MigrationsTest(unittest.TestCase):
    def test_two_processes_starting_together_apply_each_migration_once(self):
        db = TestDatabase()
        try:
            services = [Service(db.url, name=f"node{i}") for i in range(2)]
            for s in services:
                s.start(wait=False)
            for s in services:
                s.wait_ready()
            history = db.query("SELECT version, count(*) FROM flyway_schema_history GROUP BY version")
            self.assertTrue(history)
            for version, count in history:
                self.assertEqual(count, 1, f"version {version} applied {count} times")
            self.assertEqual(db.scalar("SELECT count(*) FROM participants WHERE role = 'ADMIN'"), 1)
            for s in services:
                self.assertEqual(s.stop(), 0)
        finally:
            db.drop()

    def test_a_changed_applied_migration_stops_startup_naming_the_file(self):
        db = TestDatabase()
        try:
            svc = Service(db.url).start()
            svc.stop()
            db.query("UPDATE flyway_schema_history SET checksum = checksum + 1 WHERE version = '1'")
            svc.start(wait=False)
            self.assertEqual(svc.proc.wait(60), 1)
            self.assertIn("V1__schema.sql", svc.output())
        finally:
            db.drop()


def wait_for(predicate, timeout=20, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class PostgresRestartTest(unittest.TestCase):
    def test_health_goes_down_then_up_without_a_restart_of_the_service(self):
        pg = PrivatePostgres()
        try:
            svc = Service(pg.url(), "--db.connect-timeout", "1s").start()
            client = svc.client()
            api = Api(client)
            token = api.admin_token()
            pg.stop()
            self.assertTrue(wait_for(lambda: client.get("/actuator/health").status == 503))
            down = client.get("/actuator/health")
            self.assertEqual(down.json["status"], "DOWN")
            self.assertEqual(down.json["components"]["db"]["status"], "DOWN")
            r = client.get("/api/events/1")
            self.assertProblem(r)
            self.assertIsNone(svc.proc.poll(), "the service must survive the outage")
            pg.start()
            self.assertTrue(wait_for(lambda: client.get("/actuator/health").status == 200, timeout=30))
            created = client.post("/api/events", {"name": "After", "venue": "V", "startsAt": "2099-01-01T00:00:00Z",
                                                  "capacity": 1}, token=token)
            self.assertEqual(created.status, 201, created)
            self.assertEqual(svc.stop(), 0)
        finally:
            pg.destroy()

    def assertProblem(self, r):
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.header("content-type"), "application/problem+json")
        self.assertIsNotNone(r.header("retry-after"))
        self.assertNotIn("pqxx", r.text)
        self.assertNotIn("SELECT", r.text)


class EmbeddedDatabaseTest(unittest.TestCase):
    def test_embedded_database_is_created_started_stopped_and_reused(self):
        workdir = tempfile.mkdtemp(prefix="eventhub-embedded-")
        os.chmod(workdir, 0o755)  # like a project checkout: other users may traverse it
        try:
            port_file = os.path.join(workdir, "port")
            args = [BIN, "--http.host", "127.0.0.1", "--http.port", "0", "--http.port-file", port_file,
                    "--db.embedded-dir", os.path.join(workdir, "data")]
            svc = Service("unused")
            svc.args, svc.port_file = args, port_file
            svc.start()
            self.assertEqual(svc.client().get("/actuator/health").json["status"], "UP")
            self.assertEqual(svc.stop(), 0)
            self.assertIn("db.embedded_initdb", svc.output())
            self.assertIn("db.embedded_stopped", svc.output())
            self.assertTrue(os.path.exists(os.path.join(workdir, "data", "pgdata", "PG_VERSION")))
            self.assertFalse(os.path.exists(os.path.join(workdir, "data", "pgdata", "postmaster.pid")))
            secret_file = os.path.join(workdir, "data", "jwt-secret")
            self.assertEqual(os.stat(secret_file).st_mode & 0o777, 0o600)
            first_secret = open(secret_file).read()
            svc.start()
            self.assertEqual(svc.client().get("/actuator/health").status, 200)
            self.assertEqual(svc.stop(), 0)
            self.assertEqual(svc.output().count("db.embedded_initdb"), 1, "the second start reuses the data")
            self.assertEqual(open(secret_file).read(), first_secret)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


class AdminCliTest(unittest.TestCase):
    def test_create_user_reads_the_password_from_stdin_never_argv(self):
        db = TestDatabase()
        try:
            secret = "s" * 40
            cmd = [BIN, "admin", "create-user", "--email", "Boss@Example.com", "--role", "ADMIN",
                   "--db.url", db.url, "--jwt.secret", secret]
            r = subprocess.run(cmd, input="boss-password-1\n", capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("ADMIN", r.stdout)
            self.assertEqual(db.scalar("SELECT role FROM participants WHERE email = 'boss@example.com'"), "ADMIN")
            again = subprocess.run(cmd, input="boss-password-1\n", capture_output=True, text=True, timeout=60)
            self.assertEqual(again.returncode, 1)
            short = subprocess.run(cmd[:4] + ["other@example.com"] + cmd[5:], input="short\n",
                                   capture_output=True, text=True, timeout=60)
            self.assertEqual(short.returncode, 2)
            svc = Service(db.url, admin=False, secret=secret).start()
            token = Api(svc.client()).login("boss@example.com", "boss-password-1")
            self.assertEqual(svc.client().get("/api/me", token=token).json["role"], "ADMIN")
            svc.stop()
        finally:
            db.drop()


if __name__ == "__main__":
    unittest.main()
