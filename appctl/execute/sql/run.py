"""The SQL edge: run a ``SqlPlan`` through SQLAlchemy Core and turn the outcome into a result.

One pooled engine per database URL per process. Reads run in a transaction the database
itself makes read-only (PostgreSQL ``BEGIN READ ONLY``, MySQL/MariaDB ``START
TRANSACTION READ ONLY``, SQLite ``PRAGMA query_only``) under a statement timeout; writes run
in a transaction that must touch exactly the one row its key names, or is rolled back.

Bounds on every call: waiting for a pooled connection (``POOL_TIMEOUT``), connecting
(``CONNECT_TIMEOUT``, or the call's timeout when shorter; a ``connect_timeout`` in the URL
wins), the statement (the call's timeout: PostgreSQL ``statement_timeout``, MariaDB
``max_statement_time``, MySQL ``max_execution_time``, SQLite a progress handler), and with
PyMySQL every socket read (the statement timeout plus ``READ_GRACE``), so a server that
stops answering mid-call cannot hold it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from appctl.contract.models import Column, Table
from appctl.errors import first_line
from appctl.execute.memo import IdentityMemo
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.execute.sql import keyset, ops
from appctl.execute.sql.errors import database_failure, drift_failure
from appctl.execute.sql.page import PageShape, fetch_hint, fit_page, fit_row
from appctl.execute.sql.plan import SqlPlan, keyset_ready, keyset_state
from appctl.execute.sql.resume import Seal, sealing
from appctl.execute.sql.types import item_type_text, special_sa_type
from appctl.execute.sql.values import Reading, decode_text, json_loads, to_json, unstorable
from appctl.sync.db.bounds import (
    connect_seconds,
    connect_timeouts,
    did_not_answer,
    set_read_timeout,
)

DEFAULT_TIMEOUT = 30.0  # seconds per statement
CONNECT_TIMEOUT = 10.0  # seconds to connect, unless the call's timeout is shorter
POOL_TIMEOUT = 10.0  # seconds to wait for a free pooled connection
READ_GRACE = 2.0  # PyMySQL: a read waits this long past the statement timeout for its error
_engines: dict[str, Any] = {}
_tables: IdentityMemo[Any] = IdentityMemo()
_lock = threading.Lock()
_this_call = threading.local()  # the connect timeout of the call this thread runs


class _Timeout(Exception):
    pass


def engine_for(url: str) -> Any:
    engine = _engines.get(url)
    if engine is not None:
        return engine
    import sqlalchemy as sa

    with _lock:
        engine = _engines.get(url)
        if engine is None:
            # no pre-ping (a round trip per call): a dropped connection fails one call with
            # the network category and is replaced; idle ones are recycled before servers
            # typically drop them
            options: dict[str, Any] = {"pool_recycle": 300, "pool_timeout": POOL_TIMEOUT}
            if url.startswith("sqlite"):
                options = {"connect_args": {"check_same_thread": False, "timeout": 10.0}}
                if sa.engine.make_url(url).database not in (None, "", ":memory:"):
                    options["pool_timeout"] = POOL_TIMEOUT  # (no pool to wait on in memory)
            if not url.startswith("sqlite"):  # SQLite JSON is read raw (values.py)
                options["json_deserializer"] = json_loads  # the document null ≠ SQL NULL
            engine = sa.create_engine(url, **options)
            if engine.dialect.name == "sqlite":
                sa.event.listen(engine, "connect", _sqlite_connect)
            else:
                sa.event.listen(engine, "do_connect", _bounded_connect)
            if engine.dialect.driver == "psycopg":  # infinity, 24:00:00: text, not an error
                sa.event.listen(engine, "connect", _psycopg_connect)
            _engines[url] = engine
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    dbapi_connection.execute("PRAGMA busy_timeout = 10000")
    dbapi_connection.text_factory = decode_text  # not UTF-8: replaced, with a note
    ops.register_sqlite(dbapi_connection)


def _psycopg_connect(dbapi_connection: Any, _record: Any) -> None:
    from appctl.execute.sql import bind

    bind.pg_lenient_loaders(dbapi_connection)


def _bounded_connect(dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
    """Connect within the running call's connect timeout (engines outlive calls)."""
    seconds = getattr(_this_call, "connect", CONNECT_TIMEOUT)
    params.update(connect_timeouts(dialect.driver, params, seconds))


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _sa_type(column: Column, dialect: str) -> Any:
    import sqlalchemy as sa

    from appctl.execute.sql import bind

    special = special_sa_type(column, dialect)
    if special is not None:
        return special
    kind = column.kind
    upper = column.type.upper()
    if kind == "array" and dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        item = Column(
            name=column.name, type=item_type_text(upper), kind=column.item_kind or "other"
        )
        return postgresql.ARRAY(_sa_type(item, dialect))
    if kind == "json":
        return bind.json_type(dialect, upper)
    if kind == "uuid" and dialect == "postgresql":
        return sa.Uuid(as_uuid=True)
    if kind == "enum" and dialect == "postgresql":
        values = column.schema_.get("enum") or (column.schema_.get("items") or {}).get("enum")
        return bind.enum_type(list(values or []), column.type.lower())
    if kind == "decimal" and dialect == "sqlite":
        return bind.SqliteDecimal()
    simple: dict[str, Any] = {
        "integer": sa.BigInteger(),
        "number": sa.Float(),
        "decimal": sa.Numeric(*_precision(upper), asdecimal=True),
        "boolean": sa.Boolean(),
        "date": sa.Date(),
        "datetime": sa.DateTime(timezone="TIME ZONE" in upper or "TZ" in upper),
        "time": sa.Time(),
        "interval": sa.Interval(),
        "binary": sa.LargeBinary(),
    }
    return simple.get(kind, sa.String())


def _precision(type_text: str) -> tuple[int | None, int | None]:
    match = re.search(r"\((\d+)\s*(?:,\s*(\d+))?\)", type_text)
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2) or 0)


def sa_table(table: Table, dialect: str) -> Any:
    """The SQLAlchemy ``Table`` for a contract table, built once per table object."""
    return _tables.get((table,), lambda: _build_table(table, dialect), extra=dialect)


def _build_table(table: Table, dialect: str) -> Any:
    import sqlalchemy as sa

    return sa.Table(
        table.name,
        sa.MetaData(),
        *[
            sa.Column(c.name, _sa_type(c, dialect), primary_key=c.name in table.primary_key)
            for c in table.columns
        ],
        schema=table.schema_name,
    )


@contextmanager
def _transaction(engine: Any, *, read_only: bool, timeout: float) -> Iterator[Any]:
    """A connection in a transaction with the read-only mode and statement timeout applied.

    Session settings are remembered per pooled connection (``info``) and sent only when they
    change, so a steady stream of reads costs no extra round trips: on PostgreSQL the driver
    opens the transaction with ``BEGIN READ ONLY`` itself."""
    dialect = engine.dialect.name
    with engine.connect() as base:
        _this_call.connected = True
        conn = base
        if dialect == "postgresql":
            conn = base.execution_options(postgresql_readonly=read_only)
        info = base.connection.info
        raw = None
        try:
            if dialect == "postgresql":
                ms = int(timeout * 1000)
                if info.get("appctl_timeout") != ms:
                    conn.exec_driver_sql(f"SET statement_timeout = {ms}")
                    info["appctl_timeout"] = ms
            elif dialect == "mysql":
                if info.get("appctl_timeout") != timeout:
                    set_read_timeout(base.connection.dbapi_connection, timeout + READ_GRACE)
                    if getattr(engine.dialect, "is_mariadb", False):  # known once connected
                        conn.exec_driver_sql(f"SET SESSION max_statement_time = {timeout:.3f}")
                    else:
                        conn.exec_driver_sql(
                            f"SET SESSION max_execution_time = {int(timeout * 1000)}"
                        )
                    conn.commit()
                    info["appctl_timeout"] = timeout
                conn.exec_driver_sql(
                    "START TRANSACTION READ ONLY" if read_only else "START TRANSACTION READ WRITE"
                )
            elif dialect == "sqlite":
                raw = base.connection.dbapi_connection
                deadline = time.monotonic() + timeout
                raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 2000)
                if info.get("appctl_query_only") != read_only:
                    raw.execute(f"PRAGMA query_only = {'ON' if read_only else 'OFF'}")
                    info["appctl_query_only"] = read_only
            yield conn
            conn.commit()  # a read-only transaction has nothing to commit; settings persist
        except BaseException:
            conn.rollback()
            for key in ("appctl_timeout", "appctl_query_only"):
                info.pop(key, None)  # rolled back with the transaction, perhaps
            raise
        finally:
            if raw is not None:
                raw.set_progress_handler(None, 0)


def _where(
    t: Any, plan: SqlPlan, dialect: str, enums: dict[str, list[str]], instant: frozenset[str]
) -> list[Any]:
    kinds = {c.name: c.kind for c in plan.table.columns}
    clauses = []
    for column, op, value in plan.where:
        c = t.c[column]
        if op == "is_null":
            clauses.append(c.is_(None) if value else c.is_not(None))
        elif op in ("eq", "ne") and value is None:
            clauses.append(c.is_(None) if op == "eq" else c.is_not(None))
        elif op in ("like", "ilike"):
            fold = op == "ilike"
            clauses.append(ops.like(c, value, kind=kinds[column], dialect=dialect, fold=fold))
        else:
            clauses.append(
                ops.compare(t, column, op, value, enums=enums, dialect=dialect, instant=instant)
            )
    return clauses


def _reading(plan: SqlPlan, dialect: str) -> Reading:
    return Reading(plan.table, dialect, plan.args)


def _columns(t: Any, dialect: str) -> list[Any]:
    """What a statement selects or returns: SQLite's values as stored (``values.py``)."""
    from appctl.execute.sql import bind

    return bind.raw_columns(t) if dialect == "sqlite" else list(t.c)


_by_key_cache: IdentityMemo[Any] = IdentityMemo()


def _by_key(t: Any, plan: SqlPlan, dialect: str) -> Any:
    """``SELECT ... WHERE key = :k0 AND ...``, built once per table (bound by position)."""

    def build() -> Any:
        import sqlalchemy as sa

        keys = plan.table.primary_key
        select = sa.select(*_columns(t, dialect))
        return select.where(*[t.c[c] == sa.bindparam(f"k{i}") for i, c in enumerate(keys)])

    return _by_key_cache.get((t,), build, extra=dialect)


def _key_params(plan: SqlPlan) -> dict[str, Any]:
    return {f"k{i}": plan.key[c] for i, c in enumerate(plan.table.primary_key)}


def _key_filter(t: Any, key: dict[str, Any]) -> list[Any]:
    return [t.c[c] == v for c, v in key.items()]


def run(
    plan: SqlPlan, url: str, *, timeout: float | None, budget: int, seal: Seal | None = None
) -> ToolResult:
    """Run the plan; never raises (database errors become results with a category).
    ``seal`` makes a list's ``next_cursor`` (default: bound to the plan's arguments under
    this process's key)."""
    import sqlalchemy as sa

    tool = plan.action.name
    engine = engine_for(url)
    t = sa_table(plan.table, engine.dialect.name)
    seconds = timeout or DEFAULT_TIMEOUT
    _this_call.connect, _this_call.connected = min(CONNECT_TIMEOUT, seconds), False
    refused = unstorable(plan, engine.dialect.name)
    if refused is not None:
        return ToolResult.failure(tool, ErrorCategory.VALIDATION, refused)
    try:
        with _transaction(
            engine, read_only=plan.operation in ("list", "get"), timeout=seconds
        ) as conn:
            return _operate(plan, conn, t, engine, budget, seal)
    except _NotOne as exc:
        return ToolResult.failure(tool, exc.category, str(exc))
    except sa.exc.TimeoutError:  # the pool's, not the database's
        message = (
            f"no database connection came free within {POOL_TIMEOUT:g} s: "
            "too many calls to this database at once"
        )
        return ToolResult.failure(tool, ErrorCategory.TIMEOUT, message)
    except sa.exc.DBAPIError as exc:
        if isinstance(exc, sa.exc.OperationalError) and did_not_answer(exc):
            return _no_answer(tool, engine, seconds)
        return database_failure(tool, exc)
    except sa.exc.StatementError as exc:  # a value the driver could not bind
        return ToolResult.failure(tool, ErrorCategory.VALIDATION, first_line(exc))
    except (LookupError, ValueError, ArithmeticError, sa.exc.InvalidRequestError) as exc:
        drift = drift_failure(tool, exc)  # a row the contract's types cannot read
        if drift is None:
            raise
        return drift


def _operate(
    plan: SqlPlan, conn: Any, t: Any, engine: Any, budget: int, seal: Seal | None
) -> ToolResult:
    import sqlalchemy as sa

    from appctl.execute.sql.bind import bindable

    tool, dialect = plan.action.name, engine.dialect.name
    reading = _reading(plan, dialect)
    if plan.operation == "list":
        return _list(plan, conn, t, budget, seal or sealing(plan.action, plan.arguments))
    if plan.operation == "get":
        row = conn.execute(_by_key(t, plan, dialect), _key_params(plan)).first()
        if row is None:
            return ToolResult.failure(tool, ErrorCategory.NOT_FOUND, _no_row(plan))
        data, notes = fit_row(
            reading.row(row._mapping), budget=budget, fetch_hint=fetch_hint(plan, [], get=True)
        )
        return ToolResult(ok=True, tool=tool, data=data, notes=reading.notes() + notes)
    if plan.operation == "create":
        return _create(plan, conn, t, engine)
    if plan.operation == "update":
        statement = sa.update(t).where(*_key_filter(t, plan.key))
        changed = conn.execute(statement.values(bindable(plan.values))).rowcount
        _exactly_one(changed, plan)
        row = conn.execute(_by_key(t, plan, dialect), _key_params(plan)).first()
        data = reading.row(row._mapping)
        return ToolResult(ok=True, tool=tool, data=data, notes=reading.notes())
    if plan.operation == "delete":
        row = conn.execute(_by_key(t, plan, dialect), _key_params(plan)).first()
        deleted = conn.execute(sa.delete(t).where(*_key_filter(t, plan.key))).rowcount
        _exactly_one(deleted, plan)
        data = {"deleted": reading.row(row._mapping)}
        return ToolResult(ok=True, tool=tool, data=data, notes=reading.notes())
    return ToolResult.failure(tool, ErrorCategory.INTERNAL, f"unknown operation {plan.operation}")


def _no_answer(tool: str, engine: Any, seconds: float) -> ToolResult:
    """The database server did not answer in time: connecting, or during the statement."""
    port = engine.url.port
    where = f"{engine.url.host}:{port}" if port else str(engine.url.host)
    if getattr(_this_call, "connected", False):
        waited, doing = seconds + READ_GRACE, "running the statement"
    else:
        waited = connect_seconds(engine.dialect.driver, engine.url.query, _this_call.connect)
        doing = "connecting"
    message = f"the database at {where} did not answer within {waited:g} s ({doing})"
    hint = "Check that the database server is up and reachable from here (host, port, firewall)."
    return ToolResult.failure(tool, ErrorCategory.TIMEOUT, message, hint)


class _NotOne(Exception):
    def __init__(self, message: str, category: ErrorCategory) -> None:
        super().__init__(message)
        self.category = category


def _no_row(plan: SqlPlan) -> str:
    shown = ", ".join(f"{plan.args.get(c, c)}={to_json(v)!r}" for c, v in plan.key.items())
    return f"no row of {plan.table.qualified} has {shown}"


def _exactly_one(count: int, plan: SqlPlan) -> None:
    if count == 0:
        raise _NotOne(_no_row(plan), ErrorCategory.NOT_FOUND)
    if count != 1:
        raise _NotOne(
            f"the key matched {count} rows of {plan.table.qualified}, not one: nothing was changed",
            ErrorCategory.CONFLICT,
        )


def _create(plan: SqlPlan, conn: Any, t: Any, engine: Any) -> ToolResult:
    import sqlalchemy as sa

    from appctl.execute.sql.bind import bindable

    dialect = engine.dialect.name
    statement = sa.insert(t).values(bindable(plan.values))
    if engine.dialect.insert_returning and plan.table.kind == "table":
        row = conn.execute(statement.returning(*_columns(t, dialect))).first()
    else:
        result = conn.execute(statement)
        key = dict(
            zip(
                [c.name for c in t.primary_key.columns],
                result.inserted_primary_key or (),
                strict=False,
            )
        )
        key = {c: plan.values.get(c, key.get(c)) for c in plan.table.primary_key}
        select = sa.select(*_columns(t, dialect))
        row = conn.execute(select.where(*_key_filter(t, key))).first()
    reading = _reading(plan, dialect)
    data = reading.row(row._mapping) if row else None
    return ToolResult(ok=True, tool=plan.action.name, data=data, notes=reading.notes())


def _list(plan: SqlPlan, conn: Any, t: Any, budget: int, seal: Seal) -> ToolResult:
    import sqlalchemy as sa

    dialect = conn.dialect.name
    enums = {
        c.name: list(c.schema_.get("enum") or []) for c in plan.table.columns if c.kind == "enum"
    }
    instant = ops.instants(dialect, {c.name: c.kind for c in plan.table.columns})
    # a SQLite time's cursor value is its stored text (keyset.py: compared as it sorts)
    raw = {c: f"appctl raw {i}" for i, (c, _) in enumerate(plan.order) if c in instant}
    extra = [sa.type_coerce(t.c[c], sa.String()).label(label) for c, label in raw.items()]
    query = sa.select(*_columns(t, dialect), *extra)
    query = query.where(*_where(t, plan, dialect, enums, instant))
    if plan.after is not None:
        query = query.where(
            keyset.after(
                t, plan.order, plan.after, enums=enums, dialect=dialect, raw=frozenset(raw)
            )
        )
    query = query.order_by(*[t.c[c].desc() if desc else t.c[c].asc() for c, desc in plan.order])
    query = query.limit(plan.limit + 1)
    if plan.offset:
        query = query.offset(plan.offset)
    fetched = conn.execute(query).all()
    reading = _reading(plan, dialect)
    rows = reading.rows([r._mapping for r in fetched[: plan.limit]])
    for row in rows:
        for label in raw.values():
            del row[label]

    def cursor_after(i: int) -> str:
        found = fetched[i]._mapping
        return seal(keyset_state(plan.order, [found[raw.get(c, c)] for c, _ in plan.order]))

    shape = PageShape(
        more=len(fetched) > plan.limit,
        offset=plan.offset,
        by_offset=plan.after is None,
        cursor_after=cursor_after if keyset_ready(plan.table, plan.order) else None,
    )
    data, notes = fit_page(rows, shape, budget=budget, fetch_hint=fetch_hint(plan, rows))
    shown = reading.notes(len(data["rows"]))  # of the rows the page holds
    return ToolResult(ok=True, tool=plan.action.name, data=data, notes=shown + notes)
