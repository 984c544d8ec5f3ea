"""A SQL list's ``next_cursor`` is a signed continuation (execute/continuation.py), on SQLite,
PostgreSQL and MariaDB: a tampered, truncated, expired, foreign or forged cursor, or one
given with other arguments or to another tool, is a ``validation`` error that says how to
restart, found before any I/O (no connection is taken from the pool, and a database that
cannot be reached still answers with the cursor error); a valid one resumes exactly where
its page ended, through ties, NULLs and every sortable type, under several orders (the pages
joined equal a direct ``SELECT ... ORDER BY``). Expiry is tested with an injected clock."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from appctl.contract.models import Contract
from appctl.execute.continuation import Sealer
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.execute.sql.plan import to_json
from appctl.execute.sql.run import engine_for
from appctl.sync.db.api import sync_db
from tests import runner

KEY = b"k" * 32
COMMON = (
    "id INTEGER PRIMARY KEY, grp INTEGER, label VARCHAR(20), amt NUMERIC(6, 2), day DATE, "
    "tm TIME, flag BOOLEAN, ratio {real}, uid {uuid}, mood {enum}, at {at}"
)
TYPES = {
    "sqlite": {"real": "REAL", "uuid": "VARCHAR(36)", "enum": "VARCHAR(5)", "at": "DATETIME"},
    "postgresql": {
        "real": "DOUBLE PRECISION",
        "uuid": "UUID",
        "enum": "mood",
        "at": "TIMESTAMP WITH TIME ZONE",
    },
    "mariadb": {
        "real": "DOUBLE",
        "uuid": "UUID",
        "enum": "ENUM('b', 'a', 'c')",
        "at": "DATETIME(6)",
    },
}
ZONE = dt.timezone(dt.timedelta(hours=-3))
POOLS: dict[str, list[Any]] = {
    "grp": [3, 1, None, 2, 1],
    "label": ["b", "a", None, "B", "a", "c"],
    "amt": [Decimal("2.00"), Decimal("-0.50"), None, Decimal("10.10")],
    "day": [dt.date(2024, 2, 29), None, dt.date(1999, 12, 31)],
    "tm": [dt.time(23, 59, 59), dt.time(0, 0), None, dt.time(12, 30, 15, 250000)],
    "flag": [True, None, False],
    "ratio": [0.5, -1.25, None, 1e-3],
    "uid": [uuid.UUID(int=n * 0x1000_0000_0000_0001) for n in (3, 1)] + [None],
    "mood": ["c", None, "a", "b"],
    "at": [dt.datetime(2024, 3, 1, 9, 0, 0, 123456, tzinfo=ZONE), None, dt.datetime(2023, 1, 1)],
}
SPANS = [dt.timedelta(days=1, hours=2), None, dt.timedelta(seconds=-30), dt.timedelta(0)]
ROWS = 31
ORDERS = [
    [],
    ["grp"],
    ["-label", "amt"],
    ["day", "-tm"],
    ["-flag", "uid"],
    ["mood", "-ratio"],
    ["-at", "grp"],
    ["-grp", "-day", "label", "-amt"],
]


def kind_of(url: str) -> str:
    return (
        "sqlite" if url.startswith("sqlite") else "postgresql" if "postgres" in url else "mariadb"
    )


def _value(kind: str, column: str, value: Any) -> Any:
    if value is None or kind == "postgresql":
        return value
    if column == "uid":
        return str(value)
    if column == "at":
        return value.replace(tzinfo=None)
    return value


@dataclass
class Db:
    url: str
    kind: str
    schema: Contract
    engine: sa.Engine
    table: sa.Table


@pytest.fixture
def db(fresh_db: str, tmp_path: Path) -> Iterator[Db]:
    """Tables ``t`` and ``u`` alike (so an argument set is valid for both list tools); ``t``
    holds ROWS rows whose values repeat (ties) and are NULL in turns."""
    kind = kind_of(fresh_db)
    engine = sa.create_engine(fresh_db)
    with engine.begin() as conn:
        if kind == "postgresql":
            conn.exec_driver_sql("CREATE TYPE mood AS ENUM ('b', 'a', 'c')")
        for name in ("t", "u"):
            extra = ", span INTERVAL" if kind == "postgresql" else ""  # the others have none
            conn.exec_driver_sql(f"CREATE TABLE {name} ({COMMON.format(**TYPES[kind])}{extra})")
    table = sa.Table("t", sa.MetaData(), autoload_with=engine)
    pools = POOLS | ({"span": SPANS} if kind == "postgresql" else {})
    rows = [
        {"id": n} | {c: _value(kind, c, pool[n % len(pool)]) for c, pool in pools.items()}
        for n in range(1, ROWS + 1)
    ]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    schema = sync_db(fresh_db, root=tmp_path).schema
    yield Db(fresh_db, kind, schema, engine, table)
    engine.dispose()


def listed(db: Db, order: list[str]) -> list[int]:
    """The ids as the database orders them itself (the key last, as appctl adds it)."""
    t = db.table
    columns = [t.c[c.lstrip("-")].desc() if c[0] == "-" else t.c[c].asc() for c in order]
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(t.c.id).order_by(*columns, t.c.id.asc())).scalars())


def page(db: Db, args: dict[str, Any], *, sealer: Any = None, url: str = "") -> ToolResult:
    options = CallOptions(database_url=url or db.url, sealer=sealer, timeout=5)
    return call(db.schema, "list_t", args, options, environ={})


@pytest.mark.parametrize("limit", [1, 4, 7])
def test_a_cursor_resumes_exactly_where_its_page_ended(db: Db, limit: int) -> None:
    sealer = Sealer(KEY)
    for order in ORDERS + ([["-span", "flag"], ["span"]] if db.kind == "postgresql" else []):
        seen: list[int] = []
        args: dict[str, Any] = {"order_by": order, "limit": limit}
        for _ in range(ROWS + 2):
            result = page(db, args, sealer=sealer)
            assert result.ok, (order, result.error)
            seen += [r["id"] for r in result.data["rows"]]
            if not result.data["has_more"]:
                break
            assert "next_offset" in result.data or "cursor" in args
            args = {"order_by": order, "limit": limit, "cursor": result.data["next_cursor"]}
        assert seen == listed(db, order), (order, limit)


def test_a_filtered_walk_resumes_under_the_same_filter(db: Db) -> None:
    where = {"grp": {"gte": 1}, "label": {"is_null": False}}
    args: dict[str, Any] = {"where": where, "order_by": ["-amt", "tm"], "limit": 3}
    seen: list[int] = []
    for _ in range(ROWS):
        result = page(db, args)  # the per-process key (no sealer given)
        assert result.ok, result.error
        seen += [r["id"] for r in result.data["rows"]]
        if not result.data["has_more"]:
            break
        args = args | {"cursor": result.data["next_cursor"]}
    t = db.table
    query = sa.select(t.c.id).where(t.c.grp >= 1, t.c.label.is_not(None))
    with db.engine.connect() as conn:
        expected = list(
            conn.execute(query.order_by(t.c.amt.desc(), t.c.tm.asc(), t.c.id.asc())).scalars()
        )
    assert seen == expected and len(expected) > 6


@dataclass
class Clocked:
    """A sealer read at a set time: the injected clock."""

    sealer: Sealer
    now: float

    def seal(
        self, tool: str, arguments: Mapping[str, Any], state: Mapping[str, Any], **_: Any
    ) -> str:
        return self.sealer.seal(tool, arguments, state, now=self.now)

    def open(self, tool: str, arguments: Mapping[str, Any], token: str, **_: Any) -> dict[str, Any]:
        return self.sealer.open(tool, arguments, token, now=self.now)


FIRST = {"order_by": ["-grp", "label"], "limit": 5, "where": {"id": {"lte": 20}}}


def _tampered(token: str) -> str:
    """One character of the middle changed to another the token alphabet has."""
    i = len(token) // 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def _forged() -> str:
    """The old unsigned form (base64 JSON of the order and values), asking to start after
    row 2: refused whatever its content."""
    raw = json.dumps({"o": [["grp", True], ["label", False], ["id", False]], "v": [1, "a", 2]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# each case: (what the cursor is, the arguments it is given with, the clock, the key)
CASES: dict[str, Any] = {
    "tampered": lambda c: (_tampered(c), FIRST, 1000.0, KEY),
    "truncated": lambda c: (c[: len(c) * 2 // 3], FIRST, 1000.0, KEY),
    "expired": lambda c: (c, FIRST, 1000.0 + 3600 + 1, KEY),
    "another key's": lambda c: (c, FIRST, 1000.0, b"x" * 32),
    "forged": lambda c: (_forged(), FIRST, 1000.0, KEY),
    "other order_by": lambda c: (c, FIRST | {"order_by": ["-grp"]}, 1000.0, KEY),
    "other where": lambda c: (c, FIRST | {"where": {"id": {"lte": 21}}}, 1000.0, KEY),
    "no where": lambda c: (c, {k: v for k, v in FIRST.items() if k != "where"}, 1000.0, KEY),
    "other limit": lambda c: (c, FIRST | {"limit": 6}, 1000.0, KEY),
    "another tool's": lambda c: (c, FIRST, 1000.0, KEY),
}


def _first_cursor(db: Db) -> str:
    first = page(db, FIRST, sealer=Clocked(Sealer(KEY), 1000.0))
    assert first.ok and first.data["has_more"], first.error
    return str(first.data["next_cursor"])


@pytest.fixture
def checkouts(db: Db) -> Iterator[list[Any]]:
    """Every connection appctl's engine for the database hands out, while the test runs."""
    taken: list[Any] = []
    engine = engine_for(db.url)

    def count(*args: Any) -> None:
        taken.append(args)

    sa.event.listen(engine, "checkout", count)
    yield taken
    sa.event.remove(engine, "checkout", count)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_cursor_is_refused_before_any_io(db: Db, checkouts: list[Any], case: str) -> None:
    cursor, args, now, key = CASES[case](_first_cursor(db))
    tool = "list_u" if case == "another tool's" else "list_t"
    given = args | {"cursor": cursor}
    checkouts.clear()
    options = CallOptions(database_url=db.url, sealer=Clocked(Sealer(key), now))
    refused = call(db.schema, tool, given, options, environ={})
    assert refused.error is not None and refused.error.category == ErrorCategory.VALIDATION
    assert refused.status is None and refused.data is None
    assert "without cursor" in refused.error.message, refused.error.message
    assert checkouts == [], "the database was reached before the cursor was checked"
    # and a database that cannot be reached changes nothing: the cursor is checked first
    dead = CallOptions(database_url=_unreachable(db), sealer=Clocked(Sealer(key), now))
    again = call(db.schema, tool, given, dead, environ={})
    assert again.error is not None and again.error.message == refused.error.message


def _unreachable(db: Db) -> str:
    """The same kind of database where nothing answers (a closed port of this test's range;
    SQLite: a file in a directory that does not exist)."""
    if db.kind == "sqlite":
        return f"sqlite:///{Path(db.url[len('sqlite:///') :]).parent}/missing/dir/x.db"
    return sa.make_url(db.url).set(host="127.0.0.1", port=19247).render_as_string(False)


def test_the_same_cursor_in_time_and_unchanged_goes_on_and_the_dead_url_is_reached(
    db: Db, checkouts: list[Any]
) -> None:
    """The control for the refusals: the right cursor with the right arguments within the
    time to live goes to the database (and to the unreachable one, which fails as such)."""
    cursor = _first_cursor(db)
    given = FIRST | {"cursor": cursor}
    later = Clocked(Sealer(KEY), 1000.0 + 3600 - 1)
    checkouts.clear()
    resumed = call(
        db.schema, "list_t", given, CallOptions(database_url=db.url, sealer=later), environ={}
    )
    assert resumed.ok, resumed.error
    assert checkouts, "the call did not reach the database"
    expected = [i for i in listed(db, ["-grp", "label"]) if i <= 20]
    assert [r["id"] for r in resumed.data["rows"]] == expected[5:10]
    dead = CallOptions(database_url=_unreachable(db), sealer=later, timeout=5)
    failed = call(db.schema, "list_t", given, dead, environ={})
    assert failed.error is not None and failed.error.category != ErrorCategory.VALIDATION


def test_cursor_and_offset_together_are_refused(db: Db) -> None:
    """A cursor is bound to every argument but itself and the offset of the page it came
    from: from a page read by offset, go on with the cursor and no offset."""
    by_offset = page(db, {"limit": 4, "offset": 8})
    assert by_offset.ok and by_offset.data["next_offset"] == 12
    cursor = by_offset.data["next_cursor"]
    both = page(db, {"limit": 4, "offset": 8, "cursor": cursor})
    assert both.error is not None and both.error.category == ErrorCategory.VALIDATION
    assert "not both" in both.error.message
    on = page(db, {"limit": 4, "cursor": cursor})
    assert [r["id"] for r in on.data["rows"]] == listed(db, [])[12:16]


def test_a_dry_run_checks_the_cursor_too(db: Db) -> None:
    options = CallOptions(database_url=db.url, dry_run=True)
    args = {"limit": 2, "cursor": _tampered(str(page(db, {"limit": 2}).data["next_cursor"]))}
    refused = call(db.schema, "list_t", args, options, environ={})
    assert refused.error is not None and refused.error.category == ErrorCategory.VALIDATION
    good = {"limit": 2, "cursor": page(db, {"limit": 2}).data["next_cursor"]}
    shown = call(db.schema, "list_t", good, options, environ={})
    assert shown.ok and shown.request is not None
    assert shown.request["after"] == [to_json(2)]


def test_appctl_call_signs_with_the_app_dir_key_and_refuses_a_forged_cursor(
    tmp_path: Path,
) -> None:
    """Through the CLI (Session.open loads the key): the cursor is signed with
    .appctl/cursor.key, made 0600 on first use; the next ``appctl call`` goes on with it, and
    one edited by hand is a usage error (exit 2) that says how to restart."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE pets (id INTEGER PRIMARY KEY, name VARCHAR(30))")
        conn.exec_driver_sql("INSERT INTO pets VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    engine.dispose()
    runner.invoke("sync", "--db", url, cwd=tmp_path)
    first = json.loads(runner.invoke("call", "list_pets", "limit=2", "--json", cwd=tmp_path).stdout)
    cursor = first["data"]["next_cursor"]
    key_file = tmp_path / ".appctl" / "cursor.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = bytes.fromhex(key_file.read_text().strip())
    state = Sealer(key).open("list_pets", {"limit": 2}, cursor)
    assert state == {"o": [["id", False]], "v": [2]}
    rest = runner.invoke("call", "list_pets", "limit=2", f"cursor={cursor}", "--json", cwd=tmp_path)
    assert [r["id"] for r in json.loads(rest.stdout)["data"]["rows"]] == [3]
    forged = Sealer(b"f" * 32).seal("list_pets", {"limit": 2}, {"o": [["id", False]], "v": [0]})
    refused = runner.invoke(
        "call", "list_pets", "limit=2", f"cursor={forged}", "--json", cwd=tmp_path, code=2
    )
    error = json.loads(refused.stdout)["error"]
    assert error["category"] == "validation" and "without cursor" in error["message"]


def test_a_cursor_from_before_a_resync_that_changed_the_key_is_refused(tmp_path: Path) -> None:
    """The state is signed, so only a contract changed since can disagree with it: the key
    of the table grew a column after the cursor was issued."""
    sealer = Sealer(KEY)
    schemas = []
    for n, key in enumerate(("id", "id, name")):
        url = f"sqlite:///{tmp_path / f'v{n}.db'}"
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE p (id INTEGER, name TEXT, PRIMARY KEY ({key}))")
            conn.exec_driver_sql("INSERT INTO p VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        engine.dispose()
        schemas.append((url, sync_db(url, root=tmp_path).schema))
    (old_url, old), (new_url, new) = schemas
    first = call(
        old, "list_p", {"limit": 1}, CallOptions(database_url=old_url, sealer=sealer), environ={}
    )
    args = {"limit": 1, "cursor": first.data["next_cursor"]}
    options = CallOptions(database_url=new_url, sealer=sealer)
    refused = call(new, "list_p", args, options, environ={})
    assert refused.error is not None and refused.error.category == ErrorCategory.VALIDATION
    assert "contract changed" in refused.error.message
    assert "call list_p again without cursor" in refused.error.message
    went_on = call(
        old, "list_p", args, CallOptions(database_url=old_url, sealer=sealer), environ={}
    )
    assert [r["id"] for r in went_on.data["rows"]] == [2]


def test_appctl_call_pages_follows_a_database_lists_cursor(tmp_path: Path) -> None:
    """``--pages`` follows a database list as it follows an HTTP one: by the page's
    ``next_cursor`` (an ``offset`` of the first page is replaced by the cursor)."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE pets (id INTEGER PRIMARY KEY, name VARCHAR(30))")
        for n in range(1, 12):
            conn.exec_driver_sql(f"INSERT INTO pets VALUES ({n}, 'p{n}')")
    engine.dispose()
    runner.invoke("sync", "--db", url, cwd=tmp_path)
    out = runner.invoke(
        "call", "list_pets", "limit=3", "offset=1", "--pages", "3", "--json", cwd=tmp_path
    )
    envelope = json.loads(out.stdout)
    assert [r["id"] for r in envelope["data"]["rows"]] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert envelope["data"]["has_more"] is True
    assert "read 3 pages" in " ".join(envelope["notes"])
    cursor = envelope["data"]["next_cursor"]
    rest = runner.invoke("call", "list_pets", "limit=3", f"cursor={cursor}", "--json", cwd=tmp_path)
    assert [r["id"] for r in json.loads(rest.stdout)["data"]["rows"]] == [11]
