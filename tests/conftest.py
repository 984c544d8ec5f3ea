"""Shared fixtures: a real HTTP server on 127.0.0.1 in a thread, repo paths, --update-golden,
and ``fresh_db``: an empty scratch database on SQLite, PostgreSQL and MariaDB (tests/dbs.py).

Every test runs without the shell's ``APPCTL_*`` variables and LLM provider keys in
``os.environ`` (``hermetic_environ``); subprocesses start from nothing (tests/runner.py)."""

from __future__ import annotations

import http.server
import importlib.util
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

# The MCP SDK's stdio client binds its default errlog to the sys.stderr of the moment it is
# first imported: imported here, that is pytest's stream, not the stand-in stream of a
# CliRunner that an in-process `appctl sync --mcp` happened to import it under (a later
# stdio client of that worker would then fail with "fileno").
import mcp.client.stdio  # noqa: F401  isort: skip

from tests import dbs, runner

REPO = Path(__file__).resolve().parent.parent
NPM = REPO / ".cache" / "npm" / "node_modules"
Routes = dict[str, tuple[int, str, bytes]]

# fixtures/app: the pet store with its own OpenAPI document, served from a thread
_spec = importlib.util.spec_from_file_location(
    "fixture_app", REPO / "fixtures" / "app" / "server.py"
)
assert _spec is not None and _spec.loader is not None
fixture_app = importlib.util.module_from_spec(_spec)
sys.modules["fixture_app"] = fixture_app  # dataclasses look their module up
_spec.loader.exec_module(fixture_app)
App, serve = fixture_app.App, fixture_app.serve
TOKEN = "fixture-token-77"  # the bearer token the fixture app wants


def interruptible() -> None:
    """``preexec_fn`` for a child the test will Ctrl-C: SIGINT back to its default. A test run
    started in the background by a shell without job control (as CI may be) inherits SIGINT
    ignored, and Python then installs no KeyboardInterrupt handler: the child would never see
    the test's SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_appctl(cwd: Path, *args: str, code: int, token: str = TOKEN) -> runner.Invoked:
    """``appctl ARGS`` in ``cwd`` in process with the bearer token set and no terminal;
    asserts the exit code and that nothing raised to a traceback."""
    return runner.invoke(*args, cwd=cwd, code=code, env={"APPCTL_BEARER_TOKEN": token})


@pytest.fixture(scope="session", autouse=True)
def hermetic_session() -> Iterator[None]:
    """The same for module- and session-scoped fixtures, which are set up before any
    function-scoped fixture runs (a module's shared contract synced in the shell's
    APPCTL_APP_DIR is how scripts/test's scratch dir once received a schema.json)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in runner.shell_leaks(os.environ):
            patch.delenv(name)
        yield


@pytest.fixture(autouse=True)
def hermetic_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the shell's APPCTL_* variables or LLM provider keys (a developer's
    APPCTL_APP_DIR would otherwise receive the tests' contracts)."""
    for name in runner.shell_leaks(os.environ):
        monkeypatch.delenv(name)


@contextmanager
def pet_store() -> Iterator[Any]:
    """The fixture app on 127.0.0.1, on a port of its own."""
    app = App(token=TOKEN)
    server, thread = serve(app)
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def pets() -> Iterator[Any]:
    """The fixture app on 127.0.0.1; ``pets.seen`` records every request it answers."""
    with pet_store() as app:
        yield app


@pytest.fixture
def project(tmp_path: Path, pets: Any) -> Path:
    """A project folder whose contract is fixtures/app/openapi.yaml, aimed at the running app."""
    spec = REPO / "fixtures" / "app" / "openapi.yaml"
    runner.invoke("sync", "--openapi", str(spec), "--base-url", pets.url, cwd=tmp_path)
    return tmp_path


# The slowest tests by ``pytest --durations`` (setup + call + teardown, seconds on 2 shared
# cores at a load average of about 20): ``pytest -m "not slow"`` is the fast path, the whole
# suite (scripts/test) runs them all. A node id or a prefix of one (a whole module).
SLOW = (
    "tests/db/test_paging_property.py::test_pages_hold_every_row_exactly_once",  # 27-65
    "tests/db/test_db_credentials.py",  # real processes per database: 30-65
    "tests/agent/test_tty.py",  # a pseudo-terminal and a process each: 4-26
    "tests/agent/test_outcomes.py::test_serve_run_answers_502_with_the_envelope",  # 15
    "tests/cli/test_sync_outputs.py::test_progress_bar_on_a_terminal",  # 6
    "tests/agent/test_catalog.py::test_github_search_finds_the_obvious_tool_first",  # 6
    "tests/db/test_paging_property.py::test_pages_cut_to_the_budget_lose_no_row",  # 19-29
    "tests/execute/test_never_raises.py",  # hypothesis over HTTP and SQL calls: 34-43
    "tests/serve/test_rest.py::test_instances_share_one_history_database",  # 26-34
    "tests/test_corpus.py",  # real-world specs: up to 50
    "tests/execute/test_encode_fuzz.py",  # 21
    "tests/serve/test_drain.py",  # servers stopped with calls in flight: 17-22
    "tests/execute/test_history_modes.py",  # 18-21
    "tests/serve/test_mcp.py::test_the_npm_inspector",  # node and a server: 21
    "tests/test_hermetic.py::test_a_shell_app_dir_is_left_untouched",  # a pytest run: 29
    "tests/identity/test_proofs.py",  # a node issuer and appctl mcp per test: 7-15
    "tests/identity/test_mcp_discovery.py",  # the same, plus the Inspector (node): 12-14
    # Chromium, two appctl serve and PostgreSQL: 15; Chromium, serve and appctl mcp: 11
    "tests/console/test_approvals.py::test_an_approval_in_one_instances_console_releases",
    "tests/console/test_approvals.py::test_an_approval_releases_the_write_an_mcp_client",
    "tests/serve/console/test_forms.py::test_every_github_tool_page_renders",  # 14-19
    "tests/serve/console/test_served.py::test_appctl_serve_mounts_the_console",  # 17
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite fixtures/golden/ from appctl's current output instead of comparing.",
    )


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[Routes] = {}

    def do_GET(self) -> None:
        default = (404, "text/plain", b"not found")
        status, content_type, body = self.routes.get(self.path.split("?")[0], default)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threading HTTP server for ``handler`` on 127.0.0.1, in a thread; yields its base
    URL (``http://127.0.0.1:PORT``) and shuts it down after."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def httpbin_url() -> Iterator[str]:
    """Real httpbin (its flasgger Swagger 2.0 document at /spec.json) on 127.0.0.1."""
    httpbin = pytest.importorskip("httpbin")
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, httpbin.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def http_server() -> Iterator[tuple[str, Routes]]:
    """(base URL, routes): set routes[path] = (status, content type, body) to serve it."""
    routes: ClassVar[Routes] = {}
    with serving(type("Handler", (_Handler,), {"routes": routes})) as url:
        yield url, routes


def _fresh_db_kinds() -> list[str]:
    try:
        return dbs.kinds()
    except dbs.MissingDatabase:
        # APPCTL_REQUIRE_DBS=1 without the servers: keep every kind, so that each database
        # test errors with the reason instead of the whole suite failing to load.
        return list(dbs.KINDS)


@pytest.fixture(params=_fresh_db_kinds())
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLAlchemy URL of an empty database, once per kind (ids sqlite, postgresql, mariadb);
    a server's scratch database is dropped afterwards."""
    kind: str = request.param
    dbs.database_urls()  # raises MissingDatabase when APPCTL_REQUIRE_DBS=1 and one is unset
    url = dbs.fresh_database(kind, tmp_path)
    try:
        yield url
    finally:
        dbs.drop_database(url)


@pytest.fixture(params=dbs.SERVER_KINDS)
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Like ``fresh_db``, on the database servers only (ids postgresql, mariadb): what
    several processes share (a history, its queue and limits)."""
    if request.param not in dict(dbs.database_urls()):  # raises when they are required
        pytest.skip(f"no {request.param} server (scripts/dbservers start)")
    url = dbs.fresh_database(request.param, tmp_path)
    try:
        yield url
    finally:
        dbs.drop_database(url)
