"""Runs the test suite's Node tools (tests/node/*.js) with the npm packages that
tests/support/install-node-tools put into the build tree (CTest's setup.node_tools)."""
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.normpath(os.path.join(HERE, "..", "node"))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
NODE_MODULES = os.environ.get("EVENTHUB_NODE_MODULES",
                              os.path.join(REPO, "build", "tests", "node", "node_modules"))
OUTPUT_DIR = os.environ.get("EVENTHUB_TEST_OUTPUT", os.path.join(REPO, "build", "test-output"))
CHROMIUM = os.environ.get("EVENTHUB_CHROMIUM", "/usr/bin/chromium")


def output_path(name):
    """A file under the test output directory (build/test-output/, ignored by git)."""
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    return os.path.join(OUTPUT_DIR, name)


def run(script, *args, timeout=180):
    """Runs tests/node/SCRIPT with node; fails (never skips) when a tool is missing."""
    node = shutil.which("node")
    if not node:
        raise AssertionError("node is missing: run scripts/install-deps --test")
    if not os.path.isdir(NODE_MODULES):
        raise AssertionError(f"{NODE_MODULES} is missing: run tests/support/install-node-tools "
                             f"{os.path.dirname(NODE_MODULES)} (CTest's setup.node_tools does)")
    env = dict(os.environ, NODE_PATH=NODE_MODULES, EVENTHUB_CHROMIUM=CHROMIUM)
    return subprocess.run([node, os.path.join(SCRIPTS, script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)
