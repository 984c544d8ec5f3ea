"""The plain-app compile without a framework: URL maps → OpenAPI → contract (routes.py) and
Django models laid over a reflected SQLite database (models.py), from probe results written
out here. The probes themselves run against real apps in test_plain_flask.py,
test_plain_django.py and test_django_models.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appctl.contract.kinds import Provenance, Safety
from appctl.errors import SourceError, UsageError
from appctl.sync.app import models as M
from appctl.sync.app import routes as R
from appctl.sync.app.plain import build_models, inferred, routes_made
from appctl.sync.app.source import _compiled
from appctl.sync.source import BuildContext, Built


def build_routes(
    found: dict[str, Any],
    *,
    context: BuildContext,
    declared: dict[str, Any] | None = None,
) -> Built:
    """What ``source._plain_views`` does with a probe's result."""
    made = routes_made(found, what="app", declared=declared)
    built = _compiled(made.found, location="app", base_url=None, context=context, what=made.what)
    return inferred(built, made)


def route(path: str, methods: list[str], **more: Any) -> dict[str, Any]:
    return {"path": path, "name": more.pop("name", "view"), "methods": methods, **more}


def flask(*routes: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"framework": "flask", "title": "app", "routes": list(routes), **more}


@pytest.mark.parametrize(
    ("param", "schema"),
    [
        ({"kind": "int", "regex": r"\d+"}, {"type": "integer", "minimum": 0}),
        ({"kind": "int", "signed": True, "max": 9}, {"type": "integer", "maximum": 9}),
        ({"kind": "int", "min": 1}, {"type": "integer", "minimum": 1}),
        ({"kind": "float"}, {"type": "number", "minimum": 0}),
        ({"kind": "uuid"}, {"type": "string", "format": "uuid"}),
        ({"kind": "any", "items": ["b", "a"]}, {"type": "string", "enum": ["a", "b"]}),
        ({"kind": "path", "regex": "[^/].*?"}, {"type": "string", "minLength": 1}),
        ({"kind": "string", "regex": "[^/]+"}, {"type": "string", "minLength": 1}),
        ({"kind": "string", "regex": "[^/]{1,}"}, {"type": "string", "minLength": 1}),
        (
            {"kind": "string", "regex": "[^/]{2}"},
            {"type": "string", "minLength": 2, "maxLength": 2},
        ),
        (
            {"kind": "string", "regex": "[^/]{2,9}"},
            {"type": "string", "minLength": 2, "maxLength": 9},
        ),
        (
            {"kind": "slug", "regex": "[-a-zA-Z0-9_]+"},
            {"type": "string", "pattern": "^(?:[-a-zA-Z0-9_]+)$"},
        ),
        ({"kind": "regex", "regex": "[0-9]{4}"}, {"type": "string", "pattern": "^(?:[0-9]{4})$"}),
        ({"kind": "regex", "regex": ""}, {"type": "string"}),
        ({"kind": "custom", "regex": "[a-z]+"}, {"type": "string", "pattern": "^(?:[a-z]+)$"}),
    ],
)
def test_converters_become_typed_path_parameters(
    param: dict[str, Any], schema: dict[str, Any]
) -> None:
    assert R.param_schema(R.RouteParam(name="x", **param))[0] == schema


def test_safety_comes_from_the_method_and_every_action_is_inferred(tmp_path: Path) -> None:
    found = flask(
        route("/search", ["POST"], name="search"),  # a read word the OpenAPI rule would trust
        route(
            "/items/{id}",
            ["GET", "DELETE", "PATCH"],
            name="item",
            params=[{"name": "id", "kind": "int"}],
        ),
    )
    built = build_routes(found, context=_context(tmp_path))
    actions = {a.name: a for a in built.synced.schema.actions()}
    assert {n: a.safety for n, a in actions.items()} == {
        "search": Safety.MUTATING,
        "get_item": Safety.READ_ONLY,
        "delete_item": Safety.DESTRUCTIVE,
        "patch_item": Safety.MUTATING,
    }
    assert {a.provenance for a in actions.values()} == {Provenance.INFERRED}
    assert actions["get_item"].parameters[0].schema_ == {"type": "integer", "minimum": 0}


def test_one_warning_per_tool_whose_body_is_unknown(tmp_path: Path) -> None:
    found = flask(
        route("/a", ["GET", "POST"], name="a"),
        route("/b/{k}", ["PUT", "DELETE"], name="b", params=[{"name": "k", "kind": "string"}]),
    )
    built = build_routes(found, context=_context(tmp_path))
    warned = sorted(d.pointer for d in built.diagnostics if "request body is unknown" in d.message)
    assert warned == ["/paths/~1a/post", "/paths/~1b~1{k}/put"]
    post = built.synced.schema.action("post_a")
    assert post is not None and [f.name for f in post.parameters] == ["body"]
    assert post.parameters[0].schema_["type"] == "object" and not post.parameters[0].required


def test_docstrings_become_summary_and_description(tmp_path: Path) -> None:
    found = flask(
        route("/n", ["GET"], name="n", docs={"GET": "Read n.\n\nAll of it."}, view="app.n")
    )
    action = build_routes(found, context=_context(tmp_path)).synced.schema.action("n")
    assert action is not None and action.summary == "Read n."
    assert action.description.startswith("All of it.\n\nInferred from the Flask URL map: app.n")


def test_include_keeps_only_its_warnings(tmp_path: Path) -> None:
    found = flask(route("/a", ["POST"], name="a"), route("/b", ["POST"], name="b"))
    built = build_routes(found, context=_context(tmp_path, include=("name:a",)))
    assert [a.name for a in built.synced.schema.actions()] == ["a"]
    assert [d.pointer for d in built.diagnostics] == ["/paths/~1a/post", "/servers"]


def test_django_csrf_and_undeclared_methods_are_said() -> None:
    probe = R.read_probe(
        {
            "framework": "django",
            "csrf_middleware": True,
            "routes": [
                route("/p", ["POST"], name="p", csrf_exempt=False),
                route("/h", ["GET"], name="h", view="v.h", methods_declared=False),
            ],
            "skipped": [
                {"path": "/api/x", "why": "drf"},
                {"path": "admin/", "why": "the admin site"},
            ],
        },
        what="s",
    )
    made = R.routes_document(probe)
    assert "CSRF token" in made.document["paths"]["/p"]["post"]["description"]
    assert any("taken as GET only: v.h" in d.message for d in made.diagnostics)
    assert made.notes == (
        "1 Django REST framework route(s) are described by DRF's schema, not the URL map",
        "left out (the admin site): admin/",
    )


def test_drf_document_wins_and_only_plain_views_are_inferred(tmp_path: Path) -> None:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "drf", "version": "1"},
        "paths": {
            "/api/n/": {
                "get": {"operationId": "n_list", "responses": {"200": {"description": "ok"}}}
            }
        },
    }
    probe = {
        "framework": "django",
        "routes": [route("/api/n/", ["GET", "POST"], name="n"), route("/h", ["GET"], name="h")],
    }
    built = build_routes(
        probe,
        context=_context(tmp_path),
        declared={"framework": "drf-spectacular", "document": document},
    )
    actions = {a.name: a.provenance for a in built.synced.schema.actions()}
    assert actions == {
        "n_list": Provenance.DECLARED,
        "post_n": Provenance.INFERRED,
        "h": Provenance.INFERRED,
    }


def test_a_probe_result_of_the_wrong_shape_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=r"routes\.0\.methods"):
        R.read_probe({"framework": "flask", "routes": [{"path": "/", "name": "x"}]}, what="a")


# --- Django models -------------------------------------------------------------------------


def model(label: str, table: str, *fields: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"label": label, "db_table": table, "fields": list(fields), **more}


SHOP = {
    "settings": "shop.settings",
    "database": {"engine": "django.db.backends.sqlite3", "name": "shop.db"},
    "models": [
        model("shop.Category", "shop_category", {"name": "id", "column": "id"}),
        model(
            "shop.Product",
            "shop_product",
            {"name": "id", "column": "id"},
            {
                "name": "status",
                "column": "status",
                "help_text": "Where it is.",
                "choices": [["d", "Draft"], ["l", "Live"]],
            },
            {"name": "size", "column": "size", "choices": [[1, "1"], [2, "big"]]},
            {
                "name": "category",
                "column": "category_id",
                "relation": {"table": "shop_category", "column": "id"},
            },
            doc="Something sold.",
        ),
        model("shop.Live", "shop_product", proxy=True),
        model("auth.User", "auth_user", {"name": "id", "column": "id"}, contrib=True),
        model("shop.Old", "old_table", managed=False),
    ],
}


def shop_db(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE shop_category (id INTEGER PRIMARY KEY);
            CREATE TABLE shop_product (id INTEGER PRIMARY KEY, status VARCHAR(8) NOT NULL,
                size INTEGER, category_id INTEGER NOT NULL);
            CREATE TABLE auth_user (id INTEGER PRIMARY KEY);
            CREATE TABLE other (id INTEGER PRIMARY KEY);
            """
        )


def test_models_lay_choices_help_text_and_foreign_keys_over_the_database(tmp_path: Path) -> None:
    shop_db(tmp_path / "shop.db")
    built = build_models(SHOP, project=tmp_path, context=_context(tmp_path))
    schema = built.synced.schema
    assert [r.name for r in schema.resources] == ["shop_category", "shop_product"]
    product = schema.resources[1].table
    assert product is not None and product.comment == "Something sold."
    status, size = product.column("status"), product.column("size")
    assert status is not None and status.schema_["enum"] == ["d", "l"]
    assert status.comment == "Where it is. Choices: d (Draft), l (Live)."
    assert (
        size is not None and size.schema_["enum"] == [1, 2] and size.comment == "Choices: 2 (big)."
    )
    assert [(r.columns, r.target_table) for r in product.relations] == [
        (["category_id"], "shop_category")
    ]
    create = schema.action("create_shop_product")
    assert create is not None
    field = create.field("status")
    assert field is not None and field.schema_["enum"] == ["d", "l"]
    assert schema.source.kind == "db" and schema.database is not None
    assert schema.database.url == "sqlite:///shop.db"
    assert any(
        "shop.Old: its table old_table is not in the database" in d.message
        for d in built.diagnostics
    )
    assert any("shop.Live" in n for n in built.notes) and any("auth_user" in n for n in built.notes)


def test_include_names_a_contrib_table(tmp_path: Path) -> None:
    shop_db(tmp_path / "shop.db")
    built = build_models(SHOP, project=tmp_path, context=_context(tmp_path, include=("auth_*",)))
    assert [r.name for r in built.synced.schema.resources] == ["auth_user"]
    assert built.filtered == 3  # shop.Category, shop.Product, shop.Old


@pytest.mark.parametrize(
    ("engine", "stored", "variable"),
    [
        (
            "django.db.backends.postgresql",
            "postgresql+psycopg://app@db.example:5433/shop",
            "PGPASSWORD",
        ),
        ("django.db.backends.mysql", "mysql+pymysql://app@db.example:5433/shop", "MYSQL_PWD"),
    ],
)
def test_a_server_database_keeps_its_password_out_of_the_contract(
    tmp_path: Path, engine: str, stored: str, variable: str
) -> None:
    import sqlalchemy as sa

    from appctl.sync.db.url import parse_dsn

    database = M.DatabaseSettings(
        engine=engine, name="shop", host="db.example", port="5433", user="app", password="s3cret!"
    )
    assert "s3cret" not in repr(database)
    dsn = M.database_dsn(database, project=tmp_path)
    url = sa.engine.make_url(dsn)
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "app",
        "s3cret!",
        "db.example",
        5433,
        "shop",
    )
    parsed = parse_dsn(dsn, root=tmp_path)
    assert (parsed.stored, parsed.password_env) == (stored, variable)
    assert "s3cret" in parsed.connect


@pytest.mark.parametrize(
    ("engine", "name", "message"),
    [
        ("django.db.backends.oracle", "x", "a database appctl does not run"),
        ("django.db.backends.sqlite3", ":memory:", "in-memory database"),
    ],
)
def test_a_database_appctl_cannot_run_is_a_usage_error(
    tmp_path: Path, engine: str, name: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        M.database_dsn(M.DatabaseSettings(engine=engine, name=name), project=tmp_path)


def test_an_unmigrated_sqlite_file_says_to_migrate(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        build_models(SHOP, project=tmp_path, context=_context(tmp_path))
    assert "manage.py migrate" in raised.value.suggestion


def _context(tmp_path: Path, include: tuple[str, ...] = ()) -> BuildContext:
    return BuildContext(app_dir=tmp_path / ".appctl", include=include, environ={})
