"""End to end: ``appctl mcp`` as a subprocess, driven by the official MCP Python SDK client over
stdio and over Streamable HTTP, and once by the independent npm inspector CLI, against the
fixture pet store on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters

from appctl.execute.audit.history import History
from appctl.execute.framing import unframe
from tests import runner
from tests.conftest import NPM, REPO, TOKEN
from tests.runner import APPCTL
from tests.serve.test_rest import free_port

INSPECTOR = NPM / ".bin" / "mcp-inspector"
MODES = {"auto": "2026-07-28", "legacy": "2025-11-25"}  # client mode → protocol negotiated
ENV = runner.child_env({"APPCTL_BEARER_TOKEN": TOKEN})


def _appctl(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [APPCTL, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env=ENV,
    )


def _stdio(project: Path, *args: str, **client: Any) -> Client:
    params = StdioServerParameters(command=APPCTL, args=["mcp", *args], cwd=project, env=ENV)
    return Client(params, **client)


def _run(session: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        with anyio.fail_after(20):
            await session()

    anyio.run(bounded)


def _history(project: Path) -> list[dict[str, Any]]:
    """The recorded calls, read as `appctl history` reads them (the server may still be
    running, with records not yet folded from the pending log into history.db)."""
    history = History(f"sqlite:///{project / '.appctl' / 'history.db'}")
    try:
        return [e.as_dict() for e in history.entries(last=1000)]
    finally:
        history.close()


def _envelope(result: types.CallToolResult) -> dict[str, Any]:
    """structuredContent is always an object, and the text content is the same JSON,
    framed as untrusted data (the default)."""
    assert isinstance(result.structured_content, dict)
    [text] = result.content
    assert isinstance(text, types.TextContent)
    inner = unframe(text.text)
    assert inner is not None, text.text
    assert json.loads(inner) == result.structured_content
    return result.structured_content


@pytest.mark.parametrize("mode", MODES)
def test_stdio_lists_tools_and_runs_them_behind_the_gates(
    project: Path, pets: Any, mode: str
) -> None:
    async def session() -> None:
        async with _stdio(project, mode=mode) as client:
            assert client.protocol_version == MODES[mode]
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"list_pets", "get_pet", "create_pet", "delete_pet", "ghost_route"}
            listing, create, delete = tools["list_pets"], tools["create_pet"], tools["delete_pet"]
            assert listing.title == "List pets" and listing.output_schema is None
            assert listing.input_schema["properties"]["limit"]["type"] == "integer"
            assert listing.annotations is not None and listing.annotations.read_only_hint is True
            assert listing.annotations.open_world_hint is True
            assert create.annotations is not None and create.annotations.read_only_hint is False
            assert create.annotations.destructive_hint is False
            assert delete.annotations is not None and delete.annotations.destructive_hint is True
            assert delete.annotations.idempotent_hint is True

            listed = await client.call_tool("list_pets", {"limit": 5})
            assert not listed.is_error
            assert _envelope(listed)["data"] == {"data": [{"id": 1, "name": "Rex"}]}

            refused = await client.call_tool("create_pet", {"name": "Tom"})
            error = _envelope(refused)["error"]
            assert refused.is_error and error["category"] == "refused"
            assert "appctl mcp --yes" in error["message"] and "config.yaml" in error["message"]

            unknown = await client.call_tool("list_pet", {})
            assert unknown.is_error
            assert "Did you mean 'list_pets'?" in _envelope(unknown)["error"]["message"]

    _run(session)
    assert pets.seen == [("GET", "/api/pets", [("limit", "5")])]  # the refused POST never left
    rows = _history(project)
    assert [(r["tool"], r["outcome"]) for r in rows] == [
        ("list_pets", "ok"),
        ("create_pet", "refused"),
    ]
    assert rows[0]["session"] and rows[0]["session"] == rows[1]["session"]


def test_yes_approves_writes(project: Path, pets: Any) -> None:
    async def session() -> None:
        async with _stdio(project, "--yes") as client:
            created = await client.call_tool("create_pet", {"name": "Tom"})
            assert not created.is_error
            assert _envelope(created)["data"] == {"id": 2, "name": "Tom"}

    _run(session)
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")]


def test_read_only_hides_and_refuses_writes(project: Path, pets: Any) -> None:
    async def session() -> None:
        async with _stdio(project, "--read-only") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {"list_pets", "get_pet", "ghost_route"}
            refused = await client.call_tool("delete_pet", {"petId": 1})
            assert refused.is_error
            assert "read-only" in _envelope(refused)["error"]["message"]

    _run(session)
    assert pets.seen == []


def test_a_named_toolset_narrows_the_offer(project: Path, pets: Any) -> None:
    (project / ".appctl" / "config.yaml").write_text(
        "toolsets:\n  readers: {include: ['*_pet*'], exclude: [get_pet], read_only: true}\n"
    )

    async def session() -> None:
        async with _stdio(project, "--toolset", "readers") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {"list_pets"}
            result = await client.call_tool("list_pets", {"limit": 1})
            assert not result.is_error

    _run(session)
    assert [s[:2] for s in pets.seen] == [("GET", "/api/pets")]
    proc = _appctl(project, "mcp", "--toolset", "reader")
    assert proc.returncode == 2 and "Did you mean 'readers'" in proc.stderr


@pytest.mark.parametrize("mode", MODES)
def test_elicitation_asks_the_person_before_a_write(project: Path, pets: Any, mode: str) -> None:
    """2026-07-28 asks with an InputRequiredResult, handshake versions with elicitation/create."""
    answers, asked = ["accept", "decline"], []

    async def elicit(
        context: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        asked.append(params.message)
        return types.ElicitResult(action=answers.pop(0), content={})  # type: ignore[arg-type]

    async def session() -> None:
        async with _stdio(project, mode=mode, elicitation_callback=elicit) as client:
            created = await client.call_tool("create_pet", {"name": "Tom"})
            assert not created.is_error and _envelope(created)["data"]["name"] == "Tom"
            declined = await client.call_tool("create_pet", {"name": "Max"})
            error = _envelope(declined)["error"]
            assert declined.is_error and error["category"] == "refused"
            assert "declined" in error["message"]

    _run(session)
    assert asked == ['Run create_pet with {"name": "Tom"}?', 'Run create_pet with {"name": "Max"}?']
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")]
    assert [r["outcome"] for r in _history(project)] == ["ok", "refused"]


@pytest.mark.parametrize("mode", MODES)
def test_a_destructive_tool_wants_its_name_typed(project: Path, pets: Any, mode: str) -> None:
    typed = ["delete_pets", "delete_pet"]  # a near miss first, then the name
    schemas: list[dict[str, Any]] = []

    async def elicit(
        context: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        schemas.append(params.requested_schema)  # type: ignore[union-attr]
        return types.ElicitResult(action="accept", content={"confirm": typed.pop(0)})

    async def session() -> None:
        async with _stdio(project, mode=mode, elicitation_callback=elicit) as client:
            missed = await client.call_tool("delete_pet", {"petId": 1})
            assert missed.is_error
            assert "name was not typed" in _envelope(missed)["error"]["message"]
            done = await client.call_tool("delete_pet", {"petId": 1})
            assert not done.is_error, _envelope(done)

    _run(session)
    assert schemas[0]["required"] == ["confirm"]
    assert [s[:2] for s in pets.seen] == [("DELETE", "/api/pets/1")]
    assert [r["outcome"] for r in _history(project)] == ["refused", "ok"]


@contextmanager
def mcp_over_http(
    project: Path, *args: str, env: dict[str, str] | None = None, said: bytes = b""
) -> Iterator[str]:
    """``appctl mcp --transport http`` (and ``args``, and ``env`` beside the tests') in
    ``project`` on a free port; yields its URL, and checks at the end that it stopped on
    SIGTERM without a traceback, having ``said`` that on stderr."""
    port = free_port()
    proc = subprocess.Popen(
        [APPCTL, "mcp", "--transport", "http", "--port", str(port), *args],
        cwd=project,
        env={**ENV, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        runner.wait_listening(proc, port, within=15, what="appctl mcp --transport http")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        assert out == b"" and b"Traceback" not in err, err
        assert said in err, err


@pytest.fixture
def http_server(project: Path) -> Iterator[str]:
    with mcp_over_http(project) as url:
        yield url


def test_streamable_http_sessions(project: Path, pets: Any, http_server: str) -> None:
    async def accept(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={})

    async def session() -> None:
        for mode in ("legacy", "legacy", "auto"):
            async with Client(http_server, mode=mode) as client:
                assert client.protocol_version == MODES[mode]
                assert "list_pets" in {t.name for t in (await client.list_tools()).tools}
                listed = await client.call_tool("list_pets", {})
                assert not listed.is_error and _envelope(listed)["status"] == 200
        async with Client(http_server, elicitation_callback=accept) as client:
            created = await client.call_tool("create_pet", {"name": "Tom"})
            assert not created.is_error and _envelope(created)["data"]["id"] == 2

    _run(session)
    assert [s[:2] for s in pets.seen] == [("GET", "/api/pets")] * 3 + [("POST", "/api/pets")]
    sessions = [r["session"] for r in _history(project)]
    assert len(sessions) == 4
    legacy_one, legacy_two, modern, modern_write = sessions
    assert len({legacy_one, legacy_two, modern}) == 3  # one id per MCP session
    assert modern != modern_write  # 2026-07-28 is sessionless: one id per client all the same


def _inspect(project: Path, *args: str) -> Any:
    """The inspector's CLI mode against ``appctl mcp`` over stdio; its JSON answer."""
    if not INSPECTOR.exists():
        pytest.skip("@modelcontextprotocol/inspector is not installed: run scripts/setup")
    token = f"APPCTL_BEARER_TOKEN={TOKEN}"  # it starts servers with a minimal environment
    server = [APPCTL, "--app-dir", str(project / ".appctl"), "mcp"]
    proc = subprocess.run(
        [str(INSPECTOR), "--cli", "-e", token, *server, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
        cwd=project,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return json.loads(proc.stdout)


def test_the_npm_inspector_lists_tools(project: Path) -> None:
    listed = _inspect(project, "--method", "tools/list")
    create = next(t for t in listed["tools"] if t["name"] == "create_pet")
    assert create["title"] == "Create pet"
    assert create["annotations"] == {
        "readOnlyHint": False,
        "destructiveHint": False,
        "openWorldHint": True,
    }


def test_the_npm_inspector_calls_a_tool(project: Path, pets: Any) -> None:
    args = ("--method", "tools/call", "--tool-name", "list_pets", "--tool-arg", "limit=1")
    called = _inspect(project, *args)
    assert called["structuredContent"]["data"] == {"data": [{"id": 1, "name": "Rex"}]}
    assert pets.seen == [("GET", "/api/pets", [("limit", "1")])]


def test_print_config_for_each_client(project: Path) -> None:
    claude = json.loads(_appctl(project, "mcp", "--print-config", "claude", "--read-only").stdout)
    [(name, entry)] = claude["mcpServers"].items()
    assert name.startswith("appctl-") and Path(entry["command"]).is_absolute()
    assert entry["args"] == [
        "--app-dir",
        str((project / ".appctl").resolve()),
        "mcp",
        "--read-only",
    ]
    cursor = json.loads(_appctl(project, "mcp", "--print-config", "cursor").stdout)
    assert cursor["mcpServers"][name]["command"] == entry["command"]
    vscode = json.loads(_appctl(project, "mcp", "--print-config", "vscode").stdout)
    assert vscode["servers"][name]["type"] == "stdio"


def test_usage_errors_exit_2(project: Path) -> None:
    for bad in (["--host", "0.0.0.0", "--transport", "http"], ["--toolset", "nope"]):
        proc = _appctl(project, "mcp", *bad)
        assert proc.returncode == 2 and proc.stdout == "" and "error:" in proc.stderr


def test_stdio_writes_nothing_but_protocol_to_stdout(project: Path) -> None:
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    proc = subprocess.run(
        [APPCTL, "mcp"],
        cwd=project,
        input=json.dumps(hello) + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        env=ENV,
    )
    [line] = proc.stdout.splitlines()
    answer = json.loads(line)
    assert answer["id"] == 1 and answer["result"]["protocolVersion"] == "2025-06-18"
    assert answer["result"]["serverInfo"]["name"] == "appctl"
    assert "5 tools over stdio" in proc.stderr and proc.returncode == 0


def test_database_tools_carry_an_output_schema_the_results_match(tmp_path: Path) -> None:
    """The SDK client validates structuredContent against outputSchema: a mismatch fails."""
    import shutil

    shutil.copy(REPO / "examples" / "chinook.db", tmp_path / "chinook.db")
    assert _appctl(tmp_path, "sync", "--db", "chinook.db").returncode == 0

    async def session() -> None:
        async with _stdio(tmp_path, "--read-only") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            listing = tools["list_invoice"]
            assert listing.output_schema is not None
            assert listing.annotations is not None and listing.annotations.open_world_hint is False
            rows = listing.output_schema["properties"]["data"]["anyOf"][0]["properties"]["rows"]
            assert "Total" in rows["items"]["properties"]
            for name, arguments in (
                ("list_invoice", {"limit": 3, "order_by": ["-Total"]}),
                ("get_invoice", {"InvoiceId": 1}),
                ("list_track", {"where": {"Composer": {"is_null": True}}, "limit": 2}),
                ("list_invoice", {"limit": 500}),  # cut to the result budget, still valid
            ):
                result = await client.call_tool(name, arguments)
                assert not result.is_error, result.structured_content
            top = await client.call_tool("list_invoice", {"limit": 1, "order_by": ["-Total"]})
            assert top.structured_content is not None
            assert top.structured_content["data"]["rows"][0]["Total"] == "25.86"

    _run(session)
