"""The SQL executor against real databases: SQLite always, PostgreSQL and MariaDB when
``scripts/test`` started them (it always does in CI). ``fresh_db`` is an empty database."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa

from appctl.contract.models import Contract, Safety
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory
from appctl.generate.formats.mcp import output_schema
from appctl.sync.db.api import sync_db

DDL: dict[str, list[str]] = {
    "sqlite": [
        """CREATE TABLE things (
            id INTEGER PRIMARY KEY,
            small SMALLINT,
            big BIGINT,
            price NUMERIC(10, 2),
            ratio REAL,
            name VARCHAR(40) NOT NULL,
            body TEXT,
            flag BOOLEAN,
            day DATE,
            at DATETIME,
            tm TIME,
            data JSON,
            raw BLOB,
            status VARCHAR(10) NOT NULL DEFAULT 'new'
        )""",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, thing_id INTEGER NOT NULL "
        "REFERENCES things(id), text TEXT)",
        "CREATE VIEW slow AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
        "WHERE n < 100000000) SELECT count(*) AS total FROM c",
    ],
    "postgresql": [
        "CREATE TYPE mood AS ENUM ('new', 'done')",
        """CREATE TABLE things (
            id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            small SMALLINT,
            big BIGINT,
            price NUMERIC(10, 2),
            ratio DOUBLE PRECISION,
            name VARCHAR(40) NOT NULL,
            body TEXT,
            flag BOOLEAN,
            day DATE,
            at TIMESTAMP WITH TIME ZONE,
            tm TIME,
            data JSONB,
            raw BYTEA,
            status mood NOT NULL DEFAULT 'new',
            uid UUID,
            span INTERVAL,
            tags TEXT[]
        )""",
        "COMMENT ON TABLE things IS 'Things we keep'",
        "COMMENT ON COLUMN things.name IS 'What it is called'",
        "CREATE TABLE notes (id SERIAL PRIMARY KEY, thing_id INTEGER NOT NULL "
        "REFERENCES things(id), text TEXT)",
        "CREATE TABLE audit (n SERIAL PRIMARY KEY, at TIMESTAMP DEFAULT now())",
        "CREATE FUNCTION bump() RETURNS integer LANGUAGE sql AS "
        "$$ INSERT INTO audit DEFAULT VALUES RETURNING n $$",
        "CREATE VIEW bumper AS SELECT bump() AS n",
        "CREATE VIEW slow AS SELECT pg_sleep(5)::text AS slept",
    ],
    "mariadb": [
        """CREATE TABLE things (
            id INTEGER AUTO_INCREMENT PRIMARY KEY,
            small SMALLINT,
            big BIGINT,
            price DECIMAL(10, 2),
            ratio DOUBLE,
            name VARCHAR(40) NOT NULL,
            body TEXT,
            flag BOOLEAN,
            day DATE,
            at DATETIME(6),
            tm TIME,
            data TEXT,
            raw BLOB,
            status ENUM('new', 'done') NOT NULL DEFAULT 'new'
        )""",
        "CREATE TABLE notes (id INTEGER AUTO_INCREMENT PRIMARY KEY, thing_id INTEGER NOT NULL, "
        "text TEXT, FOREIGN KEY (thing_id) REFERENCES things(id))",
        "CREATE TABLE audit (n INTEGER AUTO_INCREMENT PRIMARY KEY)",
        "CREATE FUNCTION bump() RETURNS INTEGER MODIFIES SQL DATA "
        "BEGIN INSERT INTO audit VALUES (NULL); RETURN LAST_INSERT_ID(); END",
        "CREATE VIEW bumper AS SELECT bump() AS n",
        "CREATE VIEW slow AS SELECT SLEEP(5) AS slept",
    ],
}

ROW: dict[str, Any] = {
    "small": -32768,
    "big": 9007199254740993,
    "price": "1234.50",
    "ratio": 0.25,
    "name": "widget ✓",
    "body": "line one\nline 'two'; --",
    "flag": True,
    "day": "2024-02-29",
    "tm": "13:45:30",
    "raw": "AAEC/w==",
}


def kind_of(url: str) -> str:
    return (
        "sqlite" if url.startswith("sqlite") else "postgresql" if "postgres" in url else "mariadb"
    )


def run_ddl(url: str, statements: list[str]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


@pytest.fixture
def db(fresh_db: str, tmp_path: Path) -> tuple[str, str, Contract]:
    kind = kind_of(fresh_db)
    run_ddl(fresh_db, DDL[kind])
    schema = sync_db(fresh_db, root=tmp_path).schema
    return fresh_db, kind, schema


def _call(db: tuple[str, str, Contract], tool: str, args: dict[str, Any], **options: Any):
    url, _, schema = db
    opts = CallOptions(database_url=url, approved=True, **options)
    return call(schema, tool, args, opts, environ={})


def _row(kind: str) -> dict[str, Any]:
    row = dict(ROW)
    if kind == "postgresql":
        row |= {
            "at": "2024-02-29T13:45:30.123456+00:00",
            "data": {"a": [1, 2.5, None], "b": "x"},
            "uid": "12345678-1234-5678-1234-567812345678",
            "span": "P1DT2H3M4.5S",
            "tags": ["a", "b c"],
            "status": "done",
        }
    elif kind == "mariadb":
        row |= {"at": "2024-02-29T13:45:30.123456", "data": '{"a": 1}', "status": "done"}
    else:
        row |= {"at": "2024-02-29T13:45:30.123456", "data": {"a": [1, 2.5, None], "b": "x"}}
    return row


def test_every_column_type_round_trips(db) -> None:
    _, kind, _ = db
    row = _row(kind)
    created = _call(db, "create_things", row)
    assert created.ok, created.error
    key = created.data["id"]
    got = _call(db, "get_things", {"id": key})
    assert got.ok, got.error
    for column, value in row.items():
        assert got.data[column] == value, column
    listed = _call(db, "list_things", {"where": {"id": {"eq": key}}})
    assert listed.ok and listed.data["rows"] == [got.data]
    assert created.data == got.data
    # every value matches the JSON Schema MCP clients are given as the tool's outputSchema
    schema = db[2]
    table = schema.resource_of("get_things")
    assert table is not None
    for tool, result in (("create_things", created), ("get_things", got), ("list_things", listed)):
        action = schema.action(tool)
        assert action is not None
        shape = output_schema(action, table.table)
        assert shape is not None
        jsonschema.validate(result.model_dump(mode="json", exclude_none=True), shape)
    deleted = _call(db, "delete_things", {"id": key})
    delete = schema.action("delete_things")
    assert deleted.ok and delete is not None
    shape = output_schema(delete, table.table)
    assert shape is not None
    jsonschema.validate(deleted.model_dump(mode="json", exclude_none=True), shape)


def test_defaults_and_generated_columns(db) -> None:
    schema = db[2]
    create = schema.action("create_things")
    assert create is not None
    names = {f.name for f in create.parameters}
    assert "id" not in names  # generated: never an input on create
    required = {f.name for f in create.parameters if f.required}
    assert required == {"name"}  # status has a default, the rest are nullable
    result = _call(db, "create_things", {"name": "plain"})
    assert result.ok, result.error
    assert result.data["status"] == "new"


def test_update_is_partial_and_keyed(db) -> None:
    first = _call(db, "create_things", {"name": "a", "price": "1.00", "body": "keep"}).data
    changed = _call(db, "update_things", {"id": first["id"], "price": "2.50"})
    assert changed.ok, changed.error
    assert changed.data["price"] == "2.50" and changed.data["body"] == "keep"
    same = _call(db, "update_things", {"id": first["id"], "price": "2.50"})  # matched, unchanged
    assert same.ok, same.error
    cleared = _call(db, "update_things", {"id": first["id"], "body": None})
    assert cleared.ok and cleared.data["body"] is None
    missing = _call(db, "update_things", {"id": 999999, "price": "1"})
    assert missing.error is not None and missing.error.category == ErrorCategory.NOT_FOUND
    nothing = _call(db, "update_things", {"id": first["id"]})
    assert nothing.error is not None and nothing.error.category == ErrorCategory.VALIDATION


def test_delete_one_row_and_foreign_keys_hold(db) -> None:
    thing = _call(db, "create_things", {"name": "parent"}).data
    note = _call(db, "create_notes", {"thing_id": thing["id"], "text": "child"})
    assert note.ok, note.error
    blocked = _call(db, "delete_things", {"id": thing["id"]})
    assert blocked.error is not None
    assert blocked.error.category == ErrorCategory.CONFLICT
    orphan = _call(db, "create_notes", {"thing_id": 424242, "text": "orphan"})
    assert orphan.error is not None and orphan.error.category == ErrorCategory.CONFLICT
    assert _call(db, "delete_notes", {"id": note.data["id"]}).ok
    deleted = _call(db, "delete_things", {"id": thing["id"]})
    assert deleted.ok and deleted.data["deleted"]["name"] == "parent"
    gone = _call(db, "get_things", {"id": thing["id"]})
    assert gone.error is not None and gone.error.category == ErrorCategory.NOT_FOUND


def _seed(db, n: int = 30) -> None:
    for i in range(n):
        result = _call(
            db,
            "create_things",
            {
                "name": f"item {i:02d}" + ("%" if i == 7 else ""),
                "price": f"{(i * 7) % 23}.{i % 10}0",
                "small": None if i % 5 == 0 else i % 4,
                "flag": i % 2 == 0,
            },
        )
        assert result.ok, result.error


FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"price": {"gte": "10"}}, "price >= 10"),
    ({"price": {"lt": "5.5"}, "flag": {"eq": True}}, "price < 5.5 AND flag = {true}"),
    ({"small": {"is_null": True}}, "small IS NULL"),
    ({"small": {"ne": 1}}, "(small <> 1 OR small IS NULL)"),
    ({"small": {"in": [0, 3]}}, "small IN (0, 3)"),
    ({"name": {"like": "item 1%"}}, "name LIKE 'item 1%'"),
    ({"name": {"ilike": "ITEM 2%"}}, "{ilike}"),
    ({"price": {"gt": "3", "lte": "12.3"}}, "price > 3 AND price <= 12.3"),
]


@pytest.mark.parametrize(("where", "sql"), FILTERS)
def test_filters_match_the_database(db, where: dict[str, Any], sql: str) -> None:
    url, kind, _ = db
    _seed(db)
    true = "1" if kind != "postgresql" else "true"
    ilike = {
        "postgresql": "name ILIKE 'ITEM 2%'",
        "mariadb": "LOWER(name) LIKE LOWER('ITEM 2%')",
        "sqlite": "LOWER(name) LIKE LOWER('ITEM 2%')",
    }[kind]
    condition = sql.replace("{true}", true).replace("{ilike}", ilike)
    if kind != "sqlite":  # the drivers' format paramstyle: a literal % is written %%
        condition = condition.replace("%", "%%")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        expected = [
            r[0]
            for r in conn.exec_driver_sql(f"SELECT id FROM things WHERE {condition} ORDER BY id")
        ]
    engine.dispose()
    result = _call(db, "list_things", {"where": where, "limit": 500})
    assert result.ok, result.error
    assert [r["id"] for r in result.data["rows"]] == expected
    assert expected  # every filter here matches something


def test_ordering_and_both_kinds_of_paging(db) -> None:
    url, _, _ = db
    _seed(db)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        expected = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT id FROM things ORDER BY price DESC, name ASC, id ASC"
            )
        ]
    engine.dispose()
    order = ["-price", "name"]
    seen: list[int] = []
    args: dict[str, Any] = {"order_by": order, "limit": 7}
    for _ in range(10):
        page = _call(db, "list_things", args)
        assert page.ok, page.error
        seen += [r["id"] for r in page.data["rows"]]
        if not page.data["has_more"]:
            break
        args = {"order_by": order, "limit": 7, "offset": page.data["next_offset"]}
    assert seen == expected
    # keyset paging on the primary key, stable when rows are added before the cursor
    first = _call(db, "list_things", {"limit": 10})
    cursor = first.data["next_cursor"]
    _call(db, "create_things", {"name": "late"})
    rest: list[int] = []
    args = {"limit": 10, "cursor": cursor}
    for _ in range(10):
        page = _call(db, "list_things", args)
        assert page.ok, page.error
        rest += [r["id"] for r in page.data["rows"]]
        if not page.data["has_more"]:
            break
        args = {"limit": 10, "cursor": page.data["next_cursor"]}
    shown = [r["id"] for r in first.data["rows"]]
    assert [*shown, *rest] == [*sorted(expected), max(expected) + 1]
    wrong = _call(db, "list_things", {"cursor": cursor, "order_by": ["name"]})
    assert wrong.error is not None and wrong.error.category == ErrorCategory.VALIDATION


def test_limit_has_a_hard_maximum_and_large_pages_are_cut_with_a_note(db) -> None:
    _seed(db, 12)
    too_many = _call(db, "list_things", {"limit": 501})
    assert too_many.error is not None and too_many.error.category == ErrorCategory.VALIDATION
    small = _call(db, "list_things", {"limit": 12}, result_budget=600)
    assert small.ok and small.data["has_more"] is True
    assert 0 < len(small.data["rows"]) < 12 and small.notes
    assert small.data["next_cursor"]


INJECTIONS = [
    "'; DROP TABLE things; --",
    "x' OR '1'='1",
    '"; DELETE FROM notes; --',
    "1); DROP TABLE notes; --",
    "\\'; SELECT pg_sleep(10); --",
]


def _counts(url: str) -> tuple[int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        things = conn.exec_driver_sql("SELECT count(*) FROM things").scalar_one()
        notes = conn.exec_driver_sql("SELECT count(*) FROM notes").scalar_one()
    engine.dispose()
    return int(things), int(notes)


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_through_values_is_plain_data(db, text: str) -> None:
    url, _, _ = db
    _seed(db, 3)
    before = _counts(url)
    created = _call(db, "create_things", {"name": text[:40], "body": text})
    assert created.ok, created.error
    assert created.data["body"] == text
    found = _call(db, "list_things", {"where": {"body": {"eq": text}}})
    assert [r["id"] for r in found.data["rows"]] == [created.data["id"]]
    assert _call(db, "list_things", {"where": {"name": {"like": text}}}).ok
    assert _call(db, "list_things", {"where": {"name": {"in": [text, "x"]}}}).ok
    assert _counts(url) == (before[0] + 1, before[1])


@pytest.mark.parametrize(
    "args",
    [
        {"order_by": ["name; DROP TABLE things"]},
        {"order_by": ["-(SELECT 1)"]},
        {"where": {"name) OR 1=1 --": {"eq": "x"}}},
        {"where": {"name": {"raw": "1=1"}}},
        {"where": {"name": {"eq": "x"}}, "table": "notes"},
        {"cursor": "eyJvIjpbWyJpZDsgRFJPUCBUQUJMRSB0aGluZ3MiLGZhbHNlXV0sInYiOlsxXX0"},
    ],
)
def test_injection_through_identifiers_is_refused(db, args: dict[str, Any]) -> None:
    url, _, _ = db
    _seed(db, 3)
    before = _counts(url)
    result = _call(db, "list_things", args)
    assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
    assert _counts(url) == before


def test_read_only_mode_sends_no_write(db) -> None:
    url, _, _ = db
    _seed(db, 2)
    before = _counts(url)
    for tool, args in (
        ("create_things", {"name": "x"}),
        ("update_things", {"id": 1, "name": "y"}),
        ("delete_things", {"id": 1}),
    ):
        result = _call(db, tool, args, read_only=True)
        assert result.error is not None and result.error.category == ErrorCategory.REFUSED
    assert _counts(url) == before


def test_a_side_effecting_function_cannot_write_through_a_read(db) -> None:
    url, kind, schema = db
    if kind == "sqlite":
        pytest.skip("SQLite has no functions that write; query_only is tested below")
    action = schema.action("list_bumper")
    assert action is not None and action.safety == Safety.READ_ONLY
    result = _call(db, "list_bumper", {}, read_only=True)
    assert result.error is not None and result.error.category == ErrorCategory.PERMISSION
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM audit").scalar_one() == 0
    engine.dispose()


def test_sqlite_reads_run_query_only(tmp_path: Path) -> None:
    from appctl.execute.sql.run import _transaction, engine_for

    path = tmp_path / "q.db"
    run_ddl(f"sqlite:///{path}", ["CREATE TABLE t (id INTEGER PRIMARY KEY)"])
    engine = engine_for(f"sqlite:///{path}")
    with (
        pytest.raises(sa.exc.OperationalError, match="readonly"),
        _transaction(engine, read_only=True, timeout=5) as conn,
    ):
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    with _transaction(engine, read_only=False, timeout=5) as conn:  # the pragma was undone
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")


def test_a_statement_past_the_timeout_is_cancelled(db) -> None:
    started = time.monotonic()
    result = _call(db, "list_slow", {}, timeout=0.5)
    elapsed = time.monotonic() - started
    assert result.error is not None, result.data
    assert result.error.category == ErrorCategory.TIMEOUT, result.error
    assert elapsed < 4.0
    assert _call(db, "list_things", {}).ok  # the pooled connection is usable afterwards


def test_dry_run_runs_nothing(db) -> None:
    url, _, _ = db
    before = _counts(url)
    result = _call(db, "create_things", {"name": "dry"}, dry_run=True)
    assert result.ok and result.request == {
        "operation": "create",
        "table": "things",
        "values": {"name": "dry"},
    }
    assert _counts(url) == before


def test_bad_values_are_validation_errors(db) -> None:
    # SQLite keeps any 64-bit integer in a SMALLINT column (and returns it): only past that
    too_big = 2**63 if db[1] == "sqlite" else 70000
    for args in (
        {"name": "x" * 41},
        {"name": "ok", "day": "2024-02-30"},
        {"name": "ok", "price": "12345678901.5"},
        {"name": "ok", "raw": "not base64!"},
        {"name": "ok", "small": too_big},
    ):
        result = _call(db, "create_things", args)
        assert result.error is not None and result.error.category == ErrorCategory.VALIDATION, args


def test_sql_calls_are_recorded_in_the_history_without_values(db, tmp_path: Path) -> None:
    from appctl.execute.audit.history import History

    url, _, schema = db
    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    options = CallOptions(database_url=url, approved=True)
    call(schema, "create_things", {"name": "logged"}, options, environ={}, history=history)
    call(
        schema,
        "list_things",
        {"where": {"name": {"eq": "logged"}}},
        options,
        environ={},
        history=history,
    )
    call(
        schema,
        "delete_things",
        {"id": 1},
        CallOptions(database_url=url),
        environ={},
        history=history,
    )
    entries = history.entries()
    assert [e.outcome for e in entries] == ["ok", "ok", "refused"]
    assert entries[0].request == "SQL CREATE things set name"
    assert entries[1].request.startswith("SQL LIST things where name eq order id limit 50")
    assert "logged" not in entries[1].request
    history.engine.dispose()
