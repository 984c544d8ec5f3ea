"""SQLAlchemy types for the exact value path (``values.py`` holds the pure rules).

- PostgreSQL enums (and arrays of them) are written as enums and read as plain text, so a
  value added since sync (``ALTER TYPE ... ADD VALUE``) is a value with a note, not a crash.
- PostgreSQL (psycopg) dates, timestamps and times that Python cannot hold (``infinity``,
  ``-infinity``, ``24:00:00``) are read as PostgreSQL's text, not an error for the page.
- JSON columns take ``None`` as SQL NULL; ``JSON_NULL`` is the document ``null``.
- SQLite NUMERIC values are bound as an integer or a float only when SQLite stores that
  exactly (``sqlite_decimal``); SQLite rows are read raw (``raw_columns``) and converted
  by ``values.sqlite_cell``, which never fails on a value not of its declared type.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from appctl.execute.sql.values import JSON_NULL, pg_own_text, sqlite_decimal


class LenientEnum(postgresql.ENUM):
    """A PostgreSQL enum read as text, whatever its values are now."""

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return None


class SqliteDecimal(sa.types.UserDefinedType[Any]):
    """A SQLite NUMERIC value, bound so that SQLite stores exactly it (or refused); no
    float on the way (SQLAlchemy's Numeric binds a float)."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "NUMERIC"

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: Any) -> Any:
            return sqlite_decimal(value) if isinstance(value, Decimal) else value

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return None


def json_type(dialect: str, type_text: str) -> Any:
    if dialect == "postgresql" and type_text.upper().startswith("JSONB"):
        return postgresql.JSONB(none_as_null=True)
    return sa.JSON(none_as_null=True)


def enum_type(values: list[str], name: str) -> Any:
    return LenientEnum(*values, name=name, create_type=False, validate_strings=False)


def bindable(values: dict[str, Any]) -> dict[str, Any]:
    """Values for an INSERT/UPDATE: the JSON document null as SQLAlchemy's marker of it."""
    return {c: sa.JSON.NULL if v is JSON_NULL else v for c, v in values.items()}


def raw_columns(t: Any) -> list[Any]:
    """A table's columns, selected without result conversion (SQLite: values as stored)."""
    return [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in t.c]


_PG_KINDS = {
    "date": "date",
    "timestamp": "datetime",
    "timestamptz": "datetime",
    "time": "time",
    "timetz": "time",
}


def pg_lenient_loaders(connection: Any) -> None:
    """On a psycopg connection: date, timestamp and time loaders that return PostgreSQL's
    text for the values Python cannot hold (``values.pg_own_text``), and else exactly what
    psycopg's own loaders return (they are called for every other value)."""
    from psycopg import DataError, pq
    from psycopg.adapt import Loader

    adapters = connection.adapters
    for name, kind in _PG_KINDS.items():
        oid = adapters.types[name].oid
        inner_class = adapters.get_loader(oid, pq.Format.TEXT)
        if inner_class is None or getattr(inner_class, "lenient", False):
            continue

        class Lenient(Loader):
            lenient = True
            _kind, _inner_class = kind, inner_class

            def __init__(self, oid: int, context: Any = None) -> None:
                super().__init__(oid, context)
                self._inner = self._inner_class(oid, context)

            def load(self, data: Any) -> Any:
                try:
                    return self._inner.load(data)
                except DataError:
                    text = bytes(data).decode("ascii", "replace")
                    if pg_own_text(self._kind, text):
                        return text
                    raise

        adapters.register_loader(oid, Lenient)
