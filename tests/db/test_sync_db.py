"""``appctl sync --db``: what reflection makes of real schemas (Chinook on every database),
the CLI around it, and that a password never reaches a file or an output."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from appctl.contract.models import Safety, Verb
from appctl.sync.db.api import sync_db
from appctl.sync.db.url import parse_dsn
from tests import runner
from tests.conftest import REPO
from tests.db.test_sql_executor import DDL, kind_of, run_ddl

CHINOOK = REPO / "examples" / "chinook.db"


def appctl(*args: str, cwd: Path, env: dict[str, str] | None = None, code: int = 0) -> Any:
    """``appctl ARGS`` in process, with ``env`` set for the call."""
    return runner.invoke(*args, cwd=cwd, env=env, code=code)


def test_chinook_becomes_one_resource_per_table_with_relations(tmp_path: Path) -> None:
    schema = sync_db(str(CHINOOK), root=REPO).schema
    assert schema.database is not None and schema.database.url == "sqlite:///examples/chinook.db"
    names = [r.name for r in schema.resources]
    assert len(names) == 11 and "playlist_track" in names and "invoice_line" in names
    track = next(r for r in schema.resources if r.name == "track")
    assert {a.verb for a in track.actions} == {
        Verb.LIST,
        Verb.GET,
        Verb.CREATE,
        Verb.UPDATE,
        Verb.DELETE,
    }
    assert track.table is not None
    relations = {(r.columns[0], r.target, r.target_columns[0]) for r in track.table.relations}
    assert relations == {
        ("AlbumId", "album", "AlbumId"),
        ("GenreId", "genre", "GenreId"),
        ("MediaTypeId", "media_type", "MediaTypeId"),
    }
    price = track.table.column("UnitPrice")
    assert price is not None and price.kind == "decimal" and not price.nullable
    name = track.table.column("Name")
    assert name is not None and name.schema_ == {"type": "string", "maxLength": 200}
    pair = next(r for r in schema.resources if r.name == "playlist_track")
    assert pair.table is not None and pair.table.primary_key == ["PlaylistId", "TrackId"]
    get = next(a for a in pair.actions if a.verb == Verb.GET)
    assert [f.name for f in get.parameters if f.required] == ["PlaylistId", "TrackId"]
    safety = {a.name: a.safety for r in schema.resources for a in r.actions}
    assert safety["delete_track"] == Safety.DESTRUCTIVE
    assert safety["list_track"] == Safety.READ_ONLY
    assert all(len(n) <= 64 for n in safety)
    employee = next(r for r in schema.resources if r.name == "employee")
    assert employee.table is not None
    assert ("ReportsTo", "employee") in {(r.columns[0], r.target) for r in employee.table.relations}


def test_chinook_on_every_database_gives_the_same_tools(fresh_db: str, tmp_path: Path) -> None:
    from tests.chinook import load_chinook

    counts = load_chinook(fresh_db)
    assert sum(counts.values()) == 15_607
    here = sync_db(fresh_db, root=tmp_path).schema
    sqlite = sync_db(str(CHINOOK), root=REPO).schema
    assert [a.name for a in here.actions()] == [a.name for a in sqlite.actions()]
    from appctl.execute.executor import CallOptions, call

    options = CallOptions(database_url=fresh_db)
    result = call(
        here,
        "list_track",
        {"where": {"Composer": {"ilike": "%angus young%"}}, "order_by": ["-Milliseconds"]},
        options,
        environ={},
    )
    assert result.ok, result.error
    rows = result.data["rows"]
    assert rows and all("angus young" in r["Composer"].lower() for r in rows)
    assert [r["Milliseconds"] for r in rows] == sorted(
        (r["Milliseconds"] for r in rows), reverse=True
    )
    assert rows[0]["UnitPrice"] == "0.99"


def test_include_exclude_and_schema_qualified_names(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    run_ddl(f"sqlite:///{db}", DDL["sqlite"])
    only = sync_db(str(db), root=tmp_path, include=["th*"]).schema
    assert [r.name for r in only.resources] == ["things"]
    rest = sync_db(str(db), root=tmp_path, exclude=["things", "slow"]).schema
    assert [r.name for r in rest.resources] == ["notes"]


def test_views_are_read_only_and_tables_without_a_key_list_only(
    fresh_db: str, tmp_path: Path
) -> None:
    run_ddl(
        fresh_db,
        [
            "CREATE TABLE logs (at VARCHAR(40), line TEXT)",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, label VARCHAR(20))",
            "CREATE VIEW labels AS SELECT label FROM items",
        ],
    )
    schema = sync_db(fresh_db, root=tmp_path).schema
    actions = {r.name: sorted(a.name for a in r.actions) for r in schema.resources}
    assert actions["logs"] == ["list_logs"]
    assert actions["labels"] == ["list_labels"]
    assert all(
        a.safety == Safety.READ_ONLY
        for r in schema.resources
        if r.name == "labels"
        for a in r.actions
    )


def test_a_password_in_the_dsn_is_never_written(tmp_path: Path) -> None:
    dsn = parse_dsn("postgresql://bob:s3cr3t-pw@db.internal:5432/shop", root=tmp_path)
    assert "s3cr3t-pw" in dsn.connect
    assert "s3cr3t-pw" not in dsn.stored and dsn.stored.startswith("postgresql+psycopg://bob@")
    assert dsn.password_env == "PGPASSWORD"
    maria = parse_dsn("mysql://bob:pw@h/shop", root=tmp_path, password_env="SHOP_DB_PW")
    assert maria.stored == "mysql+pymysql://bob@h/shop" and maria.password_env == "SHOP_DB_PW"


def test_cli_sync_call_and_check_on_a_server_with_a_password(fresh_db: str, tmp_path: Path) -> None:
    if kind_of(fresh_db) == "sqlite":
        pytest.skip("SQLite has no password")
    secret = sa.engine.make_url(fresh_db).password
    assert secret
    run_ddl(fresh_db, ["CREATE TABLE pets (id INTEGER PRIMARY KEY, name VARCHAR(30) NOT NULL)"])
    appctl("sync", "--db", fresh_db, "--password-env", "SHOP_PW", cwd=tmp_path)
    appctl(
        "call",
        "create_pets",
        "id=1",
        "name=Rex",
        "--yes",
        cwd=tmp_path,
        env={"SHOP_PW": secret},
        code=0,
    )
    listed = appctl("call", "list_pets", "--json", cwd=tmp_path, env={"SHOP_PW": secret})
    assert json.loads(listed.stdout)["data"]["rows"] == [{"id": 1, "name": "Rex"}]
    denied = appctl("call", "list_pets", cwd=tmp_path, env={"SHOP_PW": "wrong"}, code=1)
    assert "auth" in denied.stderr
    missing = appctl("call", "list_pets", cwd=tmp_path, env={"SHOP_PW": ""}, code=1)
    assert "SHOP_PW" in missing.stderr
    appctl("sync", "--db", fresh_db, "--password-env", "SHOP_PW", "--check", cwd=tmp_path)
    run_ddl(fresh_db, ["CREATE TABLE owners (id INTEGER PRIMARY KEY)"])
    drift = appctl(
        "sync", "--db", fresh_db, "--password-env", "SHOP_PW", "--check", cwd=tmp_path, code=1
    )
    assert "owners" in drift.stdout
    ok = appctl("doctor", cwd=tmp_path, env={"SHOP_PW": secret})  # owners is not in it
    assert "1 verified" in ok.stdout
    run_ddl(fresh_db, ["ALTER TABLE pets ADD COLUMN age INTEGER"])
    drifted = appctl("doctor", cwd=tmp_path, env={"SHOP_PW": secret}, code=1)
    assert "new column(s) age" in drifted.stdout
    for path in (tmp_path / ".appctl").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    proc = appctl("sync", "--db", "nowhere.db", cwd=tmp_path, code=2)
    assert "no SQLite database" in proc.stderr
    proc = appctl("sync", "--db", "oracle://x@y/z", cwd=tmp_path, code=2)
    assert "unsupported database" in proc.stderr
    proc = appctl("sync", "--openapi", "a.yaml", "--db", "b.db", cwd=tmp_path, code=2)
    assert "exactly one source" in proc.stderr
    proc = appctl("sync", "--db", "postgresql://u:pw@127.0.0.1:1/x", cwd=tmp_path, code=1)
    assert "could not connect" in proc.stderr and "pw@" not in proc.stderr


def test_the_bundled_example_syncs_and_answers(tmp_path: Path) -> None:
    shutil.copy(CHINOOK, tmp_path / "chinook.db")
    appctl("sync", "--db", "chinook.db", cwd=tmp_path)
    got = appctl("call", "get_artist", "ArtistId=1", cwd=tmp_path)
    assert json.loads(got.stdout) == {"ArtistId": 1, "Name": "AC/DC"}
    guide = appctl("guide", cwd=tmp_path).stdout
    assert "track.AlbumId → album.AlbumId" in guide
    doctor = appctl("doctor", cwd=tmp_path)
    assert "11 verified" in doctor.stdout


def test_long_table_names_give_unique_tool_names_within_64(tmp_path: Path) -> None:
    db = tmp_path / "long.db"
    stem = "customer_subscription_billing_adjustment_history_entries_archive"
    run_ddl(
        f"sqlite:///{db}",
        [
            f"CREATE TABLE {stem}_2023 (id INTEGER PRIMARY KEY)",
            f"CREATE TABLE {stem}_2024 (id INTEGER PRIMARY KEY)",
            'CREATE TABLE "Order Lines" ("line id" INTEGER PRIMARY KEY, "unit-price" REAL)',
        ],
    )
    schema = sync_db(str(db), root=tmp_path).schema
    names = [a.name for a in schema.actions()]
    assert len(names) == len(set(names)) == 15
    assert all(len(n) <= 64 and n.replace("_", "").isalnum() for n in names)
    lines = next(r for r in schema.resources if r.name == "order_lines")
    get = next(a for a in lines.actions if a.verb == Verb.GET)
    (key,) = get.parameters
    assert key.wire_name == "line id" and key.name != "line id"
    from appctl.execute.executor import CallOptions, call

    options = CallOptions(database_url=f"sqlite:///{db}", approved=True)
    created = call(schema, "create_order_lines", {"unit-price": 2.5}, options, environ={})
    assert created.ok, created.error
    got = call(schema, get.name, {key.name: created.data[key.name]}, options, environ={})
    assert got.ok and got.data["unit-price"] == 2.5


def test_several_schemas_are_qualified_where_names_repeat(tmp_path: Path) -> None:
    from tests import dbs

    if "postgresql" not in dbs.kinds():
        pytest.skip("needs PostgreSQL (scripts/test starts it)")
    url = dbs.fresh_database("postgresql", tmp_path)
    try:
        run_ddl(
            url,
            [
                "CREATE SCHEMA billing",
                "CREATE TABLE public.orders (id INTEGER PRIMARY KEY)",
                "CREATE TABLE billing.orders (id INTEGER PRIMARY KEY, amount NUMERIC(8, 2))",
                "CREATE TABLE billing.invoices (id INTEGER PRIMARY KEY, "
                "order_id INTEGER REFERENCES billing.orders(id))",
            ],
        )
        schema = sync_db(url, root=tmp_path, schemas=["public", "billing"]).schema
        assert sorted(r.name for r in schema.resources) == [
            "billing_orders",
            "invoices",
            "public_orders",
        ]
        invoices = next(r for r in schema.resources if r.name == "invoices")
        assert invoices.table is not None and invoices.table.relations[0].target == "billing_orders"
        from appctl.execute.executor import CallOptions, call

        options = CallOptions(database_url=url, approved=True)
        made = call(
            schema, "create_billing_orders", {"id": 1, "amount": "9.99"}, options, environ={}
        )
        assert made.ok and made.data == {"id": 1, "amount": "9.99"}
        assert call(schema, "list_public_orders", {}, options, environ={}).data["rows"] == []
        with pytest.raises(Exception, match="no schema 'nope'"):
            sync_db(url, root=tmp_path, schemas=["nope"])
    finally:
        dbs.drop_database(url)


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_doctor_reports_a_role_that_may_only_read(kind: str, tmp_path: Path) -> None:
    from tests import dbs

    if kind not in dbs.kinds():
        pytest.skip(f"needs {kind} (scripts/test starts it)")
    admin, reader = dbs.server_url(kind), dbs.server_url(kind, read_only=True)
    table = f"doctor_{os.getpid()}"
    run_ddl(admin, [f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v INTEGER)"])
    try:
        schema = sync_db(admin, root=tmp_path, include=[table]).schema
        from appctl.doctor.db import diagnose_db

        checks, tables = diagnose_db(schema, admin)
        assert [c.ok for c in checks] == [True, True], checks
        checks, tables = diagnose_db(schema, reader)
        privileges = next(c for c in checks if c.name == "privileges")
        assert privileges.ok is False and "INSERT" in privileges.detail, privileges
        assert [t.verdict for t in tables] == ["verified"]
    finally:
        run_ddl(admin, [f"DROP TABLE {table}"])


def test_a_view_on_a_dropped_table_is_left_out_with_a_warning(
    fresh_db: str, tmp_path: Path
) -> None:
    """SQLite and MariaDB keep a view whose table was dropped (PostgreSQL refuses to drop
    it); the sync leaves the view out, says why, and reads the rest."""
    from appctl.sync.db.reflect import reflect

    if fresh_db.startswith("postgresql"):
        pytest.skip("PostgreSQL never keeps a view whose table is gone")
    engine = sa.create_engine(fresh_db)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE gone (a INT)")
        conn.exec_driver_sql("CREATE TABLE kept (id INT PRIMARY KEY)")
        conn.exec_driver_sql("CREATE VIEW stale AS SELECT a FROM gone")
        conn.exec_driver_sql("CREATE VIEW fine AS SELECT id FROM kept")
        conn.exec_driver_sql("DROP TABLE gone")
    engine.dispose()
    reflected = reflect(fresh_db)
    assert [t.name for t in reflected.tables] == ["fine", "kept"]
    (note,) = reflected.notes
    assert note.startswith("view stale cannot be read (") and note.endswith("): left out")
    result = sync_db(fresh_db, root=tmp_path)
    assert [r.name for r in result.schema.resources] == ["fine", "kept"]
    assert any("view stale cannot be read" in d.message for d in result.diagnostics)
