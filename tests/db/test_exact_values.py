"""Every value read and written exactly, on SQLite, PostgreSQL and MariaDB: NaN and
±Infinity as strings (not null), decimals as exact strings, JSON null apart from SQL NULL,
PostgreSQL enum arrays and multi-dimensional arrays, enum values added since sync (text with
a drift note), and SQLite's values of another type than declared, or not UTF-8 (returned as
they are, with a note naming row and column). Each result is checked against the tool's
output schema, as an MCP client would."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa

from appctl.contract.models import Contract
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.generate.formats.mcp import output_schema
from appctl.sync.db.api import sync_db
from tests.db.test_sql_executor import kind_of, run_ddl

FLOATS = {
    "sqlite": "CREATE TABLE v (id INTEGER PRIMARY KEY, f REAL, d NUMERIC(10, 2), "
    "n NUMERIC, j JSON)",
    "postgresql": "CREATE TABLE v (id SERIAL PRIMARY KEY, f DOUBLE PRECISION, "
    "d NUMERIC(10, 2), n NUMERIC, j JSONB)",
    "mariadb": "CREATE TABLE v (id INTEGER AUTO_INCREMENT PRIMARY KEY, f DOUBLE, "
    "d DECIMAL(10, 2), n DECIMAL(40, 20), j JSON)",
}

Db = tuple[str, str, Contract]


def _sync(url: str, tmp_path: Path, ddl: list[str]) -> Db:
    run_ddl(url, ddl)
    return url, kind_of(url), sync_db(url, root=tmp_path).schema


def _call(db: Db, tool: str, args: dict[str, Any], *, check: bool = True) -> ToolResult:
    url, _, schema = db
    result = call(schema, tool, args, CallOptions(database_url=url, approved=True), environ={})
    if result.ok and check:
        _check_output(db, tool, result)
    return result


def _check_output(db: Db, tool: str, result: ToolResult) -> None:
    """The result validates against the tool's outputSchema (what MCP clients check)."""
    schema = db[2]
    action, resource = schema.action(tool), schema.resource_of(tool)
    assert action is not None and resource is not None
    shape = output_schema(action, resource.table)
    assert shape is not None
    jsonschema.validate(result.model_dump(mode="json", exclude_none=True), shape)


def _sql(url: str, statement: str, **params: Any) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            found = conn.execute(sa.text(statement), params)
            return list(found.all()) if found.returns_rows else []
    finally:
        engine.dispose()


@pytest.fixture
def floats(fresh_db: str, tmp_path: Path) -> Db:
    return _sync(fresh_db, tmp_path, [FLOATS[kind_of(fresh_db)]])


STORES = {
    "postgresql": ("NaN", "Infinity", "-Infinity"),
    "sqlite": ("Infinity", "-Infinity"),
    "mariadb": (),
}


def test_nan_and_infinity_are_strings_distinct_from_null(floats: Db) -> None:
    url, kind, _ = floats
    for text in ("NaN", "Infinity", "-Infinity"):
        created = _call(floats, "create_v", {"f": text})
        if text not in STORES[kind]:
            assert not created.ok and created.error is not None
            assert created.error.category == ErrorCategory.VALIDATION
            assert text in created.error.message and "cannot be stored" in created.error.message
            continue
        assert created.ok, created.error
        assert created.data["f"] == text
        got = _call(floats, "get_v", {"id": created.data["id"]})
        assert got.data["f"] == text
        stored = _sql(url, "SELECT f FROM v WHERE id = :i", i=created.data["id"])[0][0]
        assert math.isnan(stored) if text == "NaN" else stored == float(text.lower())
    _call(floats, "create_v", {"f": None})
    nulls = _call(floats, "list_v", {"where": {"f": {"is_null": True}}})
    assert [r["f"] for r in nulls.data["rows"]] == [None]  # a NaN is never shown as null
    if "Infinity" in STORES[kind]:
        found = _call(floats, "list_v", {"where": {"f": {"eq": "Infinity"}}})
        assert [r["f"] for r in found.data["rows"]] == ["Infinity"]
    bad = _call(floats, "create_v", {"f": "nan"})
    assert not bad.ok and bad.error is not None
    assert bad.error.category == ErrorCategory.VALIDATION


def test_the_float_schema_documents_the_strings(floats: Db) -> None:
    schema = floats[2]
    resource = schema.resource_of("get_v")
    assert resource is not None and resource.table is not None
    column = resource.table.column("f")
    assert column is not None
    for value in (1.5, -0.0, "NaN", "Infinity", "-Infinity"):
        jsonschema.validate(value, column.schema_)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("nan", column.schema_)


EXACT = ["99999999.99", "0.01", "-12345678.90", "0.00", "1.50"]


def test_decimals_are_exact_strings(floats: Db) -> None:
    for text in EXACT:
        created = _call(floats, "create_v", {"d": text})
        assert created.ok, created.error
        got = _call(floats, "get_v", {"id": created.data["id"]})
        assert got.data["d"] == text
    # unconstrained: the digits as given, however small or large
    for text in ("0.00000000000123", "99999999.999", "123456789012345678", "1.005"):
        created = _call(floats, "create_v", {"n": text})
        assert created.ok, created.error
        got = _call(floats, "get_v", {"id": created.data["id"]})
        assert Decimal(got.data["n"]) == Decimal(text), (text, got.data["n"])
        assert "E" not in got.data["n"] and "e" not in got.data["n"]


def test_postgresql_numeric_nan_and_infinity_match_the_schema(floats: Db) -> None:
    """PostgreSQL's NUMERIC holds NaN (constrained or not) and ±Infinity (unconstrained):
    written, read and validated as those strings; other dialects' schemas refuse them."""
    url, kind, schema = floats
    resource = schema.resource_of("get_v")
    assert resource is not None and resource.table is not None
    column = resource.table.column("d")
    assert column is not None
    if kind != "postgresql":
        for text in ("NaN", "Infinity", "-Infinity"):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(text, column.schema_)
        return
    created = [_call(floats, "create_v", {"d": "NaN", "n": "NaN"})]
    created += [_call(floats, "create_v", {"n": t}) for t in ("Infinity", "-Infinity")]
    assert all(r.ok for r in created), [r.error for r in created]
    assert [(r.data["d"], r.data["n"]) for r in created] == [
        ("NaN", "NaN"),
        (None, "Infinity"),
        (None, "-Infinity"),
    ]
    _sql(url, "INSERT INTO v (d, n) VALUES ('NaN', 'NaN')")
    listed = _call(floats, "list_v", {})  # validated against the output schema
    assert [r["d"] for r in listed.data["rows"]] == ["NaN", None, None, "NaN"]
    for r in created:
        assert _call(floats, "get_v", {"id": r.data["id"]}).data == r.data
    refused = _call(floats, "create_v", {"d": "Infinity"})  # NUMERIC(10, 2) cannot hold it
    assert not refused.ok and refused.error is not None
    assert refused.error.category == ErrorCategory.VALIDATION
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("nan", column.schema_)


def test_sqlite_decimals_written_elsewhere_read_exactly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    db = _sync(url, tmp_path, [FLOATS["sqlite"]])
    for i, text in enumerate(("1.23e-12", "99999999.999", "1.005", "7"), start=1):
        _sql(url, "INSERT INTO v (id, d) VALUES (:i, :d)", i=i, d=text)
    rows = _call(db, "list_v", {}).data["rows"]
    assert [r["d"] for r in rows] == ["0.00000000000123", "99999999.999", "1.005", "7.00"]


def test_sqlite_large_decimals_read_whole_past_28_digits(tmp_path: Path) -> None:
    """A 29-digit integer SQLite keeps as the REAL 1.5625e+28 (its shortest text is exact):
    read as the whole number, padded to the column's scale, not as a float with a note
    (found by test_exact_values_fuzz: padding ran past the default 28 digits of precision)."""
    url = f"sqlite:///{tmp_path / 'd.db'}"
    db = _sync(url, tmp_path, [FLOATS["sqlite"]])
    made = _call(db, "create_v", {"n": "15625000000000000000000000000"})
    assert made.ok and made.data["n"] == "15625000000000000000000000000", made
    _sql(url, "INSERT INTO v (id, d) VALUES (2, 1.5625e28)")
    listed = _call(db, "list_v", {})
    assert [r["d"] for r in listed.data["rows"]][1] == "15625000000000000000000000000.00"
    assert listed.notes == []


def test_sqlite_refuses_a_decimal_it_would_round(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    db = _sync(url, tmp_path, [FLOATS["sqlite"]])
    refused = _call(db, "create_v", {"n": "1234567890.123456789"})
    assert not refused.ok and refused.error is not None
    assert refused.error.category == ErrorCategory.VALIDATION
    assert "cannot be stored exactly" in refused.error.message
    assert _sql(url, "SELECT count(*) FROM v") == [(0,)]
    kept = _call(db, "create_v", {"n": "12345678901234567"})  # an integer: stored as one
    assert kept.ok and kept.data["n"] == "12345678901234567"
    assert _sql(url, "SELECT typeof(n), n FROM v") == [("integer", 12345678901234567)]


def test_json_null_is_not_sql_null(floats: Db) -> None:
    url, kind, schema = floats
    resource = schema.resource_of("create_v")
    assert resource is not None and resource.table is not None
    column = resource.table.column("j")
    if column is None or column.kind != "json":
        pytest.skip(f"{kind}'s JSON column is synced as text")
    sql_null = _call(floats, "create_v", {"j": None})
    json_null = _call(floats, "create_v", {"j": {"$json": None}})
    wrapped = _call(floats, "create_v", {"j": {"$json": {"$json": 1}}})
    plain = _call(floats, "create_v", {"j": {"a": None}})
    assert all(r.ok for r in (sql_null, json_null, wrapped, plain))
    assert sql_null.data["j"] is None
    assert json_null.data["j"] == {"$json": None}
    assert wrapped.data["j"] == {"$json": {"$json": 1}}
    assert plain.data["j"] == {"a": None}
    stored = dict(_sql(url, "SELECT id, j FROM v"))
    assert stored[sql_null.data["id"]] is None
    nulls = _call(floats, "list_v", {"where": {"j": {"is_null": True}}})
    assert [r["id"] for r in nulls.data["rows"]] == [sql_null.data["id"]]
    listed = {r["id"]: r["j"] for r in _call(floats, "list_v", {}).data["rows"]}
    assert listed[json_null.data["id"]] == {"$json": None}
    assert listed[wrapped.data["id"]] == {"$json": {"$json": 1}}
    # a JSON null is SQL-distinct: the database's own IS NULL agrees
    count = _sql(url, "SELECT count(*) FROM v WHERE j IS NULL")[0][0]
    assert count == 1
    create = schema.action("create_v")
    assert create is not None
    field = next(f for f in create.parameters if f.name == "j")
    assert '{"$json": null}' in str(field.schema_.get("description"))


def _postgresql(fresh_db: str) -> None:
    if kind_of(fresh_db) != "postgresql":
        pytest.skip("PostgreSQL types")


PG_TYPES = [
    "CREATE TYPE mood AS ENUM ('ok', 'sad')",
    "CREATE TABLE a (id SERIAL PRIMARY KEY, m mood, ms mood[], ii INTEGER[][], "
    "tt TEXT[][], ff DOUBLE PRECISION[], dd DATE[][])",
]


def test_postgresql_enum_arrays_and_multidimensional_arrays(fresh_db: str, tmp_path: Path):
    _postgresql(fresh_db)
    db = _sync(fresh_db, tmp_path, PG_TYPES)
    _sql(
        fresh_db,
        "INSERT INTO a (m, ms, ii, tt) VALUES ('ok', '{ok,sad}', "
        "'{{1,2},{3,4}}', '{{a,\"b c\"},{NULL,d}}')",
    )
    # (not checked against the output schema: sync records int[][] as int[] for now)
    rows = _call(db, "list_a", {}, check=False).data["rows"]
    assert rows == [
        {
            "id": 1,
            "m": "ok",
            "ms": ["ok", "sad"],
            "ii": [[1, 2], [3, 4]],
            "tt": [["a", "b c"], [None, "d"]],
            "ff": None,
            "dd": None,
        }
    ]
    created = _call(db, "create_a", {"ms": ["sad", "ok", "sad"], "ff": [1.5, "NaN", "-Infinity"]})
    assert created.ok, created.error
    assert created.data["ms"] == ["sad", "ok", "sad"]
    assert created.data["ff"] == [1.5, "NaN", "-Infinity"]
    assert _sql(fresh_db, "SELECT ms::text FROM a WHERE id = 2") == [("{sad,ok,sad}",)]
    got = _call(db, "get_a", {"id": 2})
    assert got.data == created.data
    updated = _call(db, "update_a", {"id": 2, "ms": []})
    assert updated.ok and updated.data["ms"] == []


def test_postgresql_multidimensional_arrays_are_written_nested(fresh_db: str, tmp_path: Path):
    """Below the argument schema (whose nesting depth sync records): the value path."""
    _postgresql(fresh_db)
    from appctl.execute.sql import plan as sqlplan
    from appctl.execute.sql import run as sql

    _, _, schema = _sync(fresh_db, tmp_path, PG_TYPES)
    action, resource = schema.action("create_a"), schema.resource_of("create_a")
    assert action is not None and resource is not None and resource.table is not None
    args = {
        "ii": [[1, 2], [3, 4]],
        "tt": [["x", None], ["y", "z"]],
        "dd": [["2024-02-29", "1999-12-31"], ["2000-01-01", None]],
    }
    plan = sqlplan.plan(action, resource.table, args)
    result = sql.run(plan, fresh_db, timeout=10, budget=0)
    assert result.ok, result.error
    assert result.data["ii"] == [[1, 2], [3, 4]] and result.data["tt"] == args["tt"]
    assert result.data["dd"] == args["dd"]
    assert _sql(fresh_db, "SELECT ii::text, array_ndims(tt) FROM a") == [("{{1,2},{3,4}}", 2)]


def test_an_enum_value_added_after_sync_is_text_with_a_drift_note(fresh_db: str, tmp_path: Path):
    kind = kind_of(fresh_db)
    if kind == "sqlite":
        pytest.skip("SQLite has no enum type")
    if kind == "postgresql":
        db = _sync(fresh_db, tmp_path, PG_TYPES)
        run_ddl(fresh_db, ["ALTER TYPE mood ADD VALUE 'new'"])
        _sql(fresh_db, "INSERT INTO a (m, ms) VALUES ('new', '{ok,new}')")
    else:
        db = _sync(
            fresh_db,
            tmp_path,
            ["CREATE TABLE a (id INTEGER AUTO_INCREMENT PRIMARY KEY, m ENUM('ok', 'sad'))"],
        )
        run_ddl(fresh_db, ["ALTER TABLE a MODIFY m ENUM('ok', 'sad', 'new')"])
        _sql(fresh_db, "INSERT INTO a (m) VALUES ('new')")
    _sql(fresh_db, "INSERT INTO a (m) VALUES ('ok')")
    listed = _call(db, "list_a", {})
    assert listed.ok, listed.error
    assert [r["m"] for r in listed.data["rows"]] == ["new", "ok"]
    assert any(
        "column m of row(s) id=1" in n and "'new'" in n and "sync --db" in n for n in listed.notes
    ), listed.notes
    if kind == "postgresql":
        assert listed.data["rows"][0]["ms"] == ["ok", "new"]
        assert any("column ms" in n for n in listed.notes)
    got = _call(db, "get_a", {"id": 1})
    assert got.ok and got.data["m"] == "new" and got.notes
    clean = _call(db, "get_a", {"id": 2})
    assert clean.ok and clean.notes == []


SQLITE_LOOSE = (
    "CREATE TABLE d (id INTEGER PRIMARY KEY, n INTEGER, r REAL, at DATETIME, day DATE, "
    "s VARCHAR(5), b BLOB, flag BOOLEAN, p NUMERIC(10, 2), j JSON)"
)


def test_sqlite_values_of_another_type_are_returned_as_they_are(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dirty.db'}"
    db = _sync(url, tmp_path, [SQLITE_LOOSE, "INSERT INTO d (id, n) VALUES (1, 5)"])
    _sql(
        url,
        "INSERT INTO d VALUES (2, 'abc', 'x', 'not a date', '2024-13-45', "
        "x'00ff', 'text in a blob', 2, 'lots', '{bad json')",
    )
    _sql(url, "INSERT INTO d (id, s, n, at) VALUES (3, :s, 2.5, 1700000000)", s=b"\x00\x01")
    _sql(url, "INSERT INTO d (id, s) VALUES (4, 'much longer than five')")
    listed = _call(db, "list_d", {})
    assert listed.ok, listed.error
    rows = {r["id"]: r for r in listed.data["rows"]}
    assert rows[1]["n"] == 5 and rows[1]["at"] is None
    assert rows[2] == {
        "id": 2,
        "n": "abc",
        "r": "x",
        "at": "not a date",
        "day": "2024-13-45",
        "s": "AP8=",
        "b": "text in a blob",
        "flag": 2,
        "p": "lots",
        "j": "{bad json",
    }
    assert rows[3]["s"] == "AAE=" and rows[3]["n"] == 2.5 and rows[3]["at"] == 1700000000
    assert rows[4]["s"] == "much longer than five"
    notes = "\n".join(listed.notes)
    for column in ("n", "r", "at", "day", "s", "b", "flag", "p", "j"):
        assert (
            f"column {column} of row(s) id=2" in notes or f"column {column} of row(s) id=3" in notes
        ), column
    assert "column n of row(s) id=2: holds TEXT in a column declared INTEGER" in notes
    assert "column n of row(s) id=3: holds a REAL in a column declared INTEGER" in notes
    got = _call(db, "get_d", {"id": 2})
    assert got.ok and got.data == rows[2] and len(got.notes) == 9


def test_sqlite_text_that_is_not_utf8_is_replaced_with_a_note(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'latin.db'}"
    db = _sync(url, tmp_path, ["CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, j TEXT)"])
    _sql(url, "INSERT INTO t VALUES (1, CAST(x'63616680e9' AS TEXT), 'fine')")
    _sql(url, "INSERT INTO t VALUES (2, 'ok', 'ok')")
    listed = _call(db, "list_t", {})
    assert listed.ok, listed.error
    assert [r["s"] for r in listed.data["rows"]] == ["caf\ufffd\ufffd", "ok"]
    assert len(listed.notes) == 1 and "column s of row(s) id=1" in listed.notes[0]
    assert "UTF-8" in listed.notes[0]
    got = _call(db, "get_t", {"id": 1})
    assert got.ok and got.data["s"] == "caf\ufffd\ufffd" and got.notes


MARIADB_TIMES = ["838:59:59", "-838:59:59", "-01:30:00", "00:00:00", "23:59:59", "100:00:01"]


def test_mariadb_time_outside_a_day_is_exact(fresh_db: str, tmp_path: Path) -> None:
    """MariaDB TIME is a duration (-838:59:59 to 838:59:59): read, written, filtered and
    cursor-paged as its text, every result valid against the output schema."""
    if kind_of(fresh_db) != "mariadb":
        pytest.skip("MariaDB's TIME")
    db = _sync(
        fresh_db,
        tmp_path,
        ["CREATE TABLE tm (id INTEGER AUTO_INCREMENT PRIMARY KEY, t TIME, t3 TIME(3))"],
    )
    for text in MARIADB_TIMES:
        _sql(fresh_db, "INSERT INTO tm (t) VALUES (:t)", t=text)
    _sql(fresh_db, "INSERT INTO tm (t3) VALUES ('-00:30:00.5'), ('838:59:59.999')")
    rows = _call(db, "list_tm", {}).data["rows"]
    assert [r["t"] for r in rows] == [*MARIADB_TIMES, None, None]
    assert [r["t3"] for r in rows[-2:]] == ["-00:30:00.500000", "838:59:59.999000"]
    created = _call(db, "create_tm", {"t": "-12:00:01", "t3": "-800:00:00.125"})
    assert created.ok, created.error
    assert (created.data["t"], created.data["t3"]) == ("-12:00:01", "-800:00:00.125000")
    stored = _sql(fresh_db, "SELECT CAST(t3 AS CHAR) FROM tm WHERE id = :i", i=created.data["id"])
    assert stored == [("-800:00:00.125",)]
    assert _call(db, "get_tm", {"id": created.data["id"]}).data == created.data
    over = _call(db, "list_tm", {"where": {"t": {"gt": "99:00:00"}}}).data["rows"]
    assert [r["t"] for r in over] == ["838:59:59", "100:00:01"]
    seen: list[str | None] = []
    args: dict[str, Any] = {"order_by": ["t"], "limit": 2}
    for _ in range(len(rows) + 2):  # cursor paging through the times, lowest first
        page = _call(db, "list_tm", args).data
        seen += [r["t"] for r in page["rows"]]
        if not page["has_more"]:
            break
        args = {**args, "cursor": page["next_cursor"]}
    expected = sorted([*MARIADB_TIMES, "-12:00:01"], key=_seconds)
    assert [t for t in seen if t is not None] == expected and len(seen) == len(rows) + 1
    refused = _call(db, "create_tm", {"t": "839:00:00"})
    assert not refused.ok and refused.error is not None
    assert refused.error.category == ErrorCategory.VALIDATION
    fraction = _call(db, "create_tm", {"t": "01:00:00.5"})  # TIME(0) keeps no fraction
    assert not fraction.ok


def _seconds(text: str) -> float:
    sign = -1 if text.startswith("-") else 1
    h, m, s = text.lstrip("-").split(":")
    return sign * (int(h) * 3600 + int(m) * 60 + float(s))


PG_EDGES = [
    ("infinity", "infinity", "infinity", "24:00:00", "24:00:00+00"),
    ("-infinity", "-infinity", "-infinity", "00:00:00", "24:00:00-03:30"),
    ("2024-02-29", "2024-02-29 13:45:30.5", "2024-02-29 13:45:30+00", "23:59:59.999999", None),
]


def test_postgresql_infinite_dates_and_24_00_are_text(fresh_db: str, tmp_path: Path) -> None:
    """PostgreSQL's infinity/-infinity dates and timestamps and its time 24:00:00, which
    Python cannot hold: returned as that text (never failing the page), written, filtered and
    cursor-paged, every result valid against the output schema."""
    _postgresql(fresh_db)
    db = _sync(
        fresh_db,
        tmp_path,
        [
            "CREATE TABLE w (id SERIAL PRIMARY KEY, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ, "
            "t TIME, ttz TIMETZ)"
        ],
    )
    for row in PG_EDGES:
        _sql(
            fresh_db,
            "INSERT INTO w (d, ts, tz, t, ttz) VALUES (:d, :ts, :tz, :t, :ttz)",
            **dict(zip(("d", "ts", "tz", "t", "ttz"), row, strict=True)),
        )
    rows = _call(db, "list_w", {}).data["rows"]
    assert [(r["d"], r["ts"], r["tz"], r["t"], r["ttz"]) for r in rows[:2]] == PG_EDGES[:2]
    assert (rows[2]["d"], rows[2]["ts"], rows[2]["t"]) == (
        "2024-02-29",
        "2024-02-29T13:45:30.500000",
        "23:59:59.999999",
    )
    created = _call(
        db, "create_w", {"d": "-infinity", "ts": "infinity", "tz": "-infinity", "t": "24:00:00"}
    )
    assert created.ok, created.error
    assert [created.data[c] for c in ("d", "ts", "tz", "t")] == [
        "-infinity",
        "infinity",
        "-infinity",
        "24:00:00",
    ]
    assert _call(db, "get_w", {"id": created.data["id"]}).data == created.data
    stored = _sql(fresh_db, "SELECT d::text, t::text FROM w WHERE id = :i", i=created.data["id"])
    assert stored == [("-infinity", "24:00:00")]
    late = _call(db, "list_w", {"where": {"d": {"gt": "2024-03-01"}}}).data["rows"]
    assert [r["d"] for r in late] == ["infinity"]
    noon = _call(db, "list_w", {"where": {"t": {"eq": "24:00:00"}}}).data["rows"]
    assert [r["id"] for r in noon] == [1, created.data["id"]]
    seen: list[Any] = []
    args: dict[str, Any] = {"order_by": ["d"], "limit": 1}
    for _ in range(6):
        page = _call(db, "list_w", args).data
        seen += [r["d"] for r in page["rows"]]
        if not page["has_more"]:
            break
        args = {**args, "cursor": page["next_cursor"]}
    assert seen == ["-infinity", "-infinity", "2024-02-29", "infinity"]
    refused = _call(db, "create_w", {"d": "Infinity"})  # the schema admits exactly the text
    assert not refused.ok and refused.error is not None
    assert refused.error.category == ErrorCategory.VALIDATION
