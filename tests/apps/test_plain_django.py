"""A plain Django project (fixtures/apps/django_plain: function and class views, an include,
path converters and a regex route) synced from its URL patterns in the frameworks venv: the
actions are the URLs Django routes with the methods its views answer, typed and inferred; the
project, started with ``runserver`` on 127.0.0.1, answers ``appctl call`` for a read and an
approved write, checked in its notes file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appctl.sync import run
from appctl.sync.app.plain import django_views
from tests import runner
from tests.apps.conftest import APPS
from tests.apps.plain import Plain, actions_of, free_port, python_json, serving

DJANGO = APPS / "django_plain"
SETTINGS = "plainsite.settings"
# Django's own answer, found another way than the probe's: each pattern's text joined along
# the includes, a class view's handlers, and for a function view the methods its URL does not
# answer with 405 (asked with Django's test client; a view that takes all of them is read as
# GET only, the documented reading of a view that declares nothing)
ROUTES = """
import json, os, re
import django
django.setup()
from django.test import Client
from django.urls import get_resolver
SAMPLE = {"pk": "1", "word": "hi", "tag": "a-b", "ref": "12345678-1234-1234-1234-123456789abc",
          "name": "x/y", "year": "2024", "slug": "s"}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
def text(pattern):
    return re.sub(r"\\(\\?P<(\\w+)>[^)]*\\)", r"{\\1}", str(pattern).lstrip("^").rstrip("$"))
def walk(patterns, prefix):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            if p.app_name != "admin":
                yield from walk(p.url_patterns, prefix + text(p.pattern))
            continue
        yield re.sub(r"<(?:\\w+:)?(\\w+)>", r"{\\1}", prefix + text(p.pattern)), p.callback
out = []
client = Client()
for path, view in walk(get_resolver().url_patterns, "/"):
    cls = getattr(view, "view_class", None)
    if cls is not None:
        methods = [m.upper() for m in cls.http_method_names if hasattr(cls, m)]
    else:
        url = re.sub(r"{(\\w+)}", lambda m: SAMPLE[m.group(1)], path)
        methods = [m for m in METHODS if client.generic(m, url).status_code != 405]
        methods = ["GET"] if methods == METHODS else methods
    out += [[m, path] for m in methods if m not in ("HEAD", "OPTIONS")]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def synced(apps_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = tmp_path_factory.mktemp("django-plain")
    port = free_port()
    source = Plain(
        django_views,
        SETTINGS,
        apps_python,
        DJANGO,
        options={"location": f"django:{SETTINGS}", "base_url": f"http://127.0.0.1:{port}"},
    )
    outcome = run(source, app_dir=project / ".appctl")
    schema = json.loads(outcome.schema_path.read_text())
    actions = {a["name"]: a for r in schema["resources"] for a in r["actions"]}
    return {"project": project, "port": port, "outcome": outcome, "actions": actions}


def test_the_actions_are_the_urls_django_routes(
    apps_python: Path, synced: dict[str, Any], tmp_path: Path
) -> None:
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS, "NOTES_FILE": str(tmp_path / "n.json")}
    own = python_json(apps_python, ROUTES, cwd=DJANGO, env=env)
    assert actions_of(synced["outcome"].schema_path) == {(m, p) for m, p in own}
    assert ("POST", "/api/notes/{pk}/pin") in actions_of(synced["outcome"].schema_path)
    assert len(own) == 11


def test_converters_and_regex_groups_type_the_parameters(synced: dict[str, Any]) -> None:
    def schemas(name: str) -> dict[str, Any]:
        return {p["name"]: p["schema"] for p in synced["actions"][name]["parameters"]}

    assert schemas("get_notes_note_detail") == {"pk": {"type": "integer", "minimum": 0}}
    assert schemas("notes_tagged") == {
        "tag": {"type": "string", "pattern": "^(?:[-a-zA-Z0-9_]+)$"},
        "ref": {"type": "string", "format": "uuid"},
    }
    assert schemas("archive") == {
        "year": {"type": "string", "pattern": "^(?:[0-9]{4})$"},
        "slug": {"type": "string", "pattern": "^(?:[-\\w]+)$"},
    }
    assert schemas("notes_file_info") == {"name": {"type": "string", "minLength": 1}}
    assert schemas("notes_shout") == {"word": {"type": "string", "minLength": 1}}
    assert synced["actions"]["notes_shout"]["summary"] == "Say a word back."


def test_inferred_safety_docstrings_csrf_and_warnings(synced: dict[str, Any]) -> None:
    actions = synced["actions"]
    assert {a["provenance"] for a in actions.values()} == {"inferred"}
    assert actions["delete_notes_note_detail"]["safety"] == "destructive"
    assert actions["post_notes_note_list"]["safety"] == "mutating"
    assert actions["get_notes_note_list"]["summary"] == "List every note."
    assert actions["get_notes_note_detail"]["summary"] == "One note by its id."
    assert "CSRF token" in actions["post_notes_note_pin"]["description"]
    assert "CSRF" not in actions["post_notes_note_list"]["description"]  # csrf_exempt
    messages = [w.message for w in synced["outcome"].warnings]
    assert sum("request body is unknown" in m for m in messages) == 2
    assert any(
        "3 Django function view(s) accept any method" in m and "notes.views.health" in m
        for m in messages
    )
    assert "left out (the admin site): admin/" in synced["outcome"].notes


def test_the_running_project_answers_a_read_and_an_approved_write(
    apps_python: Path, synced: dict[str, Any], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.json"
    notes.write_text(json.dumps([{"id": 7, "text": "first", "pinned": False}]))
    project, port = synced["project"], synced["port"]
    argv = [str(apps_python), "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"]
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS, "NOTES_FILE": str(notes), "PYTHONPATH": str(DJANGO)}
    with serving(argv, cwd=DJANGO, env=env, port=port, ready="/health"):
        read = runner.appctl("call", "get_notes_note_detail", "pk=7", "--json", cwd=project)
        assert json.loads(read.stdout)["data"] == {"id": 7, "text": "first", "pinned": False}
        runner.appctl(
            "call", "post_notes_note_list", "--args", '{"body": {"text": "x"}}', cwd=project, code=3
        )
        runner.appctl(
            "call",
            "post_notes_note_list",
            "--yes",
            "--args",
            '{"body": {"text": "second"}}',
            cwd=project,
        )
        runner.appctl("call", "delete_notes_note_detail", "pk=7", "--yes", cwd=project)
    assert json.loads(notes.read_text()) == [{"id": 8, "pinned": False, "text": "second"}]
