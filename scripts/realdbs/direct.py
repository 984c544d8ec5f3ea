"""Rows read straight from the database with its DB-API driver (sqlite3, psycopg, PyMySQL),
never through appctl or SQLAlchemy: the reference every page and every ``get`` is held to.

JSON columns are read as their text on PostgreSQL (psycopg would turn the JSON document
``null`` into None, the same as SQL NULL), so the comparison can tell the two apart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit


def _quote(dialect: str, name: str) -> str:
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def connect(dialect: str, url: str) -> Iterator[Any]:
    """A DB-API connection for ``url`` (a SQLite path, or a postgresql/mysql URL)."""
    if dialect == "sqlite":
        conn: Any = sqlite3.connect(f"file:{url}?mode=ro", uri=True)
        conn.text_factory = bytes  # text as stored: a non-UTF-8 value is not an error here
    elif dialect == "postgresql":
        import psycopg
        from psycopg.types.string import TextLoader

        parts = urlsplit(url)
        conn = psycopg.connect(
            host=parts.hostname,
            port=parts.port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            dbname=parts.path.lstrip("/"),
        )
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
    else:
        import pymysql

        parts = urlsplit(url)
        conn = pymysql.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/"),
            charset="utf8mb4",
        )
    try:
        yield conn
    finally:
        conn.close()


def rows(
    conn: Any, dialect: str, *, table: str, schema: str | None, key: list[str], limit: int
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and up to ``limit`` rows of ``SELECT * … ORDER BY key``."""
    name = (
        _quote(dialect, table)
        if not schema
        else f"{_quote(dialect, schema)}.{_quote(dialect, table)}"
    )
    order = ", ".join(_quote(dialect, k) for k in key) or "1"
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {name} ORDER BY {order} LIMIT {int(limit)}")
    columns = [d[0] for d in cur.description]
    fetched = [tuple(r) for r in cur.fetchall()] if dialect == "sqlite" else list(cur.fetchall())
    cur.close()
    if dialect != "sqlite":
        conn.rollback()
    return columns, fetched


def count(conn: Any, dialect: str, *, table: str, schema: str | None) -> int:
    name = (
        _quote(dialect, table)
        if not schema
        else f"{_quote(dialect, schema)}.{_quote(dialect, table)}"
    )
    cur = conn.cursor()
    cur.execute(f"SELECT count(*) FROM {name}")
    (n,) = cur.fetchone()
    cur.close()
    if dialect != "sqlite":
        conn.rollback()
    return int(n)
