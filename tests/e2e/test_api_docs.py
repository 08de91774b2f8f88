"""GET /v3/api-docs and Swagger UI's files, on the real binary.

The served OpenAPI document passes an independent validator (@apidevtools/swagger-parser, from
the npm registry, tests/node/validate_openapi.js), and it agrees with the running router: every
documented operation exists, every other method on a documented path answers 405 with exactly
the documented methods, and the documented security and 403s are what the service does.
/swagger-ui/ serves Swagger UI (swagger-ui-dist) with the right content types, our initializer,
404 problems for anything else and no path traversal.
"""
import copy
import json
import os
import re
import shutil
import tempfile
import unittest

import node_tools
from harness import Service, ServiceTestCase, TestDatabase

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
UNKNOWN_ID = "987654321"


def sample_path(template):
    """A concrete path for a documented template: ids that exist nowhere, a real UI file."""
    return (template.replace("{id}", UNKNOWN_ID).replace("{typeId}", UNKNOWN_ID)
            .replace("{file}", "index.html"))


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method.upper() in METHODS:
                yield path, method.upper(), op


class ApiDocsTest(ServiceTestCase):
    service_args = ("--purchase.max-per-order", "7")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.response = cls.client.get("/v3/api-docs")
        cls.doc = cls.response.json
        cls.workdir = tempfile.mkdtemp(prefix="eventhub-api-docs-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.workdir, ignore_errors=True)
        super().tearDownClass()

    def validate(self, doc, name):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return node_tools.run("validate_openapi.js", path)

    def test_served_as_openapi_3_json_for_anyone(self):
        self.assertEqual(self.response.status, 200)
        self.assertEqual(self.response.header("content-type"), "application/json")
        self.assertEqual(self.doc["openapi"], "3.0.3")
        scheme = self.doc["components"]["securitySchemes"]["bearerAuth"]
        self.assertEqual((scheme["type"], scheme["scheme"], scheme["bearerFormat"]),
                         ("http", "bearer", "JWT"))

    def test_independent_validator_accepts_the_served_document(self):
        r = self.validate(self.doc, "served.json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        count = sum(1 for _ in operations(self.doc))
        self.assertIn(f"valid OpenAPI 3.0.3: {len(self.doc['paths'])} paths, {count} operations",
                      r.stdout)

    def test_independent_validator_rejects_broken_copies(self):
        # The validator must really validate: each of these breaks the OpenAPI 3.0 schema or a $ref.
        no_responses = copy.deepcopy(self.doc)
        del no_responses["paths"]["/api/events"]["get"]["responses"]
        body_parameter = copy.deepcopy(self.doc)
        body_parameter["paths"]["/api/me"]["get"]["parameters"].append(
            {"name": "x", "in": "body", "schema": {"type": "string"}})
        dangling_ref = copy.deepcopy(self.doc)
        dangling_ref["paths"]["/api/me"]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"] = {"$ref": "#/components/schemas/NoSuchSchema"}
        for name, broken in [("no-responses.json", no_responses), ("body.json", body_parameter),
                             ("dangling.json", dangling_ref)]:
            with self.subTest(name):
                r = self.validate(broken, name)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn("invalid", r.stderr)

    def test_every_documented_operation_is_routed_and_other_methods_are_405(self):
        for path, item in self.doc["paths"].items():
            documented = sorted(m.upper() for m in item if m.upper() in METHODS)
            for method in METHODS:
                with self.subTest(path=path, method=method):
                    r = self.client.request(method, sample_path(path))
                    if method in documented:
                        self.assertNotEqual(r.status, 405, r)
                        if r.status == 404:  # an unknown id, never an unknown route
                            self.assertNotEqual(r.json["detail"], "No resource at this path.")
                    else:
                        self.assertProblem(r, 405)
                        self.assertEqual(r.header("allow"), ", ".join(documented))

    def test_documented_security_is_what_the_service_enforces(self):
        tokens = {"USER": self.api.user_token()[0], "ADMIN": self.api.admin_token(),
                  "STAFF": self.api.staff_token()[0]}
        for path, method, op in operations(self.doc):
            with self.subTest(path=path, method=method):
                protected = op.get("security") == [{"bearerAuth": []}]
                self.assertIn("**Access:**", op["description"])
                anonymous = self.client.request(method, sample_path(path))
                if protected:
                    self.assertProblem(anonymous, 401)
                    self.assertEqual(anonymous.header("www-authenticate"), "Bearer")
                    self.assertEqual(op["responses"]["401"],
                                     {"$ref": "#/components/responses/Unauthorized"})
                else:
                    self.assertNotIn("security", op)
                    self.assertNotIn(anonymous.status, (401, 403), anonymous)
                forbidden = {role for role, token in tokens.items()
                             if self.client.request(method, sample_path(path),
                                                    token=token).status == 403}
                if "403" in op["responses"]:
                    # the roles the description names are allowed, every other one is 403
                    allowed = set(tokens) - forbidden
                    self.assertTrue(allowed and forbidden, (allowed, forbidden))
                    for role in tokens:
                        self.assertEqual(f"`{role}`" in op["description"].split("**Access:**")[1],
                                         role in allowed, role)
                else:
                    self.assertEqual(forbidden, set())

    def test_every_response_documents_x_request_id(self):
        shared = self.doc["components"]["responses"]
        for path, method, op in operations(self.doc):
            for status, response in op["responses"].items():
                with self.subTest(path=path, method=method, status=status):
                    if "$ref" in response:
                        response = shared[response["$ref"].rsplit("/", 1)[1]]
                    self.assertEqual(response["headers"]["X-Request-Id"],
                                     {"$ref": "#/components/headers/XRequestId"})
            self.assertIn({"$ref": "#/components/parameters/XRequestId"}, op["parameters"])

    def test_purchase_quantity_maximum_is_the_configured_one(self):
        quantity = self.doc["components"]["schemas"]["PurchaseRequest"]["properties"]["quantity"]
        self.assertEqual((quantity["minimum"], quantity["maximum"]), (1, 7))

    def test_summaries_come_from_the_route_table(self):
        op = self.doc["paths"]["/api/events/{id}/purchases"]["post"]
        self.assertEqual(op["summary"], "Buy tickets")
        self.assertEqual(list(op["responses"]), sorted(op["responses"]))


class SwaggerUiTest(ServiceTestCase):
    def test_without_slash_redirects(self):
        r = self.client.get("/swagger-ui")
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header("location"), "/swagger-ui/")

    def test_page_and_every_file_it_loads(self):
        page = self.client.get("/swagger-ui/")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.header("content-type"), "text/html; charset=utf-8")
        self.assertEqual(self.client.get("/swagger-ui/index.html").raw, page.raw)
        assets = re.findall(r'(?:src|href)="(?:\./)?([^"/]+)"', page.text)
        expected = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                    ".png": "image/png"}
        self.assertTrue({"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                         "swagger-initializer.js", "swagger-ui.css"} <= set(assets), assets)
        for name in assets:
            with self.subTest(name):
                r = self.client.get(f"/swagger-ui/{name}")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("content-type"), expected[os.path.splitext(name)[1]])
                self.assertEqual(r.header("x-content-type-options"), "nosniff")
                self.assertGreater(len(r.raw), 100)
                if name.endswith(".png"):
                    self.assertTrue(r.raw.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertIn(b"SwaggerUIBundle", self.client.get("/swagger-ui/swagger-ui-bundle.js").raw)

    def test_initializer_is_ours_and_points_at_the_api_docs(self):
        js = self.client.get("/swagger-ui/swagger-initializer.js").text
        self.assertIn('"../v3/api-docs"', js)
        self.assertIn("persistAuthorization: true", js)
        self.assertNotIn("petstore.swagger.io", js)  # the package default

    def test_other_files_are_404_problems(self):
        for name in ["nope.js", "package.json", "swagger-ui-bundle.js.map", "README.md",
                     "absolute-path.js", "INDEX.HTML"]:
            with self.subTest(name):
                self.assertProblem(self.client.get(f"/swagger-ui/{name}"), 404, "not-found")

    def test_no_path_traversal(self):
        for target in ["/swagger-ui/../../../../etc/passwd",
                       "/swagger-ui/..%2f..%2f..%2f..%2fetc%2fpasswd",
                       "/swagger-ui/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                       "/swagger-ui/..", "/swagger-ui/%2e%2e", "/swagger-ui/.",
                       "/swagger-ui/..%5c..%5cetc%5cpasswd", "/swagger-ui/..\\..\\etc\\passwd",
                       "/swagger-ui//etc/passwd", "/swagger-ui/%2fetc%2fpasswd",
                       "/swagger-ui/index.html%00.png", "/swagger-ui/./index.html",
                       "/swagger-ui/../v3/api-docs"]:
            with self.subTest(target):
                r = self.client.get(target)
                self.assertProblem(r, 404, "not-found")
                self.assertNotIn("root:", r.text)


class SwaggerUiDirectoryTest(unittest.TestCase):
    """docs.swagger-ui-dir: only Swagger UI's own files are served from it; without it the
    service still runs and /swagger-ui/ is a 404 problem."""

    @classmethod
    def setUpClass(cls):
        cls.db = TestDatabase()
        cls.tmp = tempfile.mkdtemp(prefix="eventhub-swagger-ui-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        cls.db.drop()

    def serve(self, ui_dir):
        svc = Service(self.db.url, "--docs.swagger-ui-dir", ui_dir, admin=False).start()
        self.addCleanup(svc.stop)
        client = svc.client()
        self.addCleanup(client.close)
        return svc, client

    def test_serves_only_swagger_ui_files_of_the_configured_directory(self):
        ui_dir = os.path.join(self.tmp, "ui")
        os.makedirs(ui_dir)
        with open(os.path.join(ui_dir, "index.html"), "w") as f:
            f.write("<html>our copy</html>")
        for secret in (os.path.join(ui_dir, "secret.txt"), os.path.join(self.tmp, "secret.txt")):
            with open(secret, "w") as f:
                f.write("top secret")
        os.symlink("/etc/passwd", os.path.join(ui_dir, "passwd.js"))
        _, client = self.serve(ui_dir)
        self.assertEqual(client.get("/swagger-ui/").text, "<html>our copy</html>")
        for target in ["/swagger-ui/secret.txt", "/swagger-ui/..%2fsecret.txt",
                       "/swagger-ui/../secret.txt", "/swagger-ui/passwd.js",
                       "/swagger-ui/swagger-ui.css"]:  # missing from this directory
            with self.subTest(target):
                r = client.get(target)
                self.assertEqual(r.status, 404, r)
                self.assertNotIn("top secret", r.text)
                self.assertNotIn("root:", r.text)

    def test_missing_directory_leaves_the_service_up_and_swagger_ui_404(self):
        svc, client = self.serve(os.path.join(self.tmp, "not-installed"))
        r = client.get("/swagger-ui/")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("content-type"), "application/problem+json")
        self.assertIn("not installed", r.json["detail"])
        self.assertEqual(client.get("/v3/api-docs").status, 200)
        self.assertEqual(client.get("/actuator/health").status, 200)
        self.assertIn("docs.swagger_ui_incomplete", svc.output())


if __name__ == "__main__":
    unittest.main()
