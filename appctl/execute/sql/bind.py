"""SQLAlchemy types for the exact value path (``values.py`` holds the pure rules).

- PostgreSQL enums (and arrays of them) are written as enums and read as plain text, so a
  value added since sync (``ALTER TYPE ... ADD VALUE``) is a value with a note, not a crash.
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

from appctl.execute.sql.values import JSON_NULL, sqlite_decimal


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
