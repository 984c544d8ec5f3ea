"""A Django project with models (fixtures/apps/django_models: choices, a foreign key, a
proxy and an unmanaged model), migrated by Django into a SQLite file, and into PostgreSQL
when scripts/dbservers runs one; synced with the models probe in the frameworks venv. The
contract is sync/db's, with the ORM's choices and help text over it, and its tools list,
get and create rows that the test then reads back through Django's ORM."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from appctl.sync import run
from appctl.sync.app.plain import django_models
from tests import dbs, runner
from tests.apps.conftest import APPS
from tests.apps.plain import ENV, Plain, python_json

SHOP = APPS / "django_models"
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
    project = tmp_path / "project"
    project.mkdir()
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
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS, **django_env}
    python_json(apps_python, MIGRATE, cwd=SHOP, env=env)
    try:
        yield {"kind": request.param, "project": project, "env": env, "call_env": call_env}
    finally:
        if url is not None:
            dbs.drop_database(url)


def _sync(apps_python: Path, shop: dict[str, Any]) -> Any:
    source = Plain(django_models, SETTINGS, apps_python, SHOP, env=shop["env"])
    return run(source, app_dir=shop["project"] / ".appctl", environ={})


def test_one_resource_per_model_with_what_the_orm_knows(
    apps_python: Path, shop: dict[str, Any]
) -> None:
    outcome = _sync(apps_python, shop)
    document = json.loads(outcome.schema_path.read_text())
    own = python_json(apps_python, TABLES, cwd=SHOP, env=shop["env"])
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
    assert any(
        "shop.Supplier: its table legacy_supplier is not" in w.message for w in outcome.warnings
    )
    assert any("shop.LiveProduct" in n for n in outcome.notes)
    if shop["kind"] == "sqlite":
        assert document["database"] == {"url": "sqlite:///shop.sqlite3"}
    else:
        password = shop["call_env"][PASSWORD_VAR]
        assert password not in outcome.schema_path.read_text()
        assert document["database"]["password"] == f"env:{PASSWORD_VAR}"
        assert any(PASSWORD_VAR in n for n in outcome.notes)


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
    products = python_json(apps_python, PRODUCTS, cwd=SHOP, env={**ENV, **shop["env"]})
    assert products == [["T-1", "Hammer", "live", "On sale", "12.50", "Tools"]]
