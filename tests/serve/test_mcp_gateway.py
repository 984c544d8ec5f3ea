"""``appctl mcp`` for large catalogues, driven by the official MCP SDK client: GitHub's 1,223
operations served as three meta-tools (find, describe, call: every call gated as a direct
one), and ``tools/list`` in pages behind signed cursors. The GitHub calls go to a stand-in
on 127.0.0.1 that records what reaches it."""

from __future__ import annotations

import http.server
import json
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from appctl.contract.io import dump_schema, write_atomic
from appctl.execute.audit.history import History
from appctl.serve.mcp import ToolServer, build_server
from appctl.session.approval import PolicyOnly
from appctl.session.catalog import CALL, DESCRIBE, FIND
from appctl.session.core import Session
from tests import runner
from tests.conftest import TOKEN, serving
from tests.corpus import ABSENT, GITHUB, GITHUB_ACTIONS
from tests.helpers import sync_doc
from tests.lro_app import lro_app, spec
from tests.runner import APPCTL
from tests.serve.test_mcp import MODES, mcp_over_http

needs_github = pytest.mark.skipif(not GITHUB.exists(), reason=ABSENT)
ALLOW_ALL = 'policy:\n  - {match: {name: "*"}, action: allow}\n'
REPO_ANSWER = {"id": 1, "name": "hello", "full_name": "octo/hello"}


class GitHub(http.server.BaseHTTPRequestHandler):
    """Answers GET /repos/octo/hello; records every request (method, path)."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.command, self.path.split("?")[0]))
        found = self.command == "GET" and self.path.startswith("/repos/octo/hello")
        body = json.dumps(REPO_ANSWER if found else {"message": "Not Found"}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def github_contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not GITHUB.exists():
        pytest.skip(ABSENT)
    root = tmp_path_factory.mktemp("github")
    runner.invoke("sync", "--openapi", str(GITHUB), cwd=root)
    return root / ".appctl"


@pytest.fixture
def github(github_contract: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(app dir, stand-in URL): a fresh copy of the GitHub contract, with its own history."""
    app_dir = tmp_path / ".appctl"
    shutil.copytree(github_contract, app_dir, ignore=shutil.ignore_patterns("history*"))
    GitHub.seen = []
    with serving(GitHub) as url:
        yield app_dir, url


def _server(app_dir: Path, url: str = "", **options: Any) -> ToolServer:
    session = Session.open(
        app_dir,
        approver=PolicyOnly("this MCP client"),
        environ={},
        base_url=url or None,
        read_only=options.pop("read_only", False),
    )
    return ToolServer(session, **options)


def _run(body: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        with anyio.fail_after(60):
            await body()

    anyio.run(bounded)


def _data(result: types.CallToolResult) -> dict[str, Any]:
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def _history(app_dir: Path) -> list[tuple[str, str]]:
    history = History(f"sqlite:///{app_dir / 'history.db'}")
    try:
        return [(e.tool, e.outcome) for e in history.entries(last=100)]
    finally:
        history.close()


@needs_github
def test_github_is_served_as_a_catalogue_past_the_threshold(github: tuple[Path, str]) -> None:
    app_dir, url = github
    client = Client(build_server(_server(app_dir, url)))

    async def body() -> None:
        async with client:
            assert client.instructions is not None and "catalogue" in client.instructions
            assert "past 200 tools" in client.instructions
            listed = await client.list_tools()
            assert [t.name for t in listed.tools] == [FIND, DESCRIBE, CALL]
            assert listed.next_cursor is None
            assert f"{GITHUB_ACTIONS + 1} tools" in (listed.tools[0].description or "")

            found = _data(await client.call_tool(FIND, {"query": "get a repository"}))
            top = found["data"]["tools"][0]
            assert top == {**top, "name": "repos_get", "safety": "read_only"}
            within = _data(await client.call_tool(FIND, {"query": "list", "resource": "gists"}))
            assert {t["resource"] for t in within["data"]["tools"]} == {"gists"}

            described = _data(await client.call_tool(DESCRIBE, {"name": "repos_get"}))["data"]
            assert set(described["input_schema"]["required"]) == {"owner", "repo"}
            assert described["safety"] == "read_only" and described["output_schema"]
            assert described["annotations"] == {"readOnlyHint": True, "openWorldHint": True}

            arguments = {"owner": "octo", "repo": "hello"}
            got = await client.call_tool(CALL, {"name": "repos_get", "arguments": arguments})
            assert not got.is_error, got
            assert "octo/hello" in json.dumps(_data(got))

            refused = await client.call_tool(CALL, {"name": "repos_delete", "arguments": arguments})
            assert refused.is_error and _data(refused)["error"]["category"] == "refused"
            assert "appctl mcp --yes" in _data(refused)["error"]["message"]

    _run(body)
    assert GitHub.seen == [("GET", "/repos/octo/hello")]  # the refused DELETE never left
    assert _history(app_dir) == [("repos_get", "ok"), ("repos_delete", "refused")]


@needs_github
def test_catalogue_call_asks_approval_by_elicitation(github: tuple[Path, str]) -> None:
    app_dir, url = github
    asked: list[str] = []

    async def accept(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={})

    client = Client(build_server(_server(app_dir, url)), elicitation_callback=accept)
    issue = {"owner": "octo", "repo": "hello", "title": "Hi"}

    async def body() -> None:
        async with client:
            await client.call_tool(CALL, {"name": "issues_create", "arguments": issue})

    _run(body)
    assert asked == [f"Run issues_create with {json.dumps(issue, separators=(', ', ': '))}?"]
    assert GitHub.seen == [("POST", "/repos/octo/hello/issues")]
    assert [tool for tool, _ in _history(app_dir)] == ["issues_create"]


@needs_github
def test_the_catalogue_offers_only_what_the_filters_let_through(
    github: tuple[Path, str],
) -> None:
    app_dir, url = github
    client = Client(build_server(_server(app_dir, url, include=("issues*",), catalogue=True)))
    arguments = {"owner": "octo", "repo": "hello"}

    async def body() -> None:
        async with client:
            found = _data(await client.call_tool(FIND, {"query": "get a repository"}))
            names = [t["name"] for t in found["data"]["tools"]]
            assert names and all(n.startswith("issues") for n in names)
            missing = await client.call_tool(DESCRIBE, {"name": "repos_get"})
            assert missing.is_error
            outside = await client.call_tool(CALL, {"name": "repos_get", "arguments": arguments})
            error = _data(outside)["error"]
            assert outside.is_error and "not offered" in error["message"], error
            unknown = await client.call_tool(CALL, {"name": "issues_gett", "arguments": {}})
            assert f"{FIND} finds the tools offered" in _data(unknown)["error"]["message"]
            broken = await client.call_tool(CALL, {"name": "issues_get", "arguments": "{oops"})
            assert "not valid JSON" in _data(broken)["error"]["message"]

    _run(body)
    assert GitHub.seen == []


@needs_github
def test_read_only_catalogue_refuses_writes(github: tuple[Path, str]) -> None:
    app_dir, url = github
    client = Client(build_server(_server(app_dir, url, read_only=True)))
    issue = {"owner": "octo", "repo": "hello", "title": "Hi"}

    async def body() -> None:
        async with client:
            found = _data(await client.call_tool(FIND, {"query": "create an issue"}))
            assert {t["safety"] for t in found["data"]["tools"]} == {"read_only"}
            refused = await client.call_tool(CALL, {"name": "issues_create", "arguments": issue})
            assert refused.is_error and "read-only" in _data(refused)["error"]["message"]

    _run(body)
    assert GitHub.seen == []
    assert _history(app_dir) == [("issues_create", "refused")]


async def _walk(client: Client) -> tuple[list[str], list[int], str | None]:
    """Every page of tools/list: the names in order, each page's size, the first cursor."""
    names: list[str] = []
    sizes: list[int] = []
    first: str | None = None
    cursor: str | None = None
    for _ in range(100):  # bounded: 100 pages is far more than any listing here
        page = await client.list_tools(cursor=cursor)
        names += [t.name for t in page.tools]
        sizes.append(len(page.tools))
        first = first or page.next_cursor
        cursor = page.next_cursor
        if cursor is None:
            break
    return names, sizes, first


@needs_github
def test_tools_list_pages_walk_to_the_full_set_exactly_once(github: tuple[Path, str]) -> None:
    app_dir, _ = github
    tools = _server(app_dir, catalogue=False)
    client = Client(build_server(tools))

    async def body() -> None:
        async with client:
            names, sizes, first = await _walk(client)
            assert len(names) == len(set(names)) == GITHUB_ACTIONS + 1  # and appctl_poll
            assert names == [t.name for t in tools.tools]  # in the contract's order
            assert sizes == [100] * 12 + [24]
            assert first is not None and first.startswith("c1.")

    _run(body)


def _tampered(cursor: str) -> list[str]:
    prefix, payload, mac = cursor.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    return [
        f"{prefix}.{flipped}.{mac}",  # the payload edited
        f"{prefix}.{payload}.{mac[:-2]}",  # the signature cut short
        "bogus",
        "",
    ]


@needs_github
def test_a_tampered_or_foreign_cursor_is_invalid_params(github: tuple[Path, str]) -> None:
    app_dir, _ = github
    client = Client(build_server(_server(app_dir, catalogue=False)))
    # a listing with other tools: its cursors are signed with the same key, but bound to it
    other = build_server(_server(app_dir, catalogue=False, include=("repos*",)))
    errors: list[MCPError] = []

    async def body() -> None:
        async with Client(other) as foreign_client:
            foreign = (await foreign_client.list_tools()).next_cursor
        async with client:
            cursor = (await client.list_tools()).next_cursor
            assert cursor is not None and foreign is not None
            for bad in [*_tampered(cursor), foreign]:
                with pytest.raises(MCPError) as raised:
                    await client.list_tools(cursor=bad)
                errors.append(raised.value)
            second = await client.list_tools(cursor=cursor)  # the real one still works
            assert len(second.tools) == 100

    _run(body)
    assert {e.code for e in errors} == {types.INVALID_PARAMS}
    assert all("Invalid cursor" in e.error.message for e in errors)
    assert "other arguments" in errors[-1].error.message  # the foreign listing's


def test_appctl_mcp_flags_choose_the_mode_and_page_size(project: Path, pets: Any) -> None:
    """Over stdio from the command line: --catalogue on a small contract, --page-size."""
    env = runner.child_env({"APPCTL_BEARER_TOKEN": TOKEN})

    def stdio(*args: str) -> Client:
        params = StdioServerParameters(command=APPCTL, args=["mcp", *args], cwd=project, env=env)
        return Client(params)

    async def body() -> None:
        async with stdio("--catalogue") as client:
            listed = await client.list_tools()
            assert [t.name for t in listed.tools] == [FIND, DESCRIBE, CALL]
            assert "asked for with --catalogue" in (client.instructions or "")
            got = await client.call_tool(CALL, {"name": "list_pets", "arguments": {"limit": 5}})
            assert not got.is_error, got
        async with stdio("--page-size", "2") as client:
            names, sizes, _ = await _walk(client)
            assert sizes == [2, 2, 1] and len(set(names)) == 5

    _run(body)
    assert pets.seen == [("GET", "/api/pets", [("limit", "5")])]
    history = History(f"sqlite:///{project / '.appctl' / 'history.db'}")
    try:
        assert [(e.tool, e.outcome) for e in history.entries(last=10)] == [("list_pets", "ok")]
    finally:
        history.close()


def test_catalogue_over_streamable_http_asks_approval_in_both_modes(
    project: Path, pets: Any
) -> None:
    """Handshake versions ask by elicitation/create, 2026-07-28 by an InputRequiredResult
    the client answers and retries appctl_call_tool with: both reach the write."""
    asked: list[str] = []

    async def accept(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={})

    with mcp_over_http(project, "--catalogue", "--page-size", "2") as url:

        async def body() -> None:
            for mode in MODES:
                async with Client(url, mode=mode, elicitation_callback=accept) as client:
                    assert client.protocol_version == MODES[mode]
                    names, sizes, _ = await _walk(client)
                    assert names == [FIND, DESCRIBE, CALL] and sizes == [2, 1]
                    found = _data(await client.call_tool(FIND, {"query": "create a pet"}))
                    assert found["data"]["tools"][0]["name"] == "create_pet"
                    call = {"name": "create_pet", "arguments": {"name": "Tom"}}
                    created = await client.call_tool(CALL, call)
                    assert not created.is_error, created

        _run(body)
    assert asked == ['Run create_pet with {"name": "Tom"}?'] * 2
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")] * 2
    history = History(f"sqlite:///{project / '.appctl' / 'history.db'}")
    try:
        rows = [(e.tool, e.outcome) for e in history.entries(last=10)]
    finally:
        history.close()
    assert rows == [("create_pet", "ok")] * 2


@pytest.mark.parametrize("mode", MODES)
def test_a_call_through_the_catalogue_reports_progress(tmp_path: Path, mode: str) -> None:
    """A long-running operation called through appctl_call_tool: its polls reach the client
    as progress notifications, as a direct call's do (tests/serve/test_mcp_progress.py)."""
    with lro_app() as app:
        schema = sync_doc(spec(), base_url=app.url).schema
        write_atomic(tmp_path / ".appctl" / "schema.json", dump_schema(schema))
        (tmp_path / ".appctl" / "config.yaml").write_text(ALLOW_ALL)
        told: list[float] = []

        async def progress(done: float, total: float | None, message: str | None) -> None:
            told.append(done)

        async def body() -> None:
            params = StdioServerParameters(
                command=APPCTL, args=["mcp", "--catalogue"], cwd=tmp_path, env=runner.child_env({})
            )
            async with Client(params, mode=mode) as client:
                call = {"name": "start_job", "arguments": {"polls": 3}}
                result = await client.call_tool(CALL, call, progress_callback=progress)
                assert not result.is_error, result
                assert _data(result)["data"] == {"id": "1", "made": True}

        _run(body)
        assert app.writes == ["POST /jobs"]
    assert told == [1.0, 2.0, 3.0]


def test_print_config_passes_the_catalogue_flags_on(project: Path) -> None:
    """A client launching appctl from the printed snippet gets the same mode and pages."""
    printed = runner.invoke("mcp", "--print-config", "claude", "--no-catalogue", cwd=project)
    [entry] = json.loads(printed.stdout)["mcpServers"].values()
    assert entry["args"][-1] == "--no-catalogue"
    printed = runner.invoke(
        "mcp", "--print-config", "vscode", "--catalogue", "--page-size", "7", cwd=project
    )
    [entry] = json.loads(printed.stdout)["servers"].values()
    assert entry["args"][-2:] == ["--catalogue", "--page-size=7"]
