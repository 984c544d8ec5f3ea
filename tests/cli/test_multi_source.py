"""Several sources in one app dir (contract/sources.py), end to end through the CLI: the
fixture pet store on 127.0.0.1 (twice, as two sources on two servers) and Chinook in SQLite,
each synced with ``--name``; re-syncing one leaves the others' files byte-identical; tools,
guide, call, policy and ``appctl mcp`` (the SDK client) span them; and an app dir from before
(a committed golden contract) reads as it always did."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from tests import runner
from tests.conftest import REPO, TOKEN, pet_store, run_appctl

SPEC = REPO / "fixtures" / "app" / "openapi.yaml"
CHINOOK = REPO / "examples" / "chinook.db"
GOLDEN = REPO / "fixtures" / "golden" / "petstore-openapi30"
PET_TOOLS = {"list_pets", "get_pet", "create_pet", "delete_pet", "ghost_route"}


@pytest.fixture
def other() -> Iterator[Any]:
    """A second pet store on its own port."""
    with pet_store() as app:
        yield app


@pytest.fixture
def multi(tmp_path: Path, pets: Any) -> Path:
    """A project with two named sources: ``pets`` (the pet store) and ``db`` (Chinook)."""
    shutil.copy(CHINOOK, tmp_path / "chinook.db")
    run_appctl(
        tmp_path, "sync", "--name", "pets", "--openapi", str(SPEC), "--base-url", pets.url, code=0
    )
    run_appctl(tmp_path, "sync", "--name", "db", "--db", "sqlite:///chinook.db", "--tools", code=0)
    return tmp_path


def _files(app_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(app_dir)): p.read_bytes()
        for p in sorted(app_dir.rglob("*"))
        if p.is_file() and p.suffix in (".json", ".yaml")
    }


def _names(project: Path) -> list[str]:
    return run_appctl(project, "tools", "--names", code=0).stdout.split()


def test_each_source_in_its_own_folder_with_its_own_names(multi: Path) -> None:
    app_dir = multi / ".appctl"
    assert set(_files(app_dir)) == {
        "sources/pets/schema.json",
        "sources/db/schema.json",
        "sources/db/tools.json",
    }
    pets = json.loads((app_dir / "sources/pets/schema.json").read_bytes())
    assert {a["name"] for r in pets["resources"] for a in r["actions"]} == {
        f"pets_{n}" for n in PET_TOOLS
    }
    names = _names(multi)
    assert {n for n in names if n.startswith("pets_")} == {f"pets_{n}" for n in PET_TOOLS}
    assert "db_list_artist" in names and "db_create_invoice_line" in names
    assert len(names) == len(PET_TOOLS) + 55  # Chinook: 11 tables, 5 tools each


def test_resyncing_one_source_leaves_the_others_byte_identical(multi: Path) -> None:
    app_dir = multi / ".appctl"
    before = _files(app_dir)
    with sqlite3.connect(multi / "chinook.db") as conn:
        conn.execute("CREATE TABLE Label (LabelId INTEGER PRIMARY KEY, Name TEXT)")
    done = run_appctl(multi, "sync", "--name", "db", "--db", "sqlite:///chinook.db", code=0)
    assert "changes since the last sync: +5 added, -0 removed, ~0 changed" in done.stderr
    after = _files(app_dir)
    assert after["sources/pets/schema.json"] == before["sources/pets/schema.json"]
    assert after["sources/db/schema.json"] != before["sources/db/schema.json"]
    assert b"db_list_label" in after["sources/db/tools.json"]  # kept fresh, in its folder
    assert "db_list_label" in _names(multi)
    run_appctl(multi, "sync", "--name", "pets", "--openapi", str(SPEC), code=0)
    again = _files(app_dir)
    assert again == after  # the pet store unchanged: nothing else moves
    checked = run_appctl(
        multi, "sync", "--name", "db", "--db", "sqlite:///chinook.db", "--check", code=0
    )
    assert "sources/db/schema.json is up to date" in checked.stderr


def test_call_each_source_and_follow_a_database_cursor(multi: Path, pets: Any) -> None:
    listed = run_appctl(multi, "call", "pets_list_pets", "limit=5", "--json", code=0)
    assert json.loads(listed.stdout)["data"] == {"data": [{"id": 1, "name": "Rex"}]}
    assert pets.seen == [("GET", "/api/pets", [("limit", "5")])]
    rows = run_appctl(multi, "call", "db_list_artist", "limit=2", "--json", code=0)
    page = json.loads(rows.stdout)["data"]
    assert [r["Name"] for r in page["rows"]] == ["AC/DC", "Accept"]
    more = run_appctl(
        multi,
        "call",
        "db_list_artist",
        "limit=2",
        f"cursor={page['next_cursor']}",
        "--json",
        code=0,
    )
    assert [r["ArtistId"] for r in json.loads(more.stdout)["data"]["rows"]] == [3, 4]
    refused = run_appctl(multi, "call", "pets_create_pet", "name=Tom", "--json", code=None)
    assert json.loads(refused.stdout)["error"]["category"] == "refused"
    assert len(pets.seen) == 1  # the refused POST never left


def test_each_source_calls_its_own_server(tmp_path: Path, pets: Any, other: Any) -> None:
    for name, app in (("a", pets), ("b", other)):
        args = ("sync", "--name", name, "--openapi", str(SPEC), "--base-url", app.url)
        run_appctl(tmp_path, *args, code=0)
    guide = run_appctl(tmp_path, "guide", code=0).stdout
    assert "10 tools in 4 resources." in guide
    assert "\n## a.pets\nkey: petId\n- a_create_pet(name)" in guide and "\n## b.pets\n" in guide
    assert "- `petId`: from a_list_pets → a_delete_pet, a_get_pet\n" in guide  # ids of a go
    assert "- `petId`: from b_list_pets → b_delete_pet, b_get_pet\n" in guide  # to a only
    run_appctl(tmp_path, "call", "b_get_pet", "petId=1", code=0)
    run_appctl(tmp_path, "call", "a_list_pets", code=0)
    assert pets.seen == [("GET", "/api/pets", [])]
    assert other.seen == [("GET", "/api/pets/1", [])]


def test_policy_matches_by_source(multi: Path, pets: Any) -> None:
    (multi / ".appctl" / "config.yaml").write_text(
        "policy:\n"
        "  - {match: {source: db}, action: deny}\n"
        "  - {match: {source: 'pe*', verb: create}, action: allow}\n"
    )
    denied = run_appctl(multi, "call", "db_list_artist", "limit=1", "--json", code=None)
    error = json.loads(denied.stdout)["error"]
    assert error["category"] == "refused" and "denied by rule 1" in error["message"]
    run_appctl(multi, "call", "pets_list_pets", code=0)
    created = run_appctl(multi, "call", "pets_create_pet", "name=Tom", "--json", code=0)
    assert json.loads(created.stdout)["ok"] is True
    assert [s[0] for s in pets.seen] == ["GET", "POST"]


def test_guide_tools_and_schema_cover_every_source(multi: Path, pets: Any) -> None:
    summary = run_appctl(multi, "schema", code=0).stdout
    assert summary.startswith("[db]\nsource:    db sqlite:///chinook.db")
    assert f"\n[pets]\nsource:    openapi {SPEC}" in summary
    assert f"base_url:  {pets.url}\n" in summary
    guide = run_appctl(multi, "guide", code=0).stdout
    assert "pets_list_pets" in guide and "db_list_artist" in guide
    openai = json.loads(run_appctl(multi, "tools", "--format", "openai", "--strict", code=0).stdout)
    names = [t["function"]["name"] for t in openai]
    assert len(names) == len(set(names)) == len(PET_TOOLS) + 55
    toolset = run_appctl(multi, "tools", "--names", "--include", "pets_*", code=0).stdout.split()
    assert set(toolset) == {f"pets_{n}" for n in PET_TOOLS}


def test_a_sync_that_would_take_another_sources_tool_name_is_refused(multi: Path) -> None:
    app_dir = multi / ".appctl"
    before = _files(app_dir)
    (app_dir / "sources" / "db" / "overrides.yaml").write_text(
        "actions:\n  db_list_artist: {name: pets_list_pets}\n"
    )
    failed = run_appctl(multi, "sync", "--name", "db", "--db", "sqlite:///chinook.db", code=None)
    assert failed.returncode != 0
    assert "'pets_list_pets' comes from both source 'pets' and source 'db'" in failed.stderr
    assert _files(app_dir) == {**before, "sources/db/overrides.yaml": ANY}  # nothing written
    assert "pets_list_pets" in _names(multi)


def test_a_bad_source_name_is_refused(tmp_path: Path) -> None:
    done = run_appctl(tmp_path, "sync", "--name", "Git-Hub", "--openapi", str(SPEC), code=2)
    assert "cannot name a source" in done.stderr
    assert not (tmp_path / ".appctl").exists()


def test_an_old_single_source_app_dir_reads_as_before(tmp_path: Path) -> None:
    """A contract committed before named sources (the golden petstore) gives the same tools
    and guide, and adding a named source beside it changes neither its file nor its tools."""
    app_dir = tmp_path / ".appctl"
    app_dir.mkdir()
    shutil.copy(GOLDEN / "schema.json", app_dir / "schema.json")
    old = (app_dir / "schema.json").read_bytes()
    for out, args in (("openai.json", ("--format", "openai")), ("mcp.json", ("--format", "mcp"))):
        assert (
            run_appctl(tmp_path, "tools", *args, code=0).stdout_bytes == (GOLDEN / out).read_bytes()
        )
    assert run_appctl(tmp_path, "guide", code=0).stdout_bytes == (GOLDEN / "guide.md").read_bytes()
    shutil.copy(CHINOOK, tmp_path / "chinook.db")
    run_appctl(tmp_path, "sync", "--name", "db", "--db", "sqlite:///chinook.db", code=0)
    assert (app_dir / "schema.json").read_bytes() == old
    golden = {t["function"]["name"]: t for t in json.loads((GOLDEN / "openai.json").read_bytes())}
    merged = json.loads(run_appctl(tmp_path, "tools", "--format", "openai", code=0).stdout)
    unnamed = {
        t["function"]["name"]: t for t in merged if not t["function"]["name"].startswith("db_")
    }
    assert unnamed == golden
    assert len(merged) == len(golden) + 55


def test_mcp_lists_and_calls_every_source(multi: Path, pets: Any) -> None:
    from tests.serve.test_mcp import _envelope, _run, _stdio

    async def session() -> None:
        async with _stdio(multi) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {f"pets_{n}" for n in PET_TOOLS} <= names and "db_get_album" in names
            listed = await client.call_tool("pets_list_pets", {"limit": 5})
            assert _envelope(listed)["data"] == {"data": [{"id": 1, "name": "Rex"}]}
            album = await client.call_tool("db_get_album", {"AlbumId": 1})
            assert _envelope(album)["data"]["Title"].startswith("For Those About To Rock")

    _run(session)
    assert pets.seen == [("GET", "/api/pets", [("limit", "5")])]
    assert runner.APPCTL  # the server ran as the installed command


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_run_calls_tools_of_both_sources(multi: Path, pets: Any, kind: str) -> None:
    from tests.agent.fakellm import FakeLLM, Step, ToolCallStep
    from tests.agent.test_run import _run, _tool_names, _tool_results

    script = [
        Step(
            tool_calls=[
                ToolCallStep("pets_list_pets", {"limit": 5}),
                ToolCallStep("db_get_artist", {"ArtistId": 1}),
            ]
        ),
        Step(text="Rex likes AC/DC."),
    ]
    with FakeLLM(script) as llm:
        proc = _run(multi, llm, kind, "Which band does my pet like?")
    assert "Rex likes AC/DC." in proc.stdout
    first, second = llm.requests
    offered = _tool_names(first)
    assert "pets_create_pet" in offered and "db_list_invoice" in offered
    results = " ".join(_tool_results(second))
    assert "Rex" in results and "AC/DC" in results
    assert pets.seen == [("GET", "/api/pets", [("limit", "5")])]
    rows = (
        sqlite3.connect(multi / ".appctl" / "history.db")
        .execute("SELECT tool, outcome FROM appctl_calls ORDER BY tool")
        .fetchall()
    )
    assert rows == [("db_get_artist", "ok"), ("pets_list_pets", "ok")]


def test_serve_offers_and_calls_both_sources(multi: Path, pets: Any) -> None:
    import httpx

    from tests.serve.test_rest import Served

    served = Served(multi)
    try:
        tools = httpx.get(f"{served.url}/tools?format=openai").json()
        names = {t["function"]["name"] for t in tools}
        assert {"pets_list_pets", "db_list_artist"} <= names
        pets_call = httpx.post(
            f"{served.url}/tools/pets_get_pet/call", json={"arguments": {"petId": 1}}
        )
        assert pets_call.status_code == 200 and pets_call.json()["data"]["name"] == "Rex"
        db_call = httpx.post(
            f"{served.url}/tools/db_get_genre/call", json={"arguments": {"GenreId": 1}}
        )
        assert db_call.status_code == 200 and db_call.json()["data"]["Name"] == "Rock"
    finally:
        served.stop()
    assert pets.seen == [("GET", "/api/pets/1", [])]


def test_one_sources_secret_is_hidden_in_anothers_answer(
    tmp_path: Path, pets: Any, http_server: tuple[str, dict[str, tuple[int, str, bytes]]]
) -> None:
    """The pet store's bearer token (source ``pets``) echoed by an unrelated API (source
    ``echo``, no credentials of its own) is redacted in that call's result and history."""
    url, routes = http_server
    routes["/echo"] = (200, "application/json", json.dumps({"seen": TOKEN}).encode())
    echo = {
        "openapi": "3.0.3",
        "info": {"title": "Echo", "version": "1"},
        "servers": [{"url": url}],
        "paths": {"/echo": {"get": {"operationId": "echo"}}},
    }
    (tmp_path / "echo.json").write_text(json.dumps(echo))
    run_appctl(
        tmp_path, "sync", "--name", "pets", "--openapi", str(SPEC), "--base-url", pets.url, code=0
    )
    run_appctl(tmp_path, "sync", "--name", "echo", "--openapi", "echo.json", code=0)
    done = run_appctl(tmp_path, "call", "echo_echo", "--json", code=0)
    assert TOKEN not in done.stdout and "seen" in json.loads(done.stdout)["data"]
    history = run_appctl(tmp_path, "history", "--json", code=0).stdout
    assert "echo_echo" in history and TOKEN not in history


def test_a_toolset_and_policy_span_sources_in_mcp(multi: Path, pets: Any) -> None:
    """One toolset takes the pet store's reads and the database's artists; a policy rule on
    source db denies what the toolset offers from it."""
    from tests.serve.test_mcp import _envelope, _run, _stdio

    (multi / ".appctl" / "config.yaml").write_text(
        "toolsets:\n"
        "  mixed: {include: ['pets_*', 'db_*_artist'], read_only: true}\n"
        "policy:\n"
        "  - {match: {source: db, name: db_get_*}, action: deny}\n"
    )

    async def session() -> None:
        async with _stdio(multi, "--toolset", "mixed") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {
                "pets_list_pets",
                "pets_get_pet",
                "pets_ghost_route",
                "db_list_artist",
                "db_get_artist",
            }
            listed = await client.call_tool("db_list_artist", {"limit": 1})
            assert _envelope(listed)["data"]["rows"] == [{"ArtistId": 1, "Name": "AC/DC"}]
            denied = await client.call_tool("db_get_artist", {"ArtistId": 1})
            assert denied.is_error and "denied by rule 1" in _envelope(denied)["error"]["message"]

    _run(session)


def test_doctor_checks_and_marks_one_named_source(multi: Path, pets: Any) -> None:
    app_dir = multi / ".appctl"
    db_before = (app_dir / "sources/db/schema.json").read_bytes()
    asked = run_appctl(multi, "doctor", code=2)
    assert "several named sources" in asked.stderr and "db, pets" in asked.stderr
    assert "one of: db, pets" in run_appctl(multi, "doctor", "--source", "nope", code=2).stderr
    report = run_appctl(multi, "doctor", "--source", "pets", "--write", code=1)
    assert "missing    pets_ghost_route" in report.stdout + report.stderr
    contract = json.loads((app_dir / "sources/pets/schema.json").read_bytes())
    actions = [a for r in contract["resources"] for a in r["actions"]]
    marked = {a["name"] for a in actions if a.get("provenance") == "verified"}
    assert marked == {f"pets_{n}" for n in PET_TOOLS} - {"pets_ghost_route"}
    assert (app_dir / "sources/db/schema.json").read_bytes() == db_before
    assert not (app_dir / "schema.json").exists()
    run_appctl(multi, "doctor", "--source", "db", code=0)


def test_a_long_running_operation_of_a_named_source_resumes(tmp_path: Path) -> None:
    """appctl_poll belongs to no source: the handle's tool finds its own source's base URL."""
    from appctl.contract import io
    from appctl.contract.sources import namespaced, source_dir
    from tests.helpers import sync_doc
    from tests.lro_app import lro_app, spec

    shutil.copy(CHINOOK, tmp_path / "chinook.db")
    run_appctl(tmp_path, "sync", "--name", "db", "--db", "sqlite:///chinook.db", code=0)
    app_dir = tmp_path / ".appctl"
    (app_dir / "config.yaml").write_text(
        "policy:\n"
        "  - {match: {source: jobs}, action: allow}\n"
        "  - {match: {name: jobs_start_job}, wait: 0}\n"
    )
    with lro_app() as app:
        schema = namespaced(sync_doc(spec(), base_url=app.url).schema, "jobs")
        io.write_atomic(source_dir(app_dir, "jobs") / io.SCHEMA_FILE, io.dump_schema(schema))
        first = run_appctl(tmp_path, "call", "jobs_start_job", "polls=-1", "--json", code=1)
        handle = json.loads(first.stdout)["operation"]["handle"]
        app.finish("1")
        resumed = run_appctl(tmp_path, "call", "appctl_poll", f"operation={handle}", code=0)
        assert json.loads(resumed.stdout) == {"id": "1", "made": True}
        assert app.writes == ["POST /jobs"]


def test_a_source_overrides_rename_its_tools_and_policy_still_knows_the_source(
    multi: Path,
) -> None:
    """overrides.yaml of source db maps db_list_artist to a name of its own; a rule on
    source db still holds for it (the source is where the tool was loaded from, not a
    prefix), and the unnamed source's overrides.yaml (there is none) is not involved."""
    (multi / ".appctl" / "sources" / "db" / "overrides.yaml").write_text(
        "actions:\n  db_list_artist: {name: artists}\n"
    )
    run_appctl(multi, "sync", "--name", "db", "--db", "sqlite:///chinook.db", code=0)
    names = _names(multi)
    assert "artists" in names and "db_list_artist" not in names
    rows = run_appctl(multi, "call", "artists", "limit=1", "--json", code=0)
    assert json.loads(rows.stdout)["data"]["rows"] == [{"ArtistId": 1, "Name": "AC/DC"}]
    (multi / ".appctl" / "config.yaml").write_text(
        "policy:\n  - {match: {source: db, verb: list}, action: deny}\n"
    )
    denied = run_appctl(multi, "call", "artists", "limit=1", "--json", code=None)
    assert json.loads(denied.stdout)["error"]["category"] == "refused"
