"""A Django project with models (fixtures/apps/django_models: choices, a foreign key, a
proxy and an unmanaged model), migrated by Django into a SQLite file, and into PostgreSQL
when scripts/dbservers runs one; synced with the models probe in the frameworks venv. The
contract is sync/db's, with the ORM's choices and help text over it, and its tools list,
get and create rows that the test then reads back through Django's ORM."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import dbs, runner
from tests.apps.helpers import app_env, copied

SETTINGS = "shopsite.settings"
PASSWORD_VAR = "PGPASSWORD"
TABLES = """
import json
import django
django.setup()
from django.apps import apps
print(json.dumps(sorted(
    m._meta.db_table for m in apps.get_models()
    if not m._meta.proxy and m._meta.managed
    and not m._meta.app_config.name.startswith("django.contrib.")
)))
"""
MIGRATE = "import django; django.setup(); from django.core.management import call_command; "
MIGRATE += "call_command('migrate', verbosity=0); print('[]')"
PRODUCTS = """
import json
import django
django.setup()
from shop.models import Product
print(json.dumps([
    [p.sku, p.name, p.status, p.get_status_display(), str(p.price), p.category.name]
    for p in Product.objects.select_related("category").order_by("id")
]))
"""


def _kinds() -> list[str]:
    configured = dbs.required() or bool(os.environ.get(dbs.URL_VARS["postgresql"]))
    return ["sqlite", *(["postgresql"] if configured else [])]


@pytest.fixture(params=_kinds())
def shop(
    request: pytest.FixtureRequest, apps_python: Path, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """A project folder with the shop's database migrated: the Django env that names it,
    and the env appctl's calls need."""
    project = copied("django_models", tmp_path)
    if request.param == "sqlite":
        django_env = {"SHOP_DB": str(project / "shop.sqlite3")}
        call_env: dict[str, str] = {}
        url = None
    else:
        url = dbs.fresh_database("postgresql", tmp_path)
        parsed = sa.make_url(url)
        django_env = {
            "SHOP_PG_NAME": str(parsed.database),
            "SHOP_PG_HOST": str(parsed.host),
            "SHOP_PG_PORT": str(parsed.port),
            "SHOP_PG_USER": str(parsed.username),
            "SHOP_PG_PASSWORD": str(parsed.password),
        }
        call_env = {PASSWORD_VAR: str(parsed.password)}
    env = app_env(DJANGO_SETTINGS_MODULE=SETTINGS, **django_env)
    python_json(apps_python, MIGRATE, cwd=project, env=env)
    try:
        yield {"kind": request.param, "project": project, "env": env, "call_env": call_env}
    finally:
        if url is not None:
            dbs.drop_database(url)


def _sync(apps_python: Path, shop: dict[str, Any]) -> str:
    """``appctl sync --django --models``; what it printed on stderr."""
    argv = ["sync", "--django", SETTINGS, "--models", "--python", str(apps_python)]
    return runner.appctl(*argv, cwd=shop["project"], env=shop["env"]).stderr


def python_json(python: Path, code: str, *, cwd: Path, env: dict[str, str]) -> Any:
    """What ``code`` prints as JSON on its last line, run by ``python`` in ``cwd``."""
    done = subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_resource_per_model_with_what_the_orm_knows(
    apps_python: Path, shop: dict[str, Any]
) -> None:
    printed = _sync(apps_python, shop)
    schema_path = shop["project"] / ".appctl" / "schema.json"
    document = json.loads(schema_path.read_text())
    own = python_json(apps_python, TABLES, cwd=shop["project"], env=shop["env"])
    assert sorted(r["table"]["name"] for r in document["resources"]) == own
    assert own == ["shop_category", "shop_product"]
    product = next(r for r in document["resources"] if r["name"] == "shop_product")
    columns = {c["name"]: c for c in product["table"]["columns"]}
    assert columns["status"]["schema"]["enum"] == ["draft", "live", "gone"]
    assert "live (On sale)" in columns["status"]["comment"]
    assert columns["size"]["schema"]["enum"] == [1, 2, 3]
    assert columns["sku"]["comment"] == "Stock keeping unit."
    assert product["table"]["relations"][0]["columns"] == ["category_id"]
    assert product["table"]["relations"][0]["target_table"] == "shop_category"
    assert product["description"].startswith("Something the shop sells.")
    assert document["source"]["kind"] == "db"
    assert "warning: shop.Supplier: its table legacy_supplier is not in the database" in printed
    assert "proxy models use their concrete model's table: shop.LiveProduct" in printed
    if shop["kind"] == "sqlite":
        assert document["database"] == {"url": "sqlite:///shop.sqlite3"}
    else:
        password = shop["call_env"][PASSWORD_VAR]
        assert password not in schema_path.read_text()
        assert document["database"]["password"] == f"env:{PASSWORD_VAR}"
        assert f"calls read it from {PASSWORD_VAR}" in printed


def test_the_tools_list_get_and_create_rows_the_orm_reads(
    apps_python: Path, shop: dict[str, Any]
) -> None:
    _sync(apps_python, shop)
    project, env = shop["project"], shop["call_env"]

    def call(*args: str, code: int = 0) -> Any:
        done = runner.appctl("call", *args, "--json", cwd=project, env=env, code=code)
        return json.loads(done.stdout) if done.stdout.strip() else None

    category = call("create_shop_category", "name=Tools", "--yes")["data"]
    row = {
        "sku": "T-1",
        "name": "Hammer",
        "status": "live",
        "price": "12.50",
        "category_id": category["id"],
    }
    call("create_shop_product", "--args", json.dumps({**row, "status": "sold"}), "--yes", code=2)
    created = call("create_shop_product", "--args", json.dumps(row), "--yes")["data"]
    assert created["status"] == "live" and created["name"] == "Hammer"
    got = call("get_shop_product", f"id={created['id']}")["data"]
    assert got["sku"] == "T-1" and got["category_id"] == category["id"]
    listed = call("list_shop_product", "--args", '{"where": {"status": {"eq": "live"}}}')
    assert [r["sku"] for r in listed["data"]["rows"]] == ["T-1"]
    products = python_json(apps_python, PRODUCTS, cwd=project, env=shop["env"])
    assert products == [["T-1", "Hammer", "live", "On sale", "12.50", "Tools"]]


def test_an_unmigrated_project_is_a_usage_error_and_nothing_is_written(
    apps_python: Path, tmp_path: Path
) -> None:
    project = copied("django_models", tmp_path)
    env = app_env(SHOP_DB=str(project / "shop.sqlite3"))
    argv = ["sync", "--django", SETTINGS, "--models", "--python", str(apps_python)]
    done = runner.appctl(*argv, cwd=project, env=env, code=2)
    assert f"no SQLite database at {project / 'shop.sqlite3'}" in done.stderr
    assert "manage.py migrate" in done.stderr
    assert not (project / ".appctl" / "schema.json").exists()
    missing = runner.appctl(*argv[:2], "nosuch.settings", *argv[3:], cwd=project, env=env, code=2)
    assert "finds no module 'nosuch'" in missing.stderr
