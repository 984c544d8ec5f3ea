"""``appctl sync --app`` on real Django Ninja, Litestar and Starlette apps
(fixtures/apps/ninja, litestar, starlette): each framework's own OpenAPI document compiled,
the routes the framework itself lists, and the Ninja and Litestar apps served (runserver,
uvicorn) answering ``appctl call`` for a read and an approved write, checked in their SQLite
files. A Starlette app without a SchemaGenerator is refused with what to do."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
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

NINJA_ROUTES = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventsite.settings")
import django
django.setup()
from eventsite.api import api
root = api.get_root_path({})
out = []
for prefix, router in api._routers:
    for path, view in router.path_operations.items():
        parts = [p.strip("/") for p in (root, prefix, path) if p.strip("/")]
        out += [[m, "/" + "/".join(parts)] for op in view.operations for m in op.methods]
print(json.dumps(out))
"""
LITESTAR_ROUTES = """
import json
from litestar.routes import HTTPRoute
from garden import app
print(json.dumps([
    [m, r.path]
    for r in app.routes
    if isinstance(r, HTTPRoute) and not r.path.startswith("/schema")
    for m in r.methods - {"OPTIONS", "HEAD"}
]))
"""
STARLETTE_ROUTES = """
import json
from starlette.routing import Route
from board import app
print(json.dumps([
    [m, r.path] for r in app.routes if isinstance(r, Route) and r.include_in_schema
    for m in r.methods - {"HEAD"}
]))
"""


@dataclass(frozen=True)
class Served:
    project: Path
    url: str
    db: Path


@pytest.fixture(scope="module")
def ninja(apps_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    project = copied("ninja", tmp_path_factory.mktemp("apps"))
    db = project / "events.sqlite3"
    env = app_env(EVENTS_DB=str(db))
    subprocess.run(
        [str(apps_python), "manage.py", "migrate", "-v", "0"],
        cwd=project,
        env=env,
        check=True,
        timeout=120,
    )
    target = "eventsite.api:api"  # manage.py names the settings; the probe sets Django up
    runner.appctl("sync", "--app", target, "--python", str(apps_python), cwd=project, env=env)
    port = free_port()
    command = [str(apps_python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with serving(command, cwd=project, port=port, env=env) as url:
        yield Served(project, url, db)


@pytest.fixture(scope="module")
def litestar(apps_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    project = copied("litestar", tmp_path_factory.mktemp("apps"))
    db = project / "plants.db"
    env = app_env(PLANTS_DB=str(db))
    runner.appctl("sync", "--app", "garden:app", "--python", str(apps_python), cwd=project, env=env)
    port = free_port()
    command = [str(apps_python), "-m", "uvicorn", "garden:app", "--host", "127.0.0.1"]
    with serving([*command, "--port", str(port)], cwd=project, port=port, env=env) as url:
        yield Served(project, url, db)


def _source(project: Path) -> dict[str, str]:
    schema = json.loads((project / ".appctl" / "schema.json").read_text())
    return {k: schema["source"][k] for k in ("kind", "location", "framework")}


def test_ninja_actions_are_its_routes(apps_python: Path, ninja: Served) -> None:
    listed = framework_routes(apps_python, NINJA_ROUTES, cwd=ninja.project, env=app_env())
    assert listed == {
        ("GET", "/api/events"),
        ("POST", "/api/events"),
        ("GET", "/api/events/{}"),
        ("DELETE", "/api/events/{}"),
    }
    assert contract_routes(ninja.project / ".appctl") == listed
    assert _source(ninja.project) == {
        "kind": "app",
        "location": "eventsite.api:api",
        "framework": "django-ninja",
    }


def test_ninja_served_answers_a_read_and_an_approved_write(ninja: Served) -> None:
    base = ("--base-url", ninja.url)
    made = call(
        ninja.project,
        "eventsite_api_create_event",
        "name=PyCon",
        "day=2027-05-14",
        "seats=300",
        "--yes",
        *base,
    )
    assert made == {"id": made["id"], "name": "PyCon", "day": "2027-05-14", "seats": 300}
    with sqlite3.connect(ninja.db) as db:
        rows = db.execute("SELECT name, day, seats FROM events_event").fetchall()
    assert rows == [("PyCon", "2027-05-14", 300)]
    assert call(ninja.project, "eventsite_api_list_events", "after=2027-01-01", *base) == [made]
    assert call(ninja.project, "eventsite_api_list_events", "after=2027-06-01", *base) == []


def test_litestar_actions_are_its_routes(apps_python: Path, litestar: Served) -> None:
    listed = framework_routes(apps_python, LITESTAR_ROUTES, cwd=litestar.project, env=app_env())
    assert listed == {
        ("GET", "/plants"),
        ("POST", "/plants"),
        ("GET", "/plants/{}"),
        ("DELETE", "/plants/{}"),
    }
    assert contract_routes(litestar.project / ".appctl") == listed
    assert _source(litestar.project)["framework"] == "litestar"
    schema = json.loads((litestar.project / ".appctl" / "schema.json").read_text())
    assert schema["base_url"] == "http://127.0.0.1:8000"  # OpenAPIConfig(servers=...)


def test_litestar_served_answers_a_read_and_an_approved_write(litestar: Served) -> None:
    base = ("--base-url", litestar.url)
    made = call(
        litestar.project, "plants_add_plant", "name=Fern", "water_every_days=3", "--yes", *base
    )
    assert made == {"id": made["id"], "name": "Fern", "water_every_days": 3}
    with sqlite3.connect(litestar.db) as db:
        assert db.execute("SELECT name, water_every_days FROM plants").fetchall() == [("Fern", 3)]
    got = call(litestar.project, "plants_plant_id_get_plant", f"plant_id={made['id']}", *base)
    assert got == made
    assert call(litestar.project, "plants_list_plants", "thirsty=2", *base) == []


def test_starlette_with_a_schema_generator(apps_python: Path, tmp_path: Path) -> None:
    project = copied("starlette", tmp_path)
    runner.appctl(
        "sync", "--app", "board:app", "--python", str(apps_python), cwd=project, env=app_env()
    )
    listed = framework_routes(apps_python, STARLETTE_ROUTES, cwd=project, env=app_env())
    assert listed == {("GET", "/messages"), ("POST", "/messages"), ("GET", "/messages/{}")}
    assert contract_routes(project / ".appctl") == listed
    assert _source(project)["framework"] == "starlette"


def test_starlette_without_one_is_refused_with_what_to_do(
    apps_python: Path, tmp_path: Path
) -> None:
    project = copied("starlette", tmp_path)
    refused = runner.appctl(
        "sync",
        "--app",
        "plain:app",
        "--python",
        str(apps_python),
        cwd=project,
        code=2,
        env=app_env(),
    )
    assert "Starlette has no OpenAPI generator of its own" in refused.stderr
    assert "starlette.schemas.SchemaGenerator" in refused.stderr
    assert not (project / ".appctl").exists()
