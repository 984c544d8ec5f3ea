"""One app over three kinds of source at once: the fixture HTTP API (``pets``), Chinook in
SQLite (``db``) and the real ``@modelcontextprotocol/server-filesystem`` on a temp dir
(``fs``). ``tools``, ``guide`` and ``call`` on each; ``appctl mcp`` listing and calling all
three through the official SDK client and the npm Inspector CLI; ``appctl run`` over all
three on the OpenAI wire fake; every call in the one audit history."""

from __future__ import annotations

import json
import shlex
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_multi_source import CHINOOK, SPEC
from tests.conftest import run_appctl
from tests.mcpsource.servers import FILESYSTEM, need


@pytest.fixture
def three(tmp_path: Path, pets: Any) -> Path:
    need(FILESYSTEM)
    shutil.copy(CHINOOK, tmp_path / "chinook.db")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "note.txt").write_text("Rex likes AC/DC.\n")
    run_appctl(
        tmp_path, "sync", "--name", "pets", "--openapi", str(SPEC), "--base-url", pets.url, code=0
    )
    run_appctl(tmp_path, "sync", "--name", "db", "--db", "sqlite:///chinook.db", code=0)
    server = f"{shlex.quote(str(FILESYSTEM))} {shlex.quote(str(tmp_path / 'files'))}"
    run_appctl(tmp_path, "sync", "--name", "fs", "--mcp", server, code=0)
    return tmp_path


def _history(project: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(project / ".appctl" / "history.db") as db:
        return db.execute("SELECT tool, outcome FROM appctl_calls ORDER BY id").fetchall()


def test_tools_guide_and_call_on_each_source(three: Path, pets: Any) -> None:
    names = run_appctl(three, "tools", "--names", code=0).stdout.split()
    assert {"pets_list_pets", "db_get_album", "fs_read_text_file", "fs_write_file"} <= set(names)
    guide = run_appctl(three, "guide", code=0).stdout
    assert "fs_write_file" in guide and "db_list_album" in guide and "pets_create_pet" in guide

    run_appctl(three, "call", "pets_list_pets", "limit=1", code=0)
    album = run_appctl(three, "call", "db_get_album", "AlbumId=1", code=0).stdout
    assert "For Those About To Rock" in album
    target = three / "files" / "new.txt"
    refused = run_appctl(three, "call", "fs_write_file", f"path={target}", "content=hi", code=3)
    assert "needs approval" in refused.stderr and not target.exists()
    run_appctl(three, "call", "fs_write_file", f"path={target}", "content=hi", "--yes", code=0)
    assert target.read_text() == "hi"
    read = run_appctl(three, "call", "fs_read_text_file", f"path={target}", code=0).stdout
    assert "hi" in read
    assert pets.seen == [("GET", "/api/pets", [("limit", "1")])]
    assert _history(three) == [
        ("pets_list_pets", "ok"),
        ("db_get_album", "ok"),
        ("fs_write_file", "refused"),
        ("fs_write_file", "ok"),
        ("fs_read_text_file", "ok"),
    ]


def test_mcp_serves_all_three_to_the_sdk_client_and_the_inspector(three: Path) -> None:
    from tests.serve.test_mcp import _envelope, _inspect, _run, _stdio

    note = str(three / "files" / "note.txt")

    async def session() -> None:
        async with _stdio(three) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"pets_get_pet", "db_list_artist", "fs_list_directory"} <= names
            read = await client.call_tool("fs_read_text_file", {"path": note})
            assert "AC/DC" in str(_envelope(read)["data"])
            artist = await client.call_tool("db_get_artist", {"ArtistId": 1})
            assert _envelope(artist)["data"]["Name"] == "AC/DC"

    _run(session)
    listed = _inspect(three, "--method", "tools/list")
    prefixes = {t["name"].split("_", 1)[0] for t in listed["tools"]}
    assert prefixes == {"pets", "db", "fs"}
    args = ("--method", "tools/call", "--tool-name", "fs_read_text_file", "--tool-arg")
    called = _inspect(three, *args, f"path={note}")
    assert "AC/DC" in str(called["structuredContent"]["data"])


def test_run_calls_tools_of_all_three_sources(three: Path, pets: Any) -> None:
    from tests.agent.fakellm import FakeLLM, Step, ToolCallStep
    from tests.agent.test_run import _run, _tool_names, _tool_results

    note = str(three / "files" / "note.txt")
    script = [
        Step(
            tool_calls=[
                ToolCallStep("pets_list_pets", {"limit": 5}),
                ToolCallStep("fs_read_text_file", {"path": note}),
                ToolCallStep("db_get_artist", {"ArtistId": 1}),
            ]
        ),
        Step(text="Rex likes AC/DC."),
    ]
    with FakeLLM(script) as llm:
        proc = _run(three, llm, "openai", "What does my pet like?")
    assert "Rex likes AC/DC." in proc.stdout
    first, second = llm.requests
    offered = _tool_names(first)
    assert {"pets_create_pet", "db_list_invoice", "fs_write_file"} <= set(offered)
    said = json.dumps(first.body)  # the system prompt names every source and its kind
    for part in ("pets (OpenAPI document)", "db (database schema)", "fs (MCP server"):
        assert part in said, said[:800]
    results = " ".join(_tool_results(second))
    assert "Rex" in results and results.count("AC/DC") >= 2
    assert sorted(_history(three)) == [
        ("db_get_artist", "ok"),
        ("fs_read_text_file", "ok"),
        ("pets_list_pets", "ok"),
    ]


def test_the_sources_are_named_with_their_kinds() -> None:
    from appctl.contract.kinds import sources_noun

    assert sources_noun({"": "openapi"}) == "OpenAPI document"
    assert sources_noun({"": "db", "fs": "mcp"}) == (
        "sources: main (database schema), fs (MCP server's tool list)"
    )
