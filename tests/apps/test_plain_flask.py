"""A plain Flask app (fixtures/apps/flask_plain) synced from its URL map in the frameworks
venv: the actions are Flask's own rules, typed by their converters and inferred; the app,
started with ``flask run`` on 127.0.0.1, answers ``appctl call`` for a read and an approved
write, checked in its SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appctl.sync import run
from appctl.sync.app.plain import flask_app
from tests import runner
from tests.apps.conftest import APPS
from tests.apps.plain import Plain, actions_of, free_port, python_json, serving

FLASK = APPS / "flask_plain"
ROUTES = """
import json, re
from notesapp import app
out = []
for rule in app.url_map.iter_rules():
    if rule.endpoint == "static":
        continue
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(r"<(?:[^<>]*:)?" + name + ">", "{" + name + "}", path)
    out += [[m, path] for m in rule.methods - {"HEAD", "OPTIONS"}]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def synced(apps_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = tmp_path_factory.mktemp("flask-plain")
    port = free_port()
    source = Plain(
        flask_app,
        "notesapp:app",
        apps_python,
        FLASK,
        options={"location": "flask:notesapp:app", "base_url": f"http://127.0.0.1:{port}"},
    )
    outcome = run(source, app_dir=project / ".appctl")
    schema = json.loads(outcome.schema_path.read_text())
    actions = {a["name"]: a for r in schema["resources"] for a in r["actions"]}
    return {"project": project, "port": port, "outcome": outcome, "actions": actions}


def test_the_actions_are_flasks_own_rules(apps_python: Path, synced: dict[str, Any]) -> None:
    own = python_json(apps_python, ROUTES, cwd=FLASK, env={"NOTES_DB": ":memory:"})
    assert actions_of(synced["outcome"].schema_path) == {(m, p) for m, p in own}
    assert len(own) == 8


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
    warned = [w for w in synced["outcome"].warnings if "request body is unknown" in w.message]
    assert sorted(w.message.split(":")[0] for w in warned) == [
        "POST /admin/export/{job}/{name}",
        "POST /notes",
        "PUT /notes/{note_id}/colour/{colour}",
    ]


def test_the_running_app_answers_a_read_and_an_approved_write(
    apps_python: Path, synced: dict[str, Any], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.db"
    project, port = synced["project"], synced["port"]
    argv = [str(apps_python), "-m", "flask", "--app", "notesapp:app", "run"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    with serving(argv, cwd=FLASK, env={"NOTES_DB": str(notes)}, port=port, ready="/notes"):
        runner.appctl("call", "add_note", "--args", '{"body": {"text": "no"}}', cwd=project, code=3)
        added = runner.appctl(
            "call",
            "add_note",
            "--yes",
            "--json",
            "--args",
            '{"body": {"text": "hello"}}',
            cwd=project,
        )
        assert json.loads(added.stdout)["data"] == {"id": 1, "text": "hello"}
        read = runner.appctl("call", "get_note", "note_id=1", "--json", cwd=project)
        assert json.loads(read.stdout)["data"] == {"id": 1, "text": "hello", "colour": "plain"}
        runner.appctl("call", "paint", "note_id=1", "colour=red", "--yes", cwd=project)
    with sqlite3.connect(notes) as conn:
        assert conn.execute("SELECT id, text, colour FROM notes").fetchall() == [
            (1, "hello", "red")
        ]
