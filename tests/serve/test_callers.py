"""Who called, on every front end: ``appctl call`` and ``appctl mcp`` over stdio record the
OS user (``local:<user>``), ``appctl serve`` and ``appctl mcp --transport http`` the
request's caller; ``appctl history --caller`` and ``GET /history?caller=`` select by it; and
each MCP client over Streamable HTTP gets its own session id, on 2026-07-28 (no sessions in
the protocol) as on 2025-11-25."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests import runner
from tests.agent.fakellm import FakeLLM, Step, ToolCallStep
from tests.conftest import TOKEN
from tests.runner import APPCTL
from tests.serve.test_mcp import MODES, _history, _run, mcp_over_http
from tests.serve.test_rest import SERVE_TOKEN, Served


@pytest.mark.parametrize("mode", MODES)
def test_two_mcp_clients_over_http_are_recorded_under_their_own_sessions(
    project: Path, pets: Any, mode: str
) -> None:
    async def session(url: str) -> None:
        async with Client(url, mode=mode) as one, Client(url, mode=mode) as two:
            assert one.protocol_version == two.protocol_version == MODES[mode]
            for client in (one, two, one, two):  # interleaved, both open all along
                listed = await client.call_tool("list_pets", {})
                assert not listed.is_error

    with mcp_over_http(project) as url:
        _run(lambda: session(url))
    rows = _history(project)
    sessions = [r["session"] for r in rows]
    assert len(sessions) == 4
    assert sessions[0] == sessions[2] and sessions[1] == sessions[3]  # each client its own
    assert sessions[0] != sessions[1]
    assert {r["caller"] for r in rows} == {"anonymous"}  # no inbound auth: nobody known


def test_a_modern_client_may_name_its_own_session(project: Path, pets: Any) -> None:
    async def session(url: str) -> None:
        for name in ("agent-7", "agent-8/evil;drop"):
            headers = {"x-appctl-session": name}
            async with httpx2.AsyncClient(headers=headers, timeout=20) as http:
                transport = streamable_http_client(url, http_client=http)
                async with Client(transport, mode="auto") as client:
                    assert not (await client.call_tool("list_pets", {})).is_error

    with mcp_over_http(project) as url:
        _run(lambda: session(url))
    assert [r["session"] for r in _history(project)] == ["agent-7", "agent-8evildrop"]


def test_mcp_over_stdio_records_the_local_user(project: Path, pets: Any) -> None:
    env = runner.child_env({"APPCTL_BEARER_TOKEN": TOKEN, "USER": "carol"})
    params = StdioServerParameters(command=APPCTL, args=["mcp"], cwd=project, env=env)

    async def session() -> None:
        async with Client(params) as client:
            assert not (await client.call_tool("list_pets", {})).is_error

    _run(session)
    assert [r["caller"] for r in _history(project)] == ["local:carol"]


def test_call_records_the_os_user_and_history_selects_by_caller(project: Path, pets: Any) -> None:
    for user in ("dave", "erin", "dave"):
        env = {"APPCTL_BEARER_TOKEN": TOKEN, "USER": user}
        runner.appctl("call", "list_pets", cwd=project, env=env)
    listed = runner.appctl("history", "--caller", "local:d*", "--json", cwd=project)
    assert [e["caller"] for e in json.loads(listed.stdout)] == ["local:dave", "local:dave"]
    shown = runner.appctl("history", "--caller", "local:erin", cwd=project).stdout
    assert "local:erin" in shown and "local:dave" not in shown
    assert len(shown.splitlines()) == 1
    none = runner.appctl("history", "--caller", "ops-*", cwd=project)
    assert none.stdout == "" and "no calls recorded yet" in none.stderr


def test_serve_records_the_request_caller_and_filters_history_by_it(project: Path) -> None:
    served = Served(project, "--token-env", "SERVE_TOKEN")
    auth = {"Authorization": f"Bearer {SERVE_TOKEN}"}
    try:
        called = httpx.post(
            f"{served.url}/tools/list_pets/call", json={"arguments": {}}, headers=auth
        )
        assert called.status_code == 200
        found = httpx.get(f"{served.url}/history?caller=tok*", headers=auth).json()
        missed = httpx.get(f"{served.url}/history?caller=local:*", headers=auth).json()
    finally:
        served.stop()
    assert [(e["tool"], e["caller"]) for e in found] == [("list_pets", "token")]
    assert missed == []
    anonymous = Served(project)
    try:
        httpx.post(f"{anonymous.url}/tools/list_pets/call", json={"arguments": {}})
        rows = httpx.get(f"{anonymous.url}/history?caller=anonymous").json()
    finally:
        anonymous.stop()
    assert [e["caller"] for e in rows] == ["anonymous"]


def test_run_records_the_os_user_as_its_tool_calls_caller(project: Path, pets: Any) -> None:
    script = [Step(tool_calls=[ToolCallStep("list_pets", {})]), Step(text="One pet: Rex.")]
    with FakeLLM(script) as llm:
        runner.invoke(
            "run",
            "How many pets?",
            "--provider",
            "openai",
            "--provider-url",
            llm.base_url("openai"),
            cwd=project,
            env={"APPCTL_BEARER_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-x", "USER": "frank"},
        )
    assert [(r["tool"], r["caller"]) for r in _history(project)] == [("list_pets", "local:frank")]


def test_serve_run_records_the_request_caller(project: Path, pets: Any) -> None:
    script = [Step(tool_calls=[ToolCallStep("list_pets", {})]), Step(text="One pet: Rex.")]
    with FakeLLM(script) as llm:
        llm.init_app(project)
        served = Served(project, "--token-env", "SERVE_TOKEN")
        try:
            auth = {"Authorization": f"Bearer {SERVE_TOKEN}"}
            answer = httpx.post(
                f"{served.url}/run", json={"prompt": "pets?"}, headers=auth, timeout=60
            )
            assert answer.status_code == 200, answer.text
        finally:
            served.stop()
    assert [(r["tool"], r["caller"]) for r in _history(project)] == [("list_pets", "token")]
