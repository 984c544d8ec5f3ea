"""``appctl sync --app`` on a plain Flask app (fixtures/apps/flask_plain: no flask-smorest,
no APIFlask): its URL map read in the frameworks venv; the actions are Flask's own rules,
typed by their converters and inferred; the app under ``flask run`` on 127.0.0.1 answers
``appctl call`` for a read and an approved write, checked in its SQLite file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from notesapp import app
print(json.dumps([
    [m, rule.rule]
    for rule in app.url_map.iter_rules() if rule.endpoint != "static"
    for m in rule.methods - {"HEAD", "OPTIONS"}
]))
"""


@pytest.fixture(scope="module")
def synced(apps_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    project = copied("flask_plain", tmp_path_factory.mktemp("apps"))
    port = free_port()
    env = app_env(NOTES_DB=str(project / "notes.db"))
    done = runner.appctl(
        "sync",
        "--app",
        "notesapp:app",
        "--python",
        str(apps_python),
        "--base-url",
        f"http://127.0.0.1:{port}",
        cwd=project,
        env=env,
    )
    schema = json.loads((project / ".appctl" / "schema.json").read_text())
    actions = {a["name"]: a for r in schema["resources"] for a in r["actions"]}
    argv = [str(apps_python), "-m", "flask", "--app", "notesapp:app", "run"]
    with serving(
        [*argv, "--host", "127.0.0.1", "--port", str(port)], cwd=project, port=port, env=env
    ) as url:
        yield {
            "project": project,
            "url": url,
            "schema": schema,
            "actions": actions,
            "stderr": done.stderr,
            "env": env,
        }


def test_the_actions_are_flasks_own_rules(apps_python: Path, synced: dict[str, Any]) -> None:
    listed = framework_routes(apps_python, ROUTES, cwd=synced["project"], env=synced["env"])
    assert contract_routes(synced["project"] / ".appctl") == listed
    assert len(listed) == 8
    assert synced["schema"]["source"] | {"sha256": ""} == {
        "kind": "app",
        "location": "notesapp:app",
        "sha256": "",
        "format": "openapi 3.1.0",
        "framework": "flask",
        "title": "notesapp",
        "api_version": "",
    }
    assert "read notesapp:app's URL map from flask 3." in synced["stderr"]


def test_converters_type_the_path_parameters(synced: dict[str, Any]) -> None:
    def schemas(name: str) -> dict[str, Any]:
        return {p["name"]: p["schema"] for p in synced["actions"][name]["parameters"]}

    assert schemas("paint") == {
        "note_id": {"type": "integer", "minimum": 0},
        "colour": {"type": "string", "enum": ["blue", "plain", "red"]},
        "body": {"type": "object"},
    }
    assert schemas("scale") == {
        "factor": {"type": "number", "minimum": 0},
        "unit": {"type": "string", "minLength": 2, "maxLength": 8},
    }
    assert schemas("get_admin_export") == {
        "job": {"type": "string", "format": "uuid"},
        "name": {"type": "string", "minLength": 1},
    }


def test_inferred_with_the_methods_safety_and_docstrings(synced: dict[str, Any]) -> None:
    actions = synced["actions"]
    assert {a["provenance"] for a in actions.values()} == {"inferred"}
    assert {n: a["safety"] for n, a in actions.items()} == {
        "list_notes": "read_only",
        "add_note": "mutating",
        "get_note": "read_only",
        "delete_note": "destructive",
        "paint": "mutating",
        "scale": "read_only",
        "get_admin_export": "read_only",
        "post_admin_export": "mutating",
    }
    assert actions["get_note"]["summary"] == "Read one note by its id."
    assert actions["add_note"]["summary"] == "Add a note."
    assert actions["add_note"]["description"].startswith("The body is a JSON object")
    warned = [line for line in synced["stderr"].splitlines() if "request body is unknown" in line]
    assert sorted(line.split(": ")[2] for line in warned) == [
        "POST /admin/export/{job}/{name}",
        "POST /notes",
        "PUT /notes/{note_id}/colour/{colour}",
    ]


def test_the_running_app_answers_a_read_and_an_approved_write(synced: dict[str, Any]) -> None:
    project = synced["project"]
    runner.appctl("call", "add_note", "--args", '{"body": {"text": "no"}}', cwd=project, code=3)
    added = call(project, "add_note", "--yes", "--args", '{"body": {"text": "hello"}}')
    assert added == {"id": 1, "text": "hello"}
    assert call(project, "get_note", "note_id=1") == {"id": 1, "text": "hello", "colour": "plain"}
    call(project, "paint", "note_id=1", "colour=red", "--yes")
    with sqlite3.connect(project / "notes.db") as conn:
        assert conn.execute("SELECT id, text, colour FROM notes").fetchall() == [
            (1, "hello", "red")
        ]
