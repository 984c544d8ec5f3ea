"""``appctl sync --app`` on real flask-smorest and APIFlask apps (fixtures/apps/smorest,
fixtures/apps/apiflask): the extension's own OpenAPI document compiled, the routes Flask's URL
map holds, and the app under ``flask run`` answering ``appctl call`` (checked in its SQLite
file)."""

from __future__ import annotations

import json
import sqlite3
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

ROUTES = """
import json
from {module} import app
skip = {{"HEAD", "OPTIONS"}}
print(json.dumps([
    [m, rule.rule]
    for rule in app.url_map.iter_rules()
    if rule.endpoint != "static" and not rule.endpoint.startswith(("api-docs", "openapi"))
    for m in sorted(rule.methods - skip)
]))
"""


@dataclass(frozen=True)
class FlaskApp:
    folder: str
    module: str
    framework: str
    db_var: str
    routes: frozenset[tuple[str, str]]


SMOREST = FlaskApp(
    "smorest",
    "library",
    "flask-smorest",
    "BOOKS_DB",
    frozenset(
        {
            ("GET", "/v1/books/"),
            ("POST", "/v1/books/"),
            ("GET", "/v1/books/{}"),
            ("DELETE", "/v1/books/{}"),
        }
    ),
)
APIFLASK = FlaskApp(
    "apiflask",
    "todo",
    "apiflask",
    "TASKS_DB",
    frozenset(
        {("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/tasks/{}"), ("PATCH", "/tasks/{}")}
    ),
)


@dataclass(frozen=True)
class Synced:
    app: FlaskApp
    project: Path
    url: str

    @property
    def db(self) -> Path:
        return self.project / "app.db"


@pytest.fixture(scope="module", params=[SMOREST, APIFLASK], ids=lambda a: a.framework)
def synced(
    request: pytest.FixtureRequest, apps_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Synced]:
    app: FlaskApp = request.param
    project = copied(app.folder, tmp_path_factory.mktemp("apps"))
    target = f"{app.module}:app"
    env = app_env(**{app.db_var: str(project / "app.db")})
    runner.appctl("sync", "--app", target, "--python", str(apps_python), cwd=project, env=env)
    port = free_port()
    command = [str(apps_python), "-m", "flask", "--app", app.module, "run", "--port", str(port)]
    with serving([*command, "--host", "127.0.0.1"], cwd=project, port=port, env=env) as url:
        yield Synced(app, project, url)


def test_the_actions_are_the_routes_flask_maps(apps_python: Path, synced: Synced) -> None:
    script = ROUTES.format(module=synced.app.module)
    listed = framework_routes(apps_python, script, cwd=synced.project, env=app_env())
    assert listed == synced.app.routes
    assert contract_routes(synced.project / ".appctl") == listed
    schema = json.loads((synced.project / ".appctl" / "schema.json").read_text())
    assert schema["source"]["framework"] == synced.app.framework
    assert schema["source"]["location"] == f"{synced.app.module}:app"


def test_the_base_url_comes_from_the_apps_config(synced: Synced) -> None:
    schema = json.loads((synced.project / ".appctl" / "schema.json").read_text())
    if synced.app is APIFLASK:  # app.config["SERVERS"]
        assert schema["base_url"] == "http://127.0.0.1:5000"
    else:  # flask-smorest names no server here: sync said to pass --base-url
        assert "base_url" not in schema


def test_the_served_app_answers_a_read_and_an_approved_write(synced: Synced) -> None:
    base = ("--base-url", synced.url)
    names = runner.appctl("tools", "--names", cwd=synced.project).stdout.split()
    post = next(n for n in names if n.startswith("post_"))
    fields = ("title=Dune", "author=Frank Herbert", "year=1965")
    made = call(
        synced.project, post, *(fields if synced.app is SMOREST else fields[:1]), "--yes", *base
    )
    assert isinstance(made, dict) and made["title"] == "Dune"
    with sqlite3.connect(synced.db) as db:
        table = "books" if synced.app is SMOREST else "tasks"
        titles = db.execute(f"SELECT id, title FROM {table}").fetchall()
    assert titles == [(made["id"], "Dune")]
    get_one = next(n for n in names if n.startswith("get_") and n.endswith("_id"))
    key = "book_id" if synced.app is SMOREST else "task_id"
    assert call(synced.project, get_one, f"{key}={made['id']}", *base) == made
