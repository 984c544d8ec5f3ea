"""``appctl doctor`` for a database contract: can we connect, what may the role do, and does
every table in the contract still exist with the same columns and types.

One bulk reflection (the same as sync) is compared with the contract; privileges come from
the database's own catalogue (PostgreSQL ``has_table_privilege``, MySQL/MariaDB ``SHOW
GRANTS``, SQLite: whether the file is writable). Nothing is written to the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from appctl.contract.models import Contract, Safety, Table
from appctl.doctor.checks import Check, Route
from appctl.errors import AppctlError, first_line
from appctl.sync.db.facts import TableFacts


def diagnose_db(schema: Contract, url: str) -> tuple[list[Check], list[Route]]:
    import sqlalchemy as sa

    from appctl.sync.db.bounds import bound_engine
    from appctl.sync.db.reflect import reflect

    checks: list[Check] = []
    tables = [r.table for r in schema.resources if r.table is not None]
    schemas = sorted({t.schema_name for t in tables if t.schema_name})
    try:
        reflected = reflect(url, schemas=schemas)
    except AppctlError as exc:
        return [Check("connection", False, str(exc))], []
    checks.append(
        Check("connection", True, f"{reflected.dialect} {reflected.server_version}".strip())
    )
    live = {(t.schema_name, t.name): t for t in reflected.tables}
    routes = [
        _compare(r.name, r.table, live, reflected.notes)
        for r in schema.resources
        if r.table is not None
    ]
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    bound_engine(engine)  # a server that stops answering cannot hold the doctor
    try:
        writes = any(a.safety != Safety.READ_ONLY for r in schema.resources for a in r.actions)
        checks += list(_privileges(engine, reflected.dialect, tables, writes))
    except sa.exc.DBAPIError as exc:
        checks.append(Check("privileges", None, f"could not read them: {exc.orig}"))
    finally:
        engine.dispose()
    return checks, routes


def _compare(
    resource: str,
    table: Table,
    live: dict[tuple[str | None, str], TableFacts],
    notes: Sequence[str] = (),
) -> Route:
    now = live.get((table.schema_name, table.name))
    if now is None:  # gone, or a view reflection left out (and said why)
        why = [n for n in notes if n.startswith(f"view {table.qualified} cannot be read")]
        return Route(resource, "missing", why[0] if why else f"{table.qualified} no longer exists")
    problems = []
    columns = {c.name: c for c in now.columns}
    for column in table.columns:
        current = columns.get(column.name)
        if current is None:
            problems.append(f"column {column.name} is gone")
        elif current.type != column.type or current.nullable != column.nullable:
            problems.append(
                f"column {column.name} is {current.type}{'' if current.nullable else ' NOT NULL'}"
                f", the contract says {column.type}{'' if column.nullable else ' NOT NULL'}"
            )
        elif _allowed(current.schema_) != _allowed(column.schema_):
            problems.append(_enum_drift(column.name, column.schema_, current.schema_))
    added = [c for c in columns if table.column(c) is None]
    if added:
        problems.append(f"new column(s) {', '.join(added)}")
    if now.primary_key != table.primary_key:
        problems.append(f"the primary key is now {now.primary_key or 'none'}")
    if problems:
        return Route(resource, "changed", "; ".join(problems) + " (run appctl sync --db again)")
    return Route(resource, "verified", f"{table.qualified}: {len(table.columns)} columns match")


def _allowed(schema: Mapping[str, Any]) -> list[Any] | None:
    """An enum column's (or enum array's items') allowed values."""
    items = schema.get("items")
    found = schema.get("enum") or (items.get("enum") if isinstance(items, dict) else None)
    return list(found) if found is not None else None


def _enum_drift(name: str, then: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    before, after = _allowed(then) or [], _allowed(now) or []
    added = [v for v in after if v not in before]
    gone = [v for v in before if v not in after]
    said = [f"+{', +'.join(map(str, added))}"] if added else []
    said += [f"-{', -'.join(map(str, gone))}"] if gone else []
    return f"column {name}'s allowed values changed ({'; '.join(said) or 'reordered'})"


def _privileges(engine: Any, dialect: str, tables: list[Table], writes: bool) -> Iterator[Check]:
    if dialect == "sqlite":
        path = engine.url.database or ""
        if os.access(path, os.W_OK):
            yield Check("privileges", True, "the database file is readable and writable")
        else:
            verdict = not writes  # a read-only file only fails a contract that writes
            yield Check("privileges", verdict, "the database file is read-only")
        return
    unreadable: list[str] = []
    with engine.connect() as conn:
        if dialect == "postgresql":
            missing, unreadable = _pg_missing(conn, tables, writes)
            user = conn.exec_driver_sql("SELECT current_user").scalar_one()
        else:
            grants = [str(r[0]) for r in conn.exec_driver_sql("SHOW GRANTS")]
            user = conn.exec_driver_sql("SELECT CURRENT_USER()").scalar_one()
            text = " ".join(grants).upper()
            missing = []
            if "ALL PRIVILEGES" not in text:
                for privilege in ["SELECT"] + (["INSERT", "UPDATE", "DELETE"] if writes else []):
                    if privilege not in text:
                        missing.append(privilege)
    if unreadable:
        yield Check("privileges", None, "could not check " + "; ".join(unreadable))
    if missing:
        shown = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        yield Check("privileges", False, f"{user} lacks {shown}")
    else:
        what = "read and write" if writes else "read"
        which = "every other table" if unreadable else "every table in the contract"
        yield Check("privileges", True, f"{user} may {what} {which}")


def _pg_missing(conn: Any, tables: list[Table], writes: bool) -> tuple[list[str], list[str]]:
    """(privileges the role lacks, tables that could not be checked and why): each table in
    a savepoint, so that one that is gone or broken does not end the check of the others."""
    import sqlalchemy as sa

    missing: list[str] = []
    unreadable: list[str] = []
    for table in tables:
        name = f'"{table.schema_name}"."{table.name}"' if table.schema_name else f'"{table.name}"'
        wanted = ["SELECT"] + (
            ["INSERT", "UPDATE", "DELETE"] if writes and table.kind == "table" else []
        )
        try:
            with conn.begin_nested():
                for privilege in wanted:
                    allowed = conn.exec_driver_sql(
                        "SELECT has_table_privilege(current_user, %(t)s, %(p)s)",
                        {"t": name, "p": privilege},
                    ).scalar_one()
                    if not allowed:
                        missing.append(f"{privilege} on {table.qualified}")
        except sa.exc.DBAPIError as exc:
            unreadable.append(f"{table.qualified} ({first_line(exc)})")
    return missing, unreadable
