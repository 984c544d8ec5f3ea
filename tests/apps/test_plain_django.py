"""``appctl sync --django`` on a plain Django project (fixtures/apps/django_plain: function
and class views, an include, path converters and a regex route; no DRF) read from its URL
patterns in the frameworks venv: the actions are the URLs Django routes with the methods its
views answer, typed and inferred; the project under ``runserver`` on 127.0.0.1 answers
``appctl call`` for a read and an approved write, checked in its notes file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import runner
from tests.apps.helpers import app_env, call, contract_routes, copied, free_port, serving
from tests.apps.helpers import framework_routes as listed_by

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
def synced(apps_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    project = copied("django_plain", tmp_path_factory.mktemp("apps"))
    notes = project / "notes.json"
    notes.write_text(json.dumps([{"id": 7, "text": "first", "pinned": False}]))
    port = free_port()
    env = app_env(DJANGO_SETTINGS_MODULE=SETTINGS, NOTES_FILE=str(notes))
    done = runner.appctl(
        "sync",
        "--django",
        SETTINGS,
        "--python",
        str(apps_python),
        "--base-url",
        f"http://127.0.0.1:{port}",
        cwd=project,
        env=env,
    )
    schema = json.loads((project / ".appctl" / "schema.json").read_text())
    actions = {a["name"]: a for r in schema["resources"] for a in r["actions"]}
    argv = [str(apps_python), "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with serving(argv, cwd=project, port=port, env=env) as url:
        yield {
            "project": project,
            "url": url,
            "actions": actions,
            "stderr": done.stderr,
            "env": env,
            "notes": notes,
        }


def test_the_actions_are_the_urls_django_routes(
    apps_python: Path, synced: dict[str, Any], tmp_path: Path
) -> None:
    env = {**synced["env"], "NOTES_FILE": str(tmp_path / "n.json")}  # the client writes it
    listed = listed_by(apps_python, ROUTES, cwd=synced["project"], env=env)
    assert contract_routes(synced["project"] / ".appctl") == listed
    assert ("POST", "/api/notes/{}/pin") in listed
    assert len(listed) == 11
    assert "read plainsite.settings's URL map from django 5." in synced["stderr"]


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
    messages = synced["stderr"].splitlines()
    assert sum("request body is unknown" in m for m in messages) == 2
    assert any(
        "3 Django function view(s) accept any method" in m and "notes.views.health" in m
        for m in messages
    )
    assert "left out (the admin site): admin/" in messages


def test_the_running_project_answers_a_read_and_an_approved_write(
    synced: dict[str, Any],
) -> None:
    project = synced["project"]
    read = call(project, "get_notes_note_detail", "pk=7")
    assert read == {"id": 7, "text": "first", "pinned": False}
    runner.appctl(
        "call", "post_notes_note_list", "--args", '{"body": {"text": "x"}}', cwd=project, code=3
    )
    call(project, "post_notes_note_list", "--yes", "--args", '{"body": {"text": "second"}}')
    runner.appctl("call", "delete_notes_note_detail", "pk=7", "--yes", cwd=project)
    assert json.loads(synced["notes"].read_text()) == [{"id": 8, "pinned": False, "text": "second"}]


def test_drf_views_come_from_drfs_schema_and_the_plain_ones_are_added(
    apps_python: Path, synced: dict[str, Any], tmp_path: Path
) -> None:
    app_dir = tmp_path / ".appctl"
    done = runner.appctl(
        "--app-dir",
        str(app_dir),
        "sync",
        "--django",
        "plainsite.settings_drf",
        "--python",
        str(apps_python),
        cwd=synced["project"],
        env=synced["env"],
    )
    schema = json.loads((app_dir / "schema.json").read_text())
    provenance = {
        (a["transport"]["method"], a["transport"]["path"]): a["provenance"]
        for r in schema["resources"]
        for a in r["actions"]
    }
    drf = {("GET", "/api/stats/"), ("GET", "/api/echo"), ("POST", "/api/echo")}
    assert {k for k, v in provenance.items() if v == "declared"} == drf
    plain = contract_routes(synced["project"] / ".appctl")  # the project without DRF
    assert contract_routes(app_dir) == plain | drf
    assert schema["source"]["framework"] == "drf-spectacular"
    assert "2 Django REST framework route(s) are described by DRF's schema" in done.stderr
