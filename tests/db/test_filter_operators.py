"""Every filter operator a list tool offers runs, with the meaning the tool text gives it, on
every column kind of SQLite, PostgreSQL and MariaDB: a zoo table per dialect holds one row of
NULLs and one of values; each operator of each column's filter is called with the stored
value and must find exactly the rows its meaning says. Then what differs between dialects:
like/ilike case (and the tool text that says so), the escape character, enum order, and
time-zone offsets on zone-less columns.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from appctl.contract.models import Contract
from appctl.execute.executor import CallOptions, call
from appctl.sync.db.api import sync_db

UTC = dt.UTC
# name, DDL type per dialect, value stored in row 2 (Python), the same value as a filter takes
ZOO: list[tuple[str, dict[str, str], Any, Any]] = [
    ("i", {"sqlite": "INTEGER", "postgresql": "INTEGER", "mariadb": "INTEGER"}, 7, 7),
    ("r", {"sqlite": "REAL", "postgresql": "DOUBLE PRECISION", "mariadb": "DOUBLE"}, 1.5, 1.5),
    ("d", dict.fromkeys(("sqlite", "postgresql", "mariadb"), "NUMERIC(10,2)"), 1, "1.00"),
    ("s", dict.fromkeys(("sqlite", "postgresql", "mariadb"), "VARCHAR(20)"), "Ab", "Ab"),
    ("t", dict.fromkeys(("sqlite", "postgresql", "mariadb"), "TEXT"), "Émile", "Émile"),
    ("b", dict.fromkeys(("sqlite", "postgresql", "mariadb"), "BOOLEAN"), True, True),
    (
        "dt",
        dict.fromkeys(("sqlite", "postgresql", "mariadb"), "DATE"),
        dt.date(2024, 2, 29),
        "2024-02-29",
    ),
    (
        "ts",
        {"sqlite": "DATETIME", "postgresql": "TIMESTAMP", "mariadb": "DATETIME(6)"},
        dt.datetime(2024, 1, 1, 10, 0, 0, 5),
        "2024-01-01T10:00:00.000005",
    ),
    (
        "tz",
        {"postgresql": "TIMESTAMP WITH TIME ZONE"},
        dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
        "2024-01-01T15:30:00+05:30",
    ),
    ("tm", dict.fromkeys(("sqlite", "postgresql", "mariadb"), "TIME"), dt.time(10, 1), "10:01:00"),
    ("iv", {"postgresql": "INTERVAL"}, dt.timedelta(days=1, hours=2), "P1DT2H"),
    ("u", {"postgresql": "UUID", "mariadb": "UUID"}, uuid.UUID(int=5), str(uuid.UUID(int=5))),
    ("e", {"postgresql": "mood", "mariadb": "ENUM('b','a','c')"}, "a", "a"),
    ("j", {"sqlite": "JSON", "postgresql": "JSON"}, {"a": 1}, None),
    ("jb", {"postgresql": "JSONB"}, {"a": [1]}, None),
    ("bl", {"sqlite": "BLOB", "postgresql": "BYTEA", "mariadb": "BLOB"}, b"\x00\xff", None),
    ("ai", {"postgresql": "INTEGER[]"}, [1, 2], None),
    ("ip", {"postgresql": "INET"}, "10.0.0.1", None),
]
ORDERED = {"lt": [], "lte": [2], "gt": [], "gte": [2], "eq": [2], "ne": [1], "in": [2]}
# the operators each kind is offered (is_null on every nullable column besides)
OFFERED = {
    "integer": {"eq", "ne", "lt", "lte", "gt", "gte", "in"},
    "string": {"eq", "ne", "lt", "lte", "gt", "gte", "in", "like", "ilike"},
    "boolean": {"eq", "ne"},
    "other": set(),
    "json": set(),
    "binary": set(),
    "array": set(),
}
OFFERED["enum"] = OFFERED["string"]
for _kind in ("number", "decimal", "date", "datetime", "time", "interval", "uuid"):
    OFFERED[_kind] = OFFERED["integer"]


def kind_of(url: str) -> str:
    return (
        "sqlite" if url.startswith("sqlite") else "postgresql" if "postgres" in url else "mariadb"
    )


def _make(url: str, root: Path, statements: list[str]) -> tuple[Contract, sa.Engine, sa.Table]:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    schema = sync_db(url, root=root).schema
    return schema, engine, sa.Table("z", sa.MetaData(), autoload_with=engine)


def _ids(schema: Contract, url: str, args: dict[str, Any]) -> list[int]:
    result = call(schema, "list_z", args, CallOptions(database_url=url), environ={})
    assert result.ok, (args, result.error)
    return [row["id"] for row in result.data["rows"]]


def _filters(schema: Contract) -> dict[str, dict[str, Any]]:
    [resource] = schema.resources
    action = next(a for a in resource.actions if a.verb == "list")
    where = action.field("where")
    assert where is not None
    refs = where.schema_["properties"]
    return {
        arg: schema.definitions[ref["$ref"].rsplit("/", 1)[1]]["properties"]
        for arg, ref in refs.items()
    }


def test_every_offered_operator_finds_what_it_says_on_every_kind(fresh_db, tmp_path) -> None:
    kind = kind_of(fresh_db)
    zoo = [(n, types[kind], v, j) for n, types, v, j in ZOO if kind in types]
    ddl = ["CREATE TYPE mood AS ENUM ('b', 'a', 'c')"] if kind == "postgresql" else []
    ddl.append(
        "CREATE TABLE z (id INTEGER PRIMARY KEY, "
        + ", ".join(f"{n} {type_}" for n, type_, _, _ in zoo)
        + ")"
    )
    schema, engine, table = _make(fresh_db, tmp_path, ddl)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": 1}])
        conn.execute(table.insert(), [{"id": 2} | {n: v for n, _, v, _ in zoo}])
    engine.dispose()
    filters = _filters(schema)
    columns = {c.name: c for c in schema.resources[0].table.columns}
    for name, _, stored, value in zoo:
        ops = filters[name]
        assert set(ops) == OFFERED[columns[name].kind] | {"is_null"}, name
        for op in ops:
            operand: Any = {
                "is_null": True,
                "in": [value],
                "like": value,
                "ilike": "".join(c.swapcase() if c.isascii() else c for c in str(value)),
            }.get(op, value)
            expected = [1] if op == "is_null" else ORDERED.get(op, [2])
            got = _ids(schema, fresh_db, {"where": {name: {op: operand}}})
            assert got == expected, (name, columns[name].type, op, operand)
        if "is_null" in ops:
            got = _ids(schema, fresh_db, {"where": {name: {"is_null": False}}})
            assert got == ([2] if stored is not None else []), name


TEXTS = ["Émile", "émile", "EMILE", "emile", "50%", "50x", "a_b", "axb", "back\\slash"]


@pytest.fixture
def texts(fresh_db: str, tmp_path: Path) -> tuple[str, str, Contract]:
    kind = kind_of(fresh_db)
    exact = " COLLATE utf8mb4_bin" if kind == "mariadb" else ""
    folded = " COLLATE utf8mb4_unicode_ci" if kind == "mariadb" else ""
    schema, engine, table = _make(
        fresh_db,
        tmp_path,
        [f"CREATE TABLE z (id INTEGER PRIMARY KEY, t VARCHAR(20){folded}, x VARCHAR(20){exact})"],
    )
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": n, "t": s, "x": s} for n, s in enumerate(TEXTS, 1)])
    engine.dispose()
    return fresh_db, kind, schema


def _texts(schema: Contract, url: str, column: str, op: str, pattern: str) -> set[str]:
    ids = _ids(schema, url, {"where": {column: {op: pattern}}, "limit": 50})
    return {TEXTS[i - 1] for i in ids}


def _server_folds_non_ascii(url: str) -> bool:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        folded = conn.exec_driver_sql("SELECT lower('É') = 'é'").scalar()
    engine.dispose()
    return bool(folded)


def test_ilike_ignores_case_of_every_letter_and_nothing_else(texts) -> None:
    url, kind, schema = texts
    both = {"Émile", "émile"}
    if kind == "postgresql" and not _server_folds_non_ascii(url):
        both = {"émile"}  # documented: ILIKE folds as the database's locale does (C: ASCII)
    for column in ("t", "x"):
        assert _texts(schema, url, column, "ilike", "émile") == both
        assert _texts(schema, url, column, "ilike", "ÉMILE") == (
            {"Émile"} if both == {"émile"} else both
        )
        assert _texts(schema, url, column, "ilike", "emile") == {"EMILE", "emile"}


def test_like_escapes_with_a_backslash_on_every_dialect(texts) -> None:
    url, _, schema = texts
    for column in ("t", "x"):
        assert _texts(schema, url, column, "like", "50\\%") == {"50%"}
        assert _texts(schema, url, column, "like", "a\\_b") == {"a_b"}
        assert _texts(schema, url, column, "like", "a_b") == {"a_b", "axb"}
        assert _texts(schema, url, column, "like", "back\\\\slash") == {"back\\slash"}
        result = call(
            schema,
            "list_z",
            {"where": {column: {"like": "50\\"}}},
            CallOptions(database_url=url),
            environ={},
        )
        assert not result.ok and result.error.category == "validation"
        assert "lone backslash" in result.error.message


def test_like_case_is_as_the_tool_text_says(texts) -> None:
    url, kind, schema = texts
    [resource] = schema.resources
    action = next(a for a in resource.actions if a.verb == "list")
    where = action.field("where")
    assert where is not None
    text = where.description
    like_t = _texts(schema, url, "t", "like", "emile")
    like_x = _texts(schema, url, "x", "like", "emile")
    if kind == "sqlite":
        assert "like ignores the case of ASCII letters only" in text
        assert like_t == like_x == {"EMILE", "emile"}
    elif kind == "postgresql":
        assert "like is case-sensitive" in text
        assert like_t == like_x == {"emile"}
    else:
        assert "like follows each column's collation" in text and "exact: x" in text
        assert like_t == {"Émile", "émile", "EMILE", "emile"}
        assert like_x == {"emile"}
    assert text.count("like") <= 4, "say it once per tool"


def test_enums_compare_in_declaration_order_as_they_sort(fresh_db, tmp_path) -> None:
    kind = kind_of(fresh_db)
    if kind == "sqlite":
        pytest.skip("SQLite has no enum type")
    ddl = (
        [
            "CREATE TYPE mood AS ENUM ('b', 'a', 'c')",
            "CREATE TABLE z (id INTEGER PRIMARY KEY, e mood)",
        ]
        if kind == "postgresql"
        else ["CREATE TABLE z (id INTEGER PRIMARY KEY, e ENUM('b', 'a', 'c'))"]
    )
    schema, engine, table = _make(fresh_db, tmp_path, ddl)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": n, "e": e} for n, e in enumerate("abc", 1)])
    engine.dispose()
    assert _ids(schema, fresh_db, {"order_by": ["e"]}) == [2, 1, 3]
    assert _ids(schema, fresh_db, {"where": {"e": {"lt": "a"}}}) == [2]
    assert _ids(schema, fresh_db, {"where": {"e": {"gte": "a"}}}) == [1, 3]
    assert _ids(schema, fresh_db, {"where": {"e": {"like": "_"}}}) == [1, 2, 3]
    assert _ids(schema, fresh_db, {"where": {"e": {"ilike": "A"}}}) == [1]


def test_an_offset_on_a_zone_less_time_is_refused_not_dropped(fresh_db, tmp_path) -> None:
    kind = kind_of(fresh_db)
    naive = {"sqlite": "DATETIME", "postgresql": "TIMESTAMP", "mariadb": "DATETIME(6)"}[kind]
    zoned = ", tz TIMESTAMP WITH TIME ZONE" if kind == "postgresql" else ""
    schema, engine, table = _make(
        fresh_db,
        tmp_path,
        [f"CREATE TABLE z (id INTEGER PRIMARY KEY, ts {naive}, tm TIME{zoned})"],
    )
    row: dict[str, Any] = {"id": 1, "ts": dt.datetime(2024, 1, 1, 10), "tm": dt.time(10)}
    if zoned:
        row["tz"] = dt.datetime(2024, 1, 1, 10, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(table.insert(), [row])
    engine.dispose()
    for column, value in [("ts", "2024-01-01T15:00:00+05:00"), ("ts", "2024-01-01T10:00:00Z")]:
        for op, operand in [("eq", value), ("gte", value), ("in", [value])]:
            result = call(
                schema,
                "list_z",
                {"where": {column: {op: operand}}},
                CallOptions(database_url=fresh_db),
                environ={},
            )
            assert not result.ok and result.error.category == "validation", (column, op)
            assert "without a zone" in result.error.message
            assert (
                "2024-01-01T" in result.error.message
                and "without an offset" in result.error.message
            )
    result = call(
        schema,
        "list_z",
        {"where": {"tm": {"eq": "10:00:00+02:00"}}},
        CallOptions(database_url=fresh_db),
        environ={},
    )
    assert not result.ok and result.error.category == "validation"
    assert _ids(schema, fresh_db, {"where": {"ts": {"eq": "2024-01-01T10:00:00"}}}) == [1]
    if zoned:
        assert _ids(schema, fresh_db, {"where": {"tz": {"eq": "2024-01-01T15:00:00+05:00"}}}) == [1]
        assert _ids(schema, fresh_db, {"where": {"tz": {"gt": "2024-01-01T10:00:00Z"}}}) == []


def test_sqlite_times_written_in_other_text_forms_filter_as_times_and_page_whole(
    tmp_path,
) -> None:
    """SQLite keeps date-times as text in the form the writing program chose; SQLAlchemy's
    (``.ffffff``) is one of many. Filters compare them as the times they are; order_by sorts
    the text (an index serves it) and cursors page that order without losing a tie."""
    import sqlite3

    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE z (id INTEGER PRIMARY KEY, at DATETIME, tm TIME)")
        conn.execute("CREATE INDEX z_at ON z (at)")
        conn.executemany(
            "INSERT INTO z VALUES (?, ?, ?)",
            [
                (1, "2024-01-01 10:00:00", "10:00:00"),
                (2, "2024-01-01 10:00:00.000000", "10:00"),
                (3, "2024-01-01T09:00:00", "09:00:00.000000"),
                (4, "2024-01-01 10:00:00.5", "10:00:00.5"),
                (5, None, None),
                (6, "2024-01-01T10:00", "10:00:00.000000"),
                (7, "2024-01-01 10:00:00", "10:00:00"),
            ],
        )
    conn.close()
    url = f"sqlite:///{path}"
    schema = sync_db(url, root=tmp_path).schema
    ten = "2024-01-01T10:00:00"
    assert _ids(schema, url, {"where": {"at": {"eq": ten}}}) == [1, 2, 6, 7]
    assert _ids(schema, url, {"where": {"at": {"in": [ten]}}}) == [1, 2, 6, 7]
    assert _ids(schema, url, {"where": {"at": {"ne": ten}}}) == [3, 4, 5]
    assert _ids(schema, url, {"where": {"at": {"lt": ten}}}) == [3]
    assert _ids(schema, url, {"where": {"at": {"lte": ten}}}) == [1, 2, 3, 6, 7]
    assert _ids(schema, url, {"where": {"at": {"gt": ten}}}) == [4]
    assert _ids(schema, url, {"where": {"at": {"gte": ten}}}) == [1, 2, 4, 6, 7]
    assert _ids(schema, url, {"where": {"tm": {"eq": "10:00:00"}}}) == [1, 2, 6, 7]
    assert _ids(schema, url, {"where": {"tm": {"gt": "09:30"}}}) == [1, 2, 4, 6, 7]
    for order in (["at"], ["-at"], ["-tm"], ["tm", "-at"]):
        whole = _ids(schema, url, {"order_by": order})
        seen: list[int] = []
        args: dict[str, Any] = {"order_by": order, "limit": 1}
        for _ in range(9):
            result = call(schema, "list_z", args, CallOptions(database_url=url), environ={})
            assert result.ok, result.error
            seen += [row["id"] for row in result.data["rows"]]
            if not result.data["has_more"]:
                break
            args = {"order_by": order, "limit": 1, "cursor": result.data["next_cursor"]}
        assert seen == whole and sorted(seen) == list(range(1, 8)), order
