"""Calls to MCP actions go through the executor's usual path: gates, approval, deadlines
and history, into a pooled upstream session that is started lazily, reused, and restarted
when it died. Against the misbehaving fixture server and server-filesystem."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from appctl.execute.mcp.pool import POOL
from tests.mcpsource.servers import (
    EVERYTHING,
    FILESYSTEM,
    actions,
    call,
    everything_http,
    flaky,
    history,
    need,
    stop,
    sync,
)
from tests.serve.test_rest import free_port


@pytest.fixture
def project(tmp_path: Path) -> Path:
    sync(tmp_path, "--mcp", flaky(tmp_path))
    return tmp_path


def test_session_reused_then_restarted_after_a_crash(project: Path) -> None:
    started = POOL.started
    first = call(project, "pid")["data"]["result"]
    assert call(project, "pid")["data"]["result"] == first  # the same process, reused
    assert POOL.started == started + 1
    crashed = call(project, "crash")
    assert crashed["error"]["category"] == "network", crashed
    assert "ended during crash" in crashed["error"]["message"]
    assert any("starts the server again" in s for s in crashed["error"]["suggestions"])
    again = call(project, "pid")["data"]["result"]
    assert again != first and POOL.started == started + 2
    rows = [(r["tool"], r["outcome"]) for r in history(project)]
    assert rows == [("pid", "ok"), ("pid", "ok"), ("crash", "failed"), ("pid", "ok")]


def test_a_hung_call_ends_at_its_deadline(project: Path) -> None:
    (project / ".appctl" / "config.yaml").write_text(
        "policy:\n  - {match: {name: hang}, timeout: 1.5}\n"
    )
    began = time.monotonic()
    hung = call(project, "hang")
    assert time.monotonic() - began < 1.5 + 3
    assert hung["error"]["category"] == "timeout", hung
    assert "within 1.5s" in hung["error"]["message"]
    assert isinstance(call(project, "pid")["data"]["result"], int)  # a fresh session answers


def test_is_error_is_a_server_failure(project: Path) -> None:
    failed = call(project, "fail", "why=testing")
    assert failed["ok"] is False and failed["error"]["category"] == "server", failed
    assert failed["error"]["message"].startswith("fail failed: ")


def test_stdio_server_gets_a_clean_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_TEST_LEAK", "not for the server")
    monkeypatch.setenv("MCP_TEST_PASSED", "for the server")
    sync(tmp_path, "--mcp", flaky(tmp_path), "--pass-env", "MCP_TEST_PASSED")
    assert "for the server" not in (tmp_path / ".appctl" / "schema.json").read_text()
    names = call(tmp_path, "env")["data"]["result"]
    assert "PATH" in names and "MCP_TEST_PASSED" in names
    assert "MCP_TEST_LEAK" not in names
    assert not [n for n in names if n.startswith(("APPCTL_", "PYTEST", "VIRTUAL_ENV"))]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """An app dir whose contract is server-filesystem's, serving ``tmp_path/data`` only."""
    need(FILESYSTEM)
    data = tmp_path / "data"
    data.mkdir()
    (data / "hello.txt").write_text("hello\n")
    sync(tmp_path, "--mcp", f"{FILESYSTEM} {data}")
    return tmp_path


def test_filesystem_reads_and_gated_writes(files: Path) -> None:
    data = files / "data"
    found = actions(files)
    assert found["read_text_file"]["safety"] == "read_only"
    assert found["write_file"]["safety"] == "destructive"
    read = call(files, "read_text_file", f"path={data / 'hello.txt'}")
    assert read["ok"] and "hello" in str(read["data"]), read

    target = data / "new.txt"
    args = (f"path={target}", "content=written by appctl")
    refused = call(files, "write_file", *args, "--read-only")
    assert refused["error"]["reason"] == "read_only"
    unapproved = call(files, "write_file", *args)
    assert unapproved["error"]["reason"] == "needs_approval"
    assert not target.exists()

    written = call(files, "write_file", *args, "--yes")
    assert written["ok"], written
    assert target.read_text() == "written by appctl"

    outside = call(files, "read_text_file", f"path={files / 'elsewhere.txt'}")
    assert outside["ok"] is False and outside["error"]["category"] == "server", outside

    rows = [(r["tool"], r["outcome"]) for r in history(files)]
    assert rows == [
        ("read_text_file", "ok"),
        ("write_file", "refused"),
        ("write_file", "refused"),
        ("write_file", "ok"),
        ("read_text_file", "failed"),
    ]
    row = history(files)[3]
    assert row["request"] == "MCP default/write_file"


def test_overrides_apply_to_upstream_tools(tmp_path: Path) -> None:
    (tmp_path / ".appctl").mkdir()
    (tmp_path / ".appctl" / "overrides.yaml").write_text(
        "actions:\n"
        "  pid: {name: process_id, description: Which process answers.}\n"
        "  fail: {safety: mutating}\n"
        "rules:\n"
        "  - {match: {name: 'hang'}, safety: destructive}\n"
    )
    sync(tmp_path, "--mcp", flaky(tmp_path))
    found = actions(tmp_path)
    assert "pid" not in found and found["process_id"]["description"] == "Which process answers."
    assert found["process_id"]["transport"]["tool"] == "pid"  # still the upstream's name
    assert (found["fail"]["safety"], found["hang"]["safety"]) == ("mutating", "destructive")
    assert isinstance(call(tmp_path, "process_id")["data"]["result"], int)
    refused = call(tmp_path, "fail", "why=x")
    assert refused["error"]["reason"] == "needs_approval"


def test_json_rpc_errors_map_to_categories() -> None:
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS

    from appctl.contract.models import McpServer
    from appctl.execute.mcp.call import McpCall, _failed

    sent = McpCall("default", McpServer(command="srv"), "tool", {})
    invalid = _failed("t", sent, MCPError(INVALID_PARAMS, "n must be positive"))
    assert invalid.error is not None and invalid.error.category == "validation"
    assert "n must be positive (code -32602)" in invalid.error.message
    internal = _failed("t", sent, MCPError(INTERNAL_ERROR, "boom"))
    assert internal.error is not None and internal.error.category == "server"
    spawn = _failed("t", sent, FileNotFoundError(2, "No such file or directory"))
    assert spawn.error is not None and spawn.error.category == "network"
    assert spawn.error.suggestions == [
        "Check that the contract's command runs (or its URL answers) as an MCP server."
    ]


def test_an_http_server_that_restarted_gets_a_new_session(tmp_path: Path) -> None:
    port = free_port()
    server = everything_http(port)
    try:
        sync(tmp_path, "--mcp", f"http://127.0.0.1:{port}/mcp")
        started = POOL.started
        assert call(tmp_path, "echo", "message=one")["data"] == "Echo: one"
        stop(server)
        server = everything_http(port)  # it has forgotten appctl's session
        stale = call(tmp_path, "echo", "message=two")
        assert stale["error"]["category"] == "network", stale
        assert call(tmp_path, "echo", "message=three")["data"] == "Echo: three"
        assert POOL.started == started + 2
    finally:
        stop(server)
    down = call(tmp_path, "echo", "message=four")
    assert down["error"]["category"] == "network", down


def test_what_the_server_is_given_is_redacted(tmp_path: Path) -> None:
    need(EVERYTHING)
    secret = {"MCP_TEST_API_KEY": "sk-upstream-0123456789", "MCP_TEST_FLAG": "1"}
    sync(tmp_path, "--mcp", f"{EVERYTHING} stdio", "--pass-env", "MCP_TEST_API_KEY", env=secret)
    shown = call(tmp_path, "get_env", env=secret)
    assert shown["ok"] and "MCP_TEST_API_KEY" in shown["data"], shown
    assert "sk-upstream" not in json.dumps(shown)
    assert "MCP_TEST_FLAG" not in shown["data"]  # not passed on
    assert "sk-upstream" not in json.dumps(history(tmp_path))


def test_a_server_that_never_answers_is_ended_at_the_deadline(project: Path) -> None:
    contract = project / ".appctl" / "schema.json"
    marker = "599.25"  # a sleep only this test starts
    data = json.loads(contract.read_text())
    data["mcp_servers"]["default"] = {"command": "sleep", "args": [marker]}  # a hand edit
    contract.write_text(json.dumps(data))
    (project / ".appctl" / "config.yaml").write_text("policy:\n  - {timeout: 1.5}\n")
    began = time.monotonic()
    silent = call(project, "pid")
    assert time.monotonic() - began < 1.5 + 3
    assert silent["error"]["category"] == "timeout", silent
    deadline = time.monotonic() + 10
    while _sleeping(marker):
        assert time.monotonic() < deadline, "the silent server was left running"
        time.sleep(0.1)


def _sleeping(marker: str) -> bool:
    """Whether a ``sleep MARKER`` process is running (read from /proc)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().split(b"\0")[:2] == [b"sleep", marker.encode()]:
                return True
        except OSError:
            continue
    return False
