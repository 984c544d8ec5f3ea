"""SQLite read from its schema table and pragma functions (``sync.db.sqlite``) gives exactly
what SQLAlchemy's inspector gives (``reflect(..., catalogue=False)``, the reference), and
``appctl sync --db`` writes the same schema.json and tools.json bytes either way."""

from __future__ import annotations

import re
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from appctl.sync.db import reflect as reflect_module
from appctl.sync.db import sqlite as sqlite_catalogue
from appctl.sync.db.reflect import Reflected, reflect
from tests import runner
from tests.conftest import REPO
from tests.db.test_sql_executor import DDL

# Every kind of column, default, key, constraint, relation and name the catalogue path reads.
ZOO = [
    """CREATE TABLE "Kitchen Sink" (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        i INT, ti TINYINT, si SMALLINT, mi MEDIUMINT, bi BIGINT, ubi UNSIGNED BIG INT,
        i2 INT2, i8 INT8, integer_ INTEGER,
        c CHARACTER(20), vc VARCHAR(255), vnc VARYING CHARACTER(255), nc NCHAR(55),
        nvc NATIVE CHARACTER(70), nv NVARCHAR(100), t TEXT, cl CLOB, lc "long varchar",
        b BLOB, untyped, r REAL, d DOUBLE, dp DOUBLE PRECISION, f FLOAT, fp FLOATING POINT,
        n NUMERIC, dec DECIMAL(10, 5), dec1 decimal(7), bo BOOLEAN, dt DATE, dtt DATETIME,
        ts TIMESTAMP, tm TIME, j JSON, weird "my own type", i5 INTEGER(5), vcx VARCHAR(10, 20),
        money MONEY, uuid_ UUID, x_ XYZINTQ, charint CHARINT, vcsp varchar ( 12 ),
        s_default TEXT DEFAULT 'it''s', n_default INT DEFAULT -1, f_default REAL DEFAULT 1.5e3,
        e_default TEXT DEFAULT (lower('X')), ct_default TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        null_default TEXT DEFAULT NULL, b_default BLOB DEFAULT x'00ff',
        nn TEXT NOT NULL, nn_default INT NOT NULL DEFAULT 0,
        "Weird Col" TEXT, "select" INT, "9lives" INT, "camelCase" TEXT, "x-y" TEXT,
        "quo""te" TEXT, "ünïcödé" TEXT, [bracket col] INT, `tick` INT, "order" TEXT,
        g INT GENERATED ALWAYS AS (i * 2) STORED, gv TEXT AS (t || 'x') VIRTUAL,
        gn INTEGER GENERATED ALWAYS AS (i + 1) NOT NULL,
        u1 INT UNIQUE, u2 TEXT CONSTRAINT named_u UNIQUE, "Odd Unique" TEXT UNIQUE,
        UNIQUE (si, mi), CONSTRAINT "quoted uq" UNIQUE (bi, "Weird Col"),
        CONSTRAINT plain_uq UNIQUE ("select"), UNIQUE (t COLLATE NOCASE), UNIQUE (i), UNIQUE (i)
    )""",
    "CREATE TABLE parent (a INT, b TEXT, c INT UNIQUE, PRIMARY KEY (b, a))",
    'CREATE TABLE "odd ""name"" tbl" ("the id" INTEGER PRIMARY KEY, "ünï" TEXT UNIQUE) STRICT',
    """create table child (
        id integer primary key,
        pa int, pb text,
        pc int references parent(c) on delete cascade,
        self_id int references child,
        sink_id int REFERENCES "Kitchen Sink" (id) ON UPDATE SET NULL,
        odd_ref int REFERENCES "odd ""name"" tbl" ("the id"),
        missing int REFERENCES nowhere (x),
        nowhere_pk int REFERENCES nowhere2,
        casey int REFERENCES PARENT,
        seq_ref text REFERENCES sqlite_sequence,
        CONSTRAINT fk_named FOREIGN KEY (pb, pa) REFERENCES parent (b, a)
            ON DELETE SET DEFAULT ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED,
        FOREIGN KEY (pa, pb) REFERENCES parent,
        CONSTRAINT "quoted fk" FOREIGN KEY (pc) REFERENCES parent (c) ON DELETE RESTRICT,
        FOREIGN KEY(pa) REFERENCES "Kitchen Sink"(id)
            ON DELETE NO ACTION
            ON UPDATE SET DEFAULT NOT DEFERRABLE,
        UNIQUE (pa, pb)
    )""",
    """CREATE TABLE pairs (
        k1 TEXT, k2 INT, k3 BLOB, v TEXT,
        PRIMARY KEY (k3, k1, k2), UNIQUE (v, k1)
    ) WITHOUT ROWID""",
    "CREATE TABLE strict_one (id INTEGER PRIMARY KEY, a ANY, b INT NOT NULL) STRICT",
    "CREATE TABLE pkuq (a TEXT PRIMARY KEY, b INT, UNIQUE (a), UNIQUE (b))",
    "CREATE TABLE nokey (a INT, b TEXT NOT NULL DEFAULT 'zz')",
    "CREATE TABLE bigkey (id BIGINT PRIMARY KEY, n INT)",
    "CREATE TABLE textkey (id TEXT PRIMARY KEY NOT NULL, n INT)",
    "CREATE TABLE intkey_desc (id INTEGER PRIMARY KEY DESC, n INT)",
    "CREATE TABLE ai (id INTEGER PRIMARY KEY AUTOINCREMENT, parent_b TEXT, parent_a INT, "
    "FOREIGN KEY (parent_b, parent_a) REFERENCES parent ON DELETE CASCADE)",
    'CREATE TABLE "group" ("where" INT PRIMARY KEY, "from" TEXT REFERENCES "group")',
    'CREATE TABLE "ünïcödé tåble" ("ключ" INTEGER PRIMARY KEY, "名前" TEXT NOT NULL UNIQUE)',
    "CREATE TABLE [bracketed table] ([a b] INT PRIMARY KEY, `c d` TEXT UNIQUE)",
    """CREATE TABLE commented (
        a INT, -- UNIQUE (b) in a comment
        b INT /* FOREIGN KEY (a) REFERENCES parent (c) */,
        c INT
    )""",
    "CREATE TABLE multi_fk (x INT, y INT, z INT, "
    "FOREIGN KEY (x) REFERENCES parent (c), FOREIGN KEY (x) REFERENCES parent (c), "
    "FOREIGN KEY (y, z) REFERENCES pairs (k3, k1))",
    'CREATE TABLE sink_ref (s INT REFERENCES "Kitchen Sink", t INT REFERENCES strict_one)',
    "CREATE TABLE Mixed_Case (Id INTEGER PRIMARY KEY, Value TEXT)",
    "CREATE INDEX ix_expr ON child (lower(pb))",
    "CREATE UNIQUE INDEX ux_partial ON child (pc) WHERE pc > 0",
    "CREATE UNIQUE INDEX ux_plain ON nokey (a, b)",
    'CREATE VIEW "sink view" AS SELECT id, t, "Weird Col", g FROM "Kitchen Sink"',
    "CREATE VIEW v_join AS SELECT c.id, p.a FROM child c JOIN parent p ON p.c = c.pc",
    "CREATE VIEW v_unique AS SELECT 'UNIQUE (x)' AS u, 'FOREIGN KEY (a) REFERENCES b (c)' AS f",
    "CREATE VIRTUAL TABLE docs USING fts5(title, body)",
    "CREATE VIRTUAL TABLE boxes USING rtree(id, min_x, max_x)",
    "INSERT INTO \"Kitchen Sink\" (nn, i) VALUES ('x', 1)",
    "ANALYZE",
]


def _make(path: Path, statements: list[str]) -> str:
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _make(tmp_path_factory.mktemp("zoo") / "zoo.db", ZOO)


@pytest.fixture
def attached(zoo: str, tmp_path: Path) -> Iterator[str]:
    """Every SQLite connection made meanwhile has the zoo attached as ``aux`` (and as
    ``odd "name" {x}``) beside a small main database."""
    main = _make(tmp_path / "main.db", ["CREATE TABLE here (id INTEGER PRIMARY KEY)"])
    path = zoo.removeprefix("sqlite:///")

    def attach(dbapi_conn: Any, _: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.execute("ATTACH DATABASE ? AS aux", (path,))
            dbapi_conn.execute("ATTACH DATABASE ? AS 'odd \"name\" {x}'", (path,))

    sa.event.listen(sa.pool.Pool, "connect", attach)
    try:
        yield main
    finally:
        sa.event.remove(sa.pool.Pool, "connect", attach)


def _both(url: str, **options: Any) -> tuple[Reflected, Reflected]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        fast = reflect(url, catalogue=True, **options)
        inspector = reflect(url, catalogue=False, **options)
    return fast, inspector


@pytest.fixture
def inspected(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the tables the catalogue path hands to the inspector (and a whole
    schema so handed over as "*")."""
    handed: list[str] = []
    inspect_tables = reflect_module._inspect_tables
    reflect_schema = reflect_module._reflect_schema

    def spy_tables(*args: Any, **kw: Any) -> Any:
        handed.extend(args[3])
        return inspect_tables(*args, **kw)

    def spy_schema(*args: Any, **kw: Any) -> Any:
        handed.append("*")
        return reflect_schema(*args, **kw)

    monkeypatch.setattr(reflect_module, "_inspect_tables", spy_tables)
    monkeypatch.setattr(reflect_module, "_reflect_schema", spy_schema)
    return handed


def _catalogue_only(url: str, handed: list[str], **options: Any) -> Reflected:
    """reflect() through the catalogue, checked to have read every table itself."""
    handed.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        fast = reflect(url, catalogue=True, **options)
    assert handed == []
    return fast


def _differences(fast: Reflected, inspector: Reflected) -> list[str]:
    out = (
        [f"dialect {fast.dialect} {inspector.dialect}"] if fast.dialect != inspector.dialect else []
    )
    if fast.skipped != inspector.skipped:
        out.append(f"skipped {fast.skipped} != {inspector.skipped}")
    mine = {t.qualified: t for t in fast.tables}
    theirs = {t.qualified: t for t in inspector.tables}
    if list(mine) != list(theirs):
        out.append(f"tables {list(mine)} != {list(theirs)}")
    out += [
        f"{n}:\n  {mine[n]}\n  {theirs[n]}" for n in mine if n in theirs and mine[n] != theirs[n]
    ]
    return out


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"schemas": ["main"]},
        {"include": ["*child*", "parent", "p*", "ü*"], "exclude": ["pkuq"]},
        {"include": ["main.k*", "sqlite_*", "docs*"]},
        {"exclude": ["*"]},
    ],
    ids=["default", "main", "include-exclude", "qualified", "nothing"],
)
def test_the_catalogue_reads_what_the_inspector_reads(
    zoo: str, inspected: list[str], options: dict[str, Any]
) -> None:
    fast = _catalogue_only(zoo, inspected, **options)
    inspector = reflect(zoo, catalogue=False, **options)
    assert _differences(fast, inspector) == []
    assert fast == inspector
    if options.get("exclude") != ["*"]:
        assert fast.tables


def test_the_zoo_is_what_it_means_to_be(zoo: str) -> None:
    """The zoo holds what the comparison is meant to cover (so the test above can fail)."""
    fast = reflect(zoo)
    tables = {t.name: t for t in fast.tables}
    assert "sqlite_sequence" not in tables and "sqlite_stat1" not in tables
    assert {"docs", "docs_data", "boxes", "sink view", 'odd "name" tbl'} <= set(tables)
    assert tables["sink view"].kind == "view"
    sink = tables["Kitchen Sink"]
    computed = {c.name for c in sink.columns if c.computed}
    assert computed == {"g", "gv", "gn"}
    assert sink.unique == sorted(
        [["Odd Unique"], ["bi", "Weird Col"], ["i"], ["select"], ["si", "mi"], ["u1"], ["u2"]]
    )
    assert tables["pairs"].primary_key == ["k3", "k1", "k2"]
    child = tables["child"]
    relations = [(r.columns, r.target_table, r.target_columns) for r in child.relations]
    assert (["pa", "pb"], "parent", ["b", "a"]) in relations  # by omission: parent's key
    assert (["casey"], "PARENT", []) in relations  # another spelling: no key found
    assert (["pb", "pa"], "parent", ["b", "a"]) in relations
    assert len([r for r in relations if r[0] == ["pc"]]) == 1  # inline and named: one
    assert child.unique == [["pa", "pb"]]
    assert len(tables["multi_fk"].relations) == 2  # the same key twice is one
    assert tables["ai"].relations[0].target_columns == ["b", "a"]


def test_attached_schemas_are_read_alike(attached: str, inspected: list[str]) -> None:
    for options in (
        {"schemas": ["aux"]},
        {"schemas": ["main", "aux"]},
        {"schemas": ['odd "name" {x}'], "include": ["*child*", "p*"]},
    ):
        fast = _catalogue_only(attached, inspected, **options)
        inspector = reflect(attached, catalogue=False, **options)
        assert _differences(fast, inspector) == []
        assert fast == inspector
        assert any(t.schema_name == options["schemas"][-1] for t in fast.tables)


@pytest.mark.parametrize(
    "url",
    [f"sqlite:///{REPO / 'examples' / 'chinook.db'}", "ddl"],
    ids=["chinook", "executor-ddl"],
)
def test_the_catalogue_reads_the_bundled_databases(
    url: str, tmp_path: Path, inspected: list[str]
) -> None:
    if url == "ddl":
        url = _make(tmp_path / "ddl.db", DDL["sqlite"])
    fast = _catalogue_only(url, inspected)
    inspector = reflect(url, catalogue=False)
    assert _differences(fast, inspector) == []
    assert fast == inspector and fast.tables


def _sync(url: str, app_dir: Path, monkeypatch: pytest.MonkeyPatch, *, catalogue: bool) -> None:
    from appctl.cli.main import cli
    from appctl.sync.db import api

    def reflect_so(*args: Any, **kw: Any) -> Reflected:
        return reflect(*args, **kw, catalogue=catalogue)

    with monkeypatch.context() as patch:
        patch.setattr(api, "reflect", reflect_so)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            result = CliRunner().invoke(
                cli,
                ["--app-dir", str(app_dir), "sync", "--tools", "--db", url],
                catch_exceptions=False,
            )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("which", ["zoo", "chinook"])
def test_sync_writes_the_same_bytes_either_way(
    which: str, zoo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = zoo if which == "zoo" else f"sqlite:///{REPO / 'examples' / 'chinook.db'}"
    _sync(url, tmp_path / "fast" / ".appctl", monkeypatch, catalogue=True)
    _sync(url, tmp_path / "slow" / ".appctl", monkeypatch, catalogue=False)
    for name in ("schema.json", "tools.json"):
        fast = (tmp_path / "fast" / ".appctl" / name).read_bytes()
        slow = (tmp_path / "slow" / ".appctl" / name).read_bytes()
        assert fast == slow, name
    schema = (tmp_path / "fast" / ".appctl" / "schema.json").read_bytes()
    assert (b'"Kitchen Sink"' if which == "zoo" else b'"invoice_line"') in schema


def test_a_generated_column_the_parser_refuses_goes_to_the_inspector(
    zoo: str, inspected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_catalogue, "_CREATE_TABLE", re.compile(r"(?!)"))
    fast, inspector = _both(zoo)
    assert fast == inspector
    handed = inspected[: inspected.index("*")]  # the catalogue's run, then the inspector's
    assert handed == ["Kitchen Sink", "sink_ref"]  # and what refers to its key by omission


def test_a_query_the_database_refuses_hands_the_schema_to_the_inspector(
    zoo: str, inspected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_catalogue, "_INDEXES", "SELECT no_such_column FROM sqlite_master")
    fast, inspector = _both(zoo)
    assert fast == inspector
    assert inspected[0] == "*" and inspected.count("*") == 2  # both runs: the inspector


def test_a_broken_view_is_left_out_with_a_warning_on_both_paths(tmp_path: Path) -> None:
    url = _make(
        tmp_path / "broken.db",
        [
            "CREATE TABLE t (a INT)",
            "CREATE TABLE kept (id INTEGER PRIMARY KEY)",
            "CREATE VIEW v AS SELECT a FROM t",
            "CREATE VIEW [odd*view] AS SELECT a FROM t",
            "CREATE VIEW fine AS SELECT id FROM kept",
            "DROP TABLE t",
        ],
    )
    fast, inspector = reflect(url, catalogue=True), reflect(url, catalogue=False)
    assert fast == inspector
    assert [t.name for t in fast.tables] == ["fine", "kept"] and fast.skipped == []
    assert fast.notes == (
        "view odd*view cannot be read (no such table: main.t): left out",
        "view v cannot be read (no such table: main.t): left out",
    )
    excluded = reflect(url, exclude=["v", "odd*"])
    assert excluded.notes == () and sorted(excluded.skipped) == ["odd*view", "v"]


def test_a_damaged_file_is_a_source_error_that_says_so(tmp_path: Path) -> None:
    from appctl.errors import SourceError

    url = _make(tmp_path / "damaged.db", ["CREATE TABLE t (id INTEGER PRIMARY KEY)"])
    path = tmp_path / "damaged.db"
    data = bytearray(path.read_bytes())
    data[100:200] = b"\xff" * 100  # the first page's b-tree header
    path.write_bytes(bytes(data))
    for catalogue in (True, False):
        with pytest.raises(SourceError, match="malformed") as raised:
            reflect(url, catalogue=catalogue)
        assert "refused to describe itself" in raised.value.message
        assert "integrity_check" in raised.value.suggestion


def test_many_tables_take_a_handful_of_queries(tmp_path: Path) -> None:
    statements = [
        f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name VARCHAR(20) UNIQUE, "
        f"prev INT REFERENCES t{max(i - 1, 0)} (id))"
        for i in range(300)
    ]
    url = _make(tmp_path / "many.db", statements)
    seen: list[str] = []
    engine_connect: Callable[..., Any] = sa.engine.Engine.connect

    def counting(self: Any) -> Any:
        conn = engine_connect(self)
        raw = conn.connection.driver_connection
        raw.set_trace_callback(lambda sql: sql.startswith("--") or seen.append(sql))
        return conn

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sa.engine.Engine, "connect", counting)
        fast = reflect(url)
        queries = len(seen)
        inspector = reflect(url, catalogue=False)
    assert fast == inspector and len(fast.tables) == 300
    assert queries <= 8, seen[:20]
    assert len(seen) - queries > 300 * 4  # the inspector asks per table


def test_names_asked_for_in_chunks_are_read_alike(
    zoo: str, inspected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_catalogue, "_CHUNK", 2)
    for options in (
        {"include": ["*child*", "p*", "ü*", "a*", "s*"]},
        {"exclude": ["sink view", "v_*"]},  # every table, not every view
    ):
        fast = _catalogue_only(zoo, inspected, **options)
        inspector = reflect(zoo, catalogue=False, **options)
        assert _differences(fast, inspector) == []
        assert fast == inspector


def test_the_catalogue_warns_as_the_inspector_warns(zoo: str) -> None:
    said: list[tuple[str, ...]] = []
    for catalogue in (True, False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            said.append(reflect(zoo, catalogue=catalogue).notes)
        assert [str(w.message) for w in caught] == []  # notes, not Python warnings
    assert said[0] == said[1]
    assert any("expression-based index ix_expr" in s for s in said[0])
    assert any(s.startswith("SQL-parsed foreign key constraint") for s in said[0])


def test_what_sqlalchemy_warns_of_is_a_sync_warning(tmp_path: Path) -> None:
    db = tmp_path / "odd.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT(5));"
            "CREATE INDEX ix_lower ON t (lower(a));"
        )
    done = runner.appctl("sync", "--db", f"sqlite:///{db}", cwd=tmp_path, timeout=60)
    assert "SAWarning" not in done.stderr and "Traceback" not in done.stderr
    said = done.stdout + done.stderr
    assert "warning: while reading the database: Skipped unsupported reflection of" in said
    assert "2 warnings" in said
