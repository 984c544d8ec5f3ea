"""``appctl call`` and ``appctl mcp`` reach the wire through the same method: ``Session.call``.

The executor's entry, as the session module holds it, is wrapped to note the stack it is
called from (and then called, so the request really reaches the application on 127.0.0.1).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client

from appctl.cli.main import cli
from appctl.contract.io import dump_schema
from appctl.serve.mcp import ToolServer, build_server
from appctl.session import core
from appctl.session.approval import PolicyOnly
from appctl.session.core import Session
from tests.conftest import serving
from tests.serve.test_outcomes import SCHEMA, App

Frames = list[tuple[str, str]]  # (file relative to appctl/, function), outermost first


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Frames]]:
    for name in [n for n in os.environ if n.startswith("APPCTL_")]:
        monkeypatch.delenv(name)
    stacks: list[Frames] = []
    executor_call = core.call

    def spy(*args: Any, **kwargs: Any) -> Any:
        frames = traceback.extract_stack()[:-1]
        stacks.append([(f.filename.split("/appctl/")[-1], f.name) for f in frames])
        return executor_call(*args, **kwargs)

    monkeypatch.setattr(core, "call", spy)
    yield stacks


@pytest.fixture
def app_url() -> Iterator[str]:
    with serving(App) as url:
        yield f"{url}/api"


def _ours(frames: Frames) -> Frames:
    return [f for f in frames if f[0].startswith(("cli/", "serve/", "session/", "agent/"))]


def test_call_and_mcp_reach_the_executor_through_session_call(
    tmp_path: Path, app_url: str, traced: list[Frames]
) -> None:
    app_dir = tmp_path / ".appctl"
    app_dir.mkdir()
    (app_dir / "schema.json").write_bytes(dump_schema(SCHEMA))
    args = ["--app-dir", str(app_dir), "call", "get_pet", "id=1", "--base-url", app_url]
    ran = CliRunner().invoke(cli, args)
    assert ran.exit_code == 0 and "Rex" in ran.output, ran.output

    session = Session.open(app_dir, approver=PolicyOnly("this MCP client"), base_url=app_url)
    server = build_server(ToolServer(session))

    async def over_mcp() -> Any:
        async with Client(server) as client:
            return await client.call_tool("get_pet", {"id": 1})

    answered = anyio.run(over_mcp)
    assert not answered.is_error and answered.structured_content["data"]["name"] == "Rex"

    cli_path, mcp_path = (_ours(stack) for stack in traced)
    assert cli_path[-1] == mcp_path[-1] == ("session/core.py", "call")  # the one method
    assert ("cli/call.py", "command") in cli_path
    assert ("serve/mcp.py", "run") in mcp_path
    assert not any(f[0].startswith("serve/") for f in cli_path)
    assert not any(f[0].startswith("cli/") for f in mcp_path)
