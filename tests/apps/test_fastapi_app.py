"""``appctl sync --app main:app`` on a real FastAPI app (fixtures/apps/fastapi): the contract
is FastAPI's own OpenAPI document compiled, its routes are the ones FastAPI lists, and the app
served by uvicorn answers ``appctl call`` for a read and an approved write."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import runner
from tests.apps.helpers import (
    app_env,
    call,
    contract_routes,
    copied,
    framework_routes,
    free_port,
    serving,
)

ROUTES = """
import json
import shutil
from fastapi.routing import APIRoute
from main import app
print(json.dumps([[m, r.path] for r in app.routes if isinstance(r, APIRoute) for m in r.methods]))
"""


@pytest.fixture(scope="module")
def project(apps_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copied("fastapi", tmp_path_factory.mktemp("apps"))
    synced = runner.appctl(
        "sync", "--app", "main:app", "--python", str(apps_python), cwd=project, env=app_env()
    )
    assert "read main:app's OpenAPI document from fastapi" in synced.stderr
    return project


@pytest.fixture(scope="module")
def served(apps_python: Path, project: Path) -> Iterator[str]:
    port = free_port()
    command = [str(apps_python), "-m", "uvicorn", "main:app", "--host", "127.0.0.1"]
    env = app_env(NOTES_DB=str(project / "notes.db"), NOTES_ADMIN_KEY="let-me-in")
    with serving([*command, "--port", str(port)], cwd=project, port=port, env=env) as url:
        yield url


def test_the_actions_are_fastapis_own_routes(apps_python: Path, project: Path) -> None:
    listed = framework_routes(apps_python, ROUTES, cwd=project, env=app_env())
    assert listed == {
        ("GET", "/notes"),
        ("POST", "/notes"),
        ("GET", "/notes/{}"),
        ("DELETE", "/notes/{}"),
    }
    assert contract_routes(project / ".appctl") == listed


def test_the_contract_says_what_was_imported_and_keeps_the_types(project: Path) -> None:
    schema = json.loads((project / ".appctl" / "schema.json").read_text())
    assert schema["source"]["kind"] == "app"
    assert schema["source"]["location"] == "main:app"
    assert schema["source"]["framework"] == "fastapi"
    assert schema["source"]["title"] == "Notes"
    assert schema["base_url"] == "http://127.0.0.1:8000"  # FastAPI(servers=...)
    assert str(project) not in json.dumps(schema)  # nothing that differs per machine
    actions = {a["name"]: a for r in schema["resources"] for a in r["actions"]}
    create = {p["name"]: p for p in actions["create_note_notes_post"]["parameters"]}
    assert create["title"]["location"] == "body"
    assert create["title"]["required"] is True
    assert create["title"]["schema"]["maxLength"] == 200  # pydantic's Field(max_length=...)
    listed = {p["name"]: p for p in actions["list_notes_notes_get"]["parameters"]}
    assert listed["limit"]["schema"]["maximum"] == 500
    deleted = {p["name"]: p for p in actions["delete_note_notes_note_id_delete"]["parameters"]}
    assert deleted["x-admin-key"]["location"] == "header"  # from the dependency
    assert actions["delete_note_notes_note_id_delete"]["safety"] == "destructive"


def test_the_served_app_answers_a_read_and_an_approved_write(project: Path, served: str) -> None:
    base = ("--base-url", served)
    created = call(
        project, "create_note_notes_post", "title=From appctl", "pinned=true", "--yes", *base
    )
    assert isinstance(created, dict) and created["title"] == "From appctl"
    with sqlite3.connect(project / "notes.db") as db:
        rows = db.execute("SELECT id, title, pinned FROM notes").fetchall()
    assert rows == [(created["id"], "From appctl", 1)]
    read = call(project, "get_note_notes_note_id_get", f"note_id={created['id']}", *base)
    assert read == created
    listed = call(project, "list_notes_notes_get", "pinned=true", "limit=5", *base)
    assert listed == [created]


def test_a_write_without_approval_is_refused_and_the_database_unchanged(
    project: Path, served: str
) -> None:
    call(project, "list_notes_notes_get", "--base-url", served)  # the app made its table
    with sqlite3.connect(project / "notes.db") as db:
        before = db.execute("SELECT COUNT(*) FROM notes").fetchone()
    refused = runner.appctl(
        "call",
        "create_note_notes_post",
        "title=unapproved",
        "--base-url",
        served,
        cwd=project,
        code=None,
    )
    assert refused.returncode != 0
    with sqlite3.connect(project / "notes.db") as db:
        assert db.execute("SELECT COUNT(*) FROM notes").fetchone() == before


def test_doctor_checks_the_base_url_and_says_how_to_start_the_app(
    project: Path, served: str
) -> None:
    found = runner.appctl("doctor", "--base-url", served, cwd=project)
    assert "ok    base URL answers" in found.stdout
    assert "2 verified" in found.stdout  # the two GET routes, on evidence
    nowhere = f"http://127.0.0.1:{free_port()}"
    missed = runner.appctl("doctor", "--base-url", nowhere, cwd=project, code=1)
    assert f"FAIL  base URL answers: GET {nowhere} → no answer" in missed.stdout
    assert "the contract came from main:app (fastapi): start it (e.g. `uvicorn main:app`)" in (
        missed.stdout
    )


def test_check_finds_the_contract_up_to_date_then_a_new_route(
    apps_python: Path, project: Path, tmp_path: Path
) -> None:
    python = ("--python", str(apps_python))
    same = runner.appctl(
        "sync", "--check", "--app", "main:app", *python, cwd=project, env=app_env()
    )
    assert "is up to date" in same.stderr  # a re-sync of the unchanged app is byte-identical
    changed = copied("fastapi", tmp_path)
    shutil.copytree(project / ".appctl", changed / ".appctl")
    with (changed / "main.py").open("a") as source:
        source.write('\n\n@app.get("/health")\ndef health() -> dict[str, str]:\n    return {}\n')
    drift = runner.appctl(
        "sync", "--check", "--app", "main:app", *python, cwd=changed, env=app_env(), code=1
    )
    assert "added: health_health_get" in drift.stdout
