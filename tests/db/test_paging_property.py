"""Paging never loses or repeats a row: random tables with wide text/JSON/binary values, random
filters and orders (booleans, enums, UUIDs, zoned timestamps, NULLs, ties), paged to the end
by cursor and by offset at random limits and budgets; the pages joined must equal
``SELECT id ... WHERE ... ORDER BY ..., id`` run directly, on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appctl.contract.models import Contract
from appctl.execute.budget import size
from appctl.execute.executor import CallOptions, call
from appctl.execute.sql.plan import to_json
from appctl.sync.db.api import sync_db

COLUMNS = "id INTEGER PRIMARY KEY, flag BOOLEAN, grp INTEGER, label VARCHAR(20), amt NUMERIC(6, 2)"
DDL: dict[str, list[str]] = {
    "sqlite": [
        f"CREATE TABLE t ({COLUMNS}, mood VARCHAR(5), uid VARCHAR(36), at DATETIME, "
        "body TEXT, doc JSON, raw BLOB)"
    ],
    "postgresql": [
        "CREATE TYPE mood AS ENUM ('b', 'a', 'c')",
        f"CREATE TABLE t ({COLUMNS}, mood mood, uid UUID, at TIMESTAMP WITH TIME ZONE, "
        "body TEXT, doc JSONB, raw BYTEA)",
    ],
    "mariadb": [
        f"CREATE TABLE t ({COLUMNS}, mood ENUM('b', 'a', 'c'), uid UUID, at DATETIME(6), "
        "body LONGTEXT, doc JSON, raw LONGBLOB)"
    ],
}
SORTABLE = ["flag", "grp", "label", "amt", "mood", "uid", "at"]
AMOUNTS = [Decimal("-0.50"), Decimal("10.10"), Decimal("2.00"), Decimal("2")]
UUIDS = [uuid.UUID(int=n * 0x1000_0000_0000_0001_0000_0000_0000_0001) for n in (3, 1, 2)]
ZONE = dt.timezone(dt.timedelta(hours=5, minutes=30))
TIMES = [dt.datetime(2024, 2, 29, 23, 30, 0, 123456, tzinfo=ZONE), dt.datetime(2024, 3, 1, 1, 0)]
WIDTHS = [0, 7, 300, 3000, 30_000]
TEXT = 'ab"c\\é€\n😀 '


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


ROW = st.fixed_dictionaries(
    {
        "flag": maybe(st.booleans()),
        "grp": maybe(st.integers(0, 3)),
        "label": maybe(st.sampled_from(["a", "b", "B", "c"])),
        "amt": maybe(st.sampled_from(AMOUNTS)),
        "mood": maybe(st.sampled_from(["a", "b", "c"])),
        "uid": maybe(st.sampled_from(UUIDS)),
        "at": maybe(st.sampled_from(range(len(TIMES)))),
        "body": maybe(st.sampled_from(WIDTHS)),
        "doc": maybe(st.sampled_from(WIDTHS)),
        "raw": maybe(st.sampled_from(WIDTHS)),
    }
)
FILTERS = st.sampled_from(
    [
        None,
        ("flag", "eq", True),
        ("flag", "ne", True),
        ("grp", "gte", 1),
        ("amt", "gte", Decimal("2")),
        ("label", "is_null", False),
        ("mood", "ne", "a"),
        ("at", "is_null", True),
    ]
)
ORDERS = st.lists(
    st.tuples(st.sampled_from(SORTABLE), st.booleans()), max_size=3, unique_by=lambda o: o[0]
)


def kind_of(url: str) -> str:
    return (
        "sqlite" if url.startswith("sqlite") else "postgresql" if "postgres" in url else "mariadb"
    )


@pytest.fixture
def paged(fresh_db: str, tmp_path: Path) -> tuple[str, str, Contract, sa.Engine, sa.Table]:
    kind = kind_of(fresh_db)
    engine = sa.create_engine(fresh_db)
    with engine.begin() as conn:
        for statement in DDL[kind]:
            conn.exec_driver_sql(statement)
    schema = sync_db(fresh_db, root=tmp_path).schema
    table = sa.Table("t", sa.MetaData(), autoload_with=engine)
    yield fresh_db, kind, schema, engine, table
    engine.dispose()


def _stored(kind: str, n: int, row: dict[str, Any]) -> dict[str, Any]:
    def wide(width: int | None) -> str | None:
        return None if width is None else (TEXT * (width // len(TEXT) + 1))[:width]

    at = None if row["at"] is None else TIMES[row["at"]]
    if at is not None and kind != "postgresql":
        at = at.replace(tzinfo=None)
    uid = row["uid"] if kind == "postgresql" or row["uid"] is None else str(row["uid"])
    body, doc, raw = wide(row["body"]), wide(row["doc"]), wide(row["raw"])
    return row | {
        "id": n,
        "at": at,
        "uid": uid,
        "body": body,
        "doc": None
        if doc is None
        else (json.dumps({"k": doc}) if kind == "mariadb" else {"k": doc}),
        "raw": None if raw is None else raw.encode(),
    }


def _expected(
    engine: sa.Engine, table: sa.Table, where: Any, order: list[tuple[str, bool]]
) -> list[int]:
    query = sa.select(table.c.id)
    if where is not None:
        column, op, value = where
        c = table.c[column]
        query = query.where(
            {
                "eq": lambda: c == value,
                "ne": lambda: sa.or_(c != value, c.is_(None)),
                "gte": lambda: c >= value,
                "is_null": lambda: c.is_(None) if value else c.is_not(None),
            }[op]()
        )
    columns = [table.c[c].desc() if desc else table.c[c].asc() for c, desc in order]
    with engine.connect() as conn:
        return list(conn.execute(query.order_by(*columns, table.c.id.asc())).scalars())


def _page_through(
    url: str, schema: Contract, args: dict[str, Any], budget: int, by: str, most: int
) -> list[int]:
    options = CallOptions(database_url=url, approved=True, result_budget=budget)
    seen: list[int] = []
    page_args = dict(args)
    for _ in range(most):
        page = call(schema, "list_t", page_args, options, environ={})
        assert page.ok, page.error
        assert isinstance(page.data, dict), page.data
        if budget:
            assert size(page.data) <= budget, "the page does not fit its budget"
        rows = page.data["rows"]
        seen += [r["id"] for r in rows]
        for mark in page.data.get("cut", []):
            assert mark["left_out"] == mark["length"] - mark["shown"] > 0
        if not page.data["has_more"]:
            return seen
        assert rows, "a page that says has_more shows no row"
        page_args = dict(args) | {by: page.data[f"next_{by}"]}
    raise AssertionError(f"still has_more after {most} pages")


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(ROW, max_size=25),
    where=FILTERS,
    order=ORDERS,
    limit=st.sampled_from([1, 2, 5, 40]),
    budget=st.sampled_from([0, 900, 4000, 24_000]),
)
def test_pages_hold_every_row_exactly_once(paged, rows, where, order, limit, budget) -> None:
    url, kind, schema, engine, table = paged
    with engine.begin() as conn:
        conn.execute(table.delete())
        if rows:
            conn.execute(table.insert(), [_stored(kind, n, r) for n, r in enumerate(rows, 1)])
    expected = _expected(engine, table, where, order)
    args: dict[str, Any] = {"limit": limit, "order_by": [("-" if d else "") + c for c, d in order]}
    if where is not None:
        args["where"] = {where[0]: {where[1]: to_json(where[2])}}
    most = len(rows) + 2
    assert _page_through(url, schema, args, budget, "cursor", most) == expected
    assert _page_through(url, schema, args, budget, "offset", most) == expected


def _fill(paged: Any, rows: list[dict[str, Any]]) -> None:
    _, kind, _, engine, table = paged
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(
            table.insert(),
            [_stored(kind, n, {**SPARSE, **r}) for n, r in enumerate(rows, 1)],
        )


SPARSE = dict.fromkeys(["flag", "grp", "label", "amt", "mood", "uid", "at", "body", "doc", "raw"])


@pytest.mark.parametrize("by", ["cursor", "offset"])
def test_a_row_over_the_budget_is_cut_and_marked_never_skipped(paged, by) -> None:
    url, _, schema, _, _ = paged
    _fill(paged, [{}, {"body": 30_000, "doc": 3000}, {}])
    options = CallOptions(database_url=url, approved=True, result_budget=2000)
    first = call(schema, "list_t", {"limit": 5}, options, environ={})
    assert [r["id"] for r in first.data["rows"]] == [1] and first.data["has_more"]
    second = call(schema, "list_t", {"limit": 5, by: first.data[f"next_{by}"]}, options, environ={})
    assert second.ok and size(second.data) <= 2000
    [row] = second.data["rows"]
    assert row["id"] == 2 and second.data["has_more"]
    whole = (TEXT * (30_000 // len(TEXT) + 1))[:30_000]
    assert 0 < len(row["body"]) < 2000 and whole.startswith(row["body"])
    marks = {m["column"]: m for m in second.data["cut"]}
    assert marks["body"]["length"] == 30_000
    assert marks["body"]["left_out"] == 30_000 - len(row["body"])
    assert "doc" in marks and "id=2" in second.notes[-1] and "--full" in second.notes[-1]
    third = call(schema, "list_t", {"limit": 5, by: second.data[f"next_{by}"]}, options, environ={})
    assert [r["id"] for r in third.data["rows"]] == [3] and not third.data["has_more"]
    got = call(schema, "get_t", {"id": 2}, options, environ={})
    assert got.ok and isinstance(got.data, dict) and size(got.data) <= 2000
    assert got.data["id"] == 2 and whole.startswith(got.data["body"]) and got.data["body"]
    assert "body to" in got.notes[-1] and "--full" in got.notes[-1]
    full = call(
        schema, "get_t", {"id": 2}, CallOptions(database_url=url, result_budget=0), environ={}
    )
    assert full.ok and full.data["body"] == whole


@pytest.mark.parametrize("order", [["flag"], ["-flag"], ["mood", "-at"], ["-uid", "label"]])
def test_cursor_pages_past_page_one_with_booleans_enums_uuids_times_and_nulls(paged, order) -> None:
    url, _, schema, engine, table = paged
    values = [
        {"flag": f, "mood": m, "uid": u, "at": a, "label": label}
        for f, m, u, a, label in zip(
            [True, False, None] * 4,
            ["c", None, "a", "b"] * 3,
            [*UUIDS, None] * 3,
            [0, 1, None] * 4,
            ["b", "B", None, "a"] * 3,
            strict=True,
        )
    ]
    _fill(paged, values)
    parsed = [(c.lstrip("-"), c.startswith("-")) for c in order]
    expected = _expected(engine, table, None, parsed)
    got = _page_through(url, schema, {"limit": 2, "order_by": order}, 0, "cursor", 20)
    assert got == expected


@pytest.mark.parametrize("by", ["cursor", "offset"])
def test_pages_cut_to_the_budget_lose_no_row(paged, by) -> None:
    """The old cut: the list trimmed rows, then the envelope lost one or two more that the
    cursor had already passed (budgets in steps, so some fall on each boundary)."""
    url, _, schema, engine, table = paged
    _fill(paged, [{"body": 300 + n % 7, "grp": n % 3} for n in range(60)])
    expected = _expected(engine, table, None, [("id", True)])
    for budget in range(2000, 4000, 113):
        got = _page_through(url, schema, {"limit": 40, "order_by": ["-id"]}, budget, by, 60)
        assert got == expected, budget


# a primary key of each sortable type beside a boolean (as MLflow's metrics table has), per
# dialect: (DDL type, values of it in no particular order)
KEY_TYPES: dict[str, dict[str, tuple[str, list[Any]]]] = {
    "uuid": {
        "sqlite": ("VARCHAR(36)", [str(u) for u in UUIDS]),
        "postgresql": ("UUID", UUIDS),
        "mariadb": ("UUID", [str(u) for u in UUIDS]),
    },
    "binary": {
        "sqlite": ("BLOB", [b"\xff", b"\x00\x01", b"a", b""]),
        "postgresql": ("BYTEA", [b"\xff", b"\x00\x01", b"a", b""]),
        "mariadb": ("VARBINARY(8)", [b"\xff", b"\x00\x01", b"a", b""]),
    },
    "decimal": dict.fromkeys(
        ("sqlite", "postgresql", "mariadb"),
        ("NUMERIC(12,3)", [Decimal("-0.5"), Decimal("10.125"), Decimal("2"), Decimal("0.001")]),
    ),
    "timestamp": {
        "sqlite": ("DATETIME", [t.replace(tzinfo=None) for t in TIMES]),
        "postgresql": ("TIMESTAMP WITH TIME ZONE", [*TIMES, TIMES[0] + dt.timedelta(hours=1)]),
        "mariadb": ("DATETIME(6)", [t.replace(tzinfo=None) for t in TIMES]),
    },
    "enum": {
        "sqlite": ("VARCHAR(5)", ["c", "a", "b"]),
        "postgresql": ("mood", ["c", "a", "b"]),
        "mariadb": ("ENUM('b', 'a', 'c')", ["c", "a", "b"]),
    },
}


@pytest.mark.parametrize("key_type", sorted(KEY_TYPES))
def test_cursor_pages_a_key_of_every_sortable_type_beside_a_boolean(
    fresh_db, tmp_path, key_type
) -> None:
    kind = kind_of(fresh_db)
    type_, values = KEY_TYPES[key_type][kind]
    engine = sa.create_engine(fresh_db)
    with engine.begin() as conn:
        if kind == "postgresql":
            conn.exec_driver_sql("CREATE TYPE mood AS ENUM ('b', 'a', 'c')")
        conn.exec_driver_sql(
            f"CREATE TABLE k (a {type_} NOT NULL, b BOOLEAN NOT NULL, v INTEGER, "
            "PRIMARY KEY (a, b))"
        )
    table = sa.Table("k", sa.MetaData(), autoload_with=engine)
    rows = [
        {"a": a, "b": b, "v": None if n % 3 == 0 else n % 2}
        for n, (a, b) in enumerate((a, b) for a in values for b in (True, False))
    ]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    schema = sync_db(fresh_db, root=tmp_path).schema
    options = CallOptions(database_url=fresh_db, approved=True)
    for order in [[], ["-b"], ["v"], ["-v", "b"]]:
        parsed = [(c.lstrip("-"), c.startswith("-")) for c in order]
        parsed += [(c, False) for c in ("a", "b") if c not in [p for p, _ in parsed]]
        columns = [table.c[c].desc() if d else table.c[c].asc() for c, d in parsed]
        with engine.connect() as conn:
            expected = [(r.a, r.b) for r in conn.execute(sa.select(table).order_by(*columns)).all()]
        for limit in (1, 3):
            seen: list[tuple[Any, Any]] = []
            args: dict[str, Any] = {"limit": limit, "order_by": order}
            for _ in range(len(rows) + 2):
                page = call(schema, "list_k", args, options, environ={})
                assert page.ok, (order, page.error)
                seen += [(r["a"], r["b"]) for r in page.data["rows"]]
                if not page.data["has_more"]:
                    break
                args = {"limit": limit, "order_by": order, "cursor": page.data["next_cursor"]}
            want = [(to_json(a), b) for a, b in expected]
            assert seen == want, (key_type, order, limit)
    engine.dispose()
