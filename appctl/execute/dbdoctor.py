"""``appctl doctor`` for a database contract: can we connect, what may the role do, and does
every table in the contract still exist with the same columns and types.

One bulk reflection (the same as sync) is compared with the contract; privileges come from
the database's own catalogue (PostgreSQL ``has_table_privilege``, MySQL/MariaDB ``SHOW
GRANTS``, SQLite: whether the file is writable). Nothing is written to the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from appctl.contract.models import Safety, Schema, Table
from appctl.errors import AppctlError
from appctl.execute.doctor import Check, Route
from appctl.sync.db.facts import TableFacts


def diagnose_db(schema: Schema, url: str) -> tuple[list[Check], list[Route]]:
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
    routes = [_compare(r.name, r.table, live) for r in schema.resources if r.table is not None]
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


def _compare(resource: str, table: Table, live: dict[tuple[str | None, str], TableFacts]) -> Route:
    now = live.get((table.schema_name, table.name))
    if now is None:
        return Route(resource, "missing", f"{table.qualified} no longer exists")
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
    added = [c for c in columns if table.column(c) is None]
    if added:
        problems.append(f"new column(s) {', '.join(added)}")
    if now.primary_key != table.primary_key:
        problems.append(f"the primary key is now {now.primary_key or 'none'}")
    if problems:
        return Route(resource, "changed", "; ".join(problems) + " (run appctl sync --db again)")
    return Route(resource, "verified", f"{table.qualified}: {len(table.columns)} columns match")


def _privileges(engine: Any, dialect: str, tables: list[Table], writes: bool) -> Iterator[Check]:
    if dialect == "sqlite":
        path = engine.url.database or ""
        if os.access(path, os.W_OK):
            yield Check("privileges", True, "the database file is readable and writable")
        else:
            verdict = not writes  # a read-only file only fails a contract that writes
            yield Check("privileges", verdict, "the database file is read-only")
        return
    with engine.connect() as conn:
        if dialect == "postgresql":
            missing: list[str] = []
            for table in tables:
                name = (
                    f'"{table.schema_name}"."{table.name}"'
                    if table.schema_name
                    else (f'"{table.name}"')
                )
                wanted = ["SELECT"] + (
                    ["INSERT", "UPDATE", "DELETE"] if writes and table.kind == "table" else []
                )
                for privilege in wanted:
                    allowed = conn.exec_driver_sql(
                        "SELECT has_table_privilege(current_user, %(t)s, %(p)s)",
                        {"t": name, "p": privilege},
                    ).scalar_one()
                    if not allowed:
                        missing.append(f"{privilege} on {table.qualified}")
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
    if missing:
        shown = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        yield Check("privileges", False, f"{user} lacks {shown}")
    else:
        what = "read and write" if writes else "read"
        yield Check("privileges", True, f"{user} may {what} every table in the contract")
