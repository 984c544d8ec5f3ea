"""``appctl sync --django shopsite.settings`` on a real Django 5 + DRF project with a
ModelViewSet behind a router (fixtures/apps/drf): drf-spectacular's document compiled, DRF's
own generator when drf-spectacular is absent, the routes Django resolves, and the project under
``manage.py runserver`` answering ``appctl call`` (checked in its SQLite database)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import runner
from tests.apps.conftest import APPS
from tests.apps.helpers import (
    app_env,
    call,
    contract_routes,
    copied,
    framework_routes,
    free_port,
    serving,
)

ROUTES = r"""
import json, os, re
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
import django
django.setup()
from django.urls import URLResolver, get_resolver

def walk(patterns, prefix):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern), p.callback

out = []
for route, view in walk(get_resolver().url_patterns, ""):
    actions = getattr(view, "actions", None)  # a viewset's method -> action
    if actions and "format" not in route:
        named = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
        path = "/" + named.replace("^", "").replace("$", "")
        out += [[method, path] for method in actions]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def project(apps_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copied("drf", tmp_path_factory.mktemp("apps"))
    env = app_env(SHOP_DB=str(project / "shop.sqlite3"))
    subprocess.run(
        [str(apps_python), "manage.py", "migrate", "-v", "0"],
        cwd=project,
        env=env,
        check=True,
        timeout=120,
    )
    synced = runner.appctl(
        "sync", "--django", "shopsite.settings", "--python", str(apps_python), cwd=project, env=env
    )
    (project / "sync.log").write_text(synced.stderr)
    return project


@pytest.fixture(scope="module")
def served(apps_python: Path, project: Path) -> Iterator[str]:
    port = free_port()
    command = [str(apps_python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    env = app_env(SHOP_DB=str(project / "shop.sqlite3"))
    with serving(command, cwd=project, port=port, env=env) as url:
        yield url


def test_the_actions_are_the_routes_django_resolves(apps_python: Path, project: Path) -> None:
    listed = framework_routes(apps_python, ROUTES, cwd=project, env=app_env())
    assert listed == {
        ("GET", "/api/products/"),
        ("POST", "/api/products/"),
        *((m, "/api/products/{}/") for m in ("GET", "PUT", "PATCH", "DELETE")),
        ("GET", "/api/stats/"),
    }
    assert contract_routes(project / ".appctl") == listed
    schema = json.loads((project / ".appctl" / "schema.json").read_text())
    assert schema["source"] == {
        "kind": "app",
        "location": "shopsite.settings",
        "sha256": schema["source"]["sha256"],
        "format": "openapi 3.0.3",
        "framework": "drf-spectacular",
        "title": "Shop",
        "api_version": "2.0.0",
    }
    said = (project / "sync.log").read_text()  # drf-spectacular's own findings, relative paths
    assert "warning: drf-spectacular: shop/views.py: Error [StatsViewSet]: unable to guess" in said
    shown = runner.appctl("schema", cwd=project).stdout
    assert "source:    app shopsite.settings (openapi 3.0.3, by drf-spectacular)" in shown
    category = schema["definitions"]["CategoryEnum"]
    assert category["enum"] == ["book", "game", "toy"]  # the model's choices


def test_without_drf_spectacular_drfs_own_generator_is_used(
    apps_python: Path, project: Path, tmp_path: Path
) -> None:
    env = app_env(PYTHONPATH=str(APPS / "hidden"))  # drf_spectacular cannot be imported
    runner.appctl(
        "--app-dir",
        str(tmp_path / ".appctl"),
        "sync",
        "--django",
        "shopsite.settings_plain",
        "--python",
        str(apps_python),
        cwd=project,
        env=env,
    )
    schema = json.loads((tmp_path / ".appctl" / "schema.json").read_text())
    assert schema["source"]["framework"] == "djangorestframework"
    assert contract_routes(tmp_path / ".appctl") == contract_routes(project / ".appctl")


def test_the_served_project_answers_a_read_and_an_approved_write(
    project: Path, served: str
) -> None:
    base = ("--base-url", served)
    made = call(
        project,
        "products_create",
        "name=Go board",
        "price=42.50",
        "category=game",
        "--yes",
        *base,
    )
    assert isinstance(made, dict) and made["name"] == "Go board"
    with sqlite3.connect(project / "shop.sqlite3") as db:
        rows = db.execute("SELECT id, name, price, category, in_stock FROM shop_product")
        assert rows.fetchall() == [(made["id"], "Go board", 42.5, "game", 1)]
    assert call(project, "products_retrieve", f"id={made['id']}", *base) == made
    assert call(project, "products_list", *base) == [made]
