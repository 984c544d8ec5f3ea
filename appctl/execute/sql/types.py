"""SQLAlchemy types for the columns ``sync.db.typemap`` maps past the generic kinds, so the
executor reads and writes exactly what the contract's value schemas say:

- PostgreSQL types of kind ``other`` (``point``, ``xml``, ``money``, ranges, a composite...)
  are selected as ``CAST(column AS text)`` and written as ``CAST(:value AS <type>)``: the
  value is PostgreSQL's own text form both ways.
- MariaDB/MySQL ``SET`` reads as the list of its members (in the column's order) and is
  written from such a list; ``BIT(n)`` reads as an integer; ``TIME`` reads as its text
  (``values.clock_text``: SQLAlchemy's TIME wraps a duration into 0-24 h).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from appctl.contract.models import Column

_ARRAY_SUFFIX = re.compile(r"(\[\])+$")


def item_type_text(type_text: str) -> str:
    """The item type of a PostgreSQL array type text (every ``[]`` taken off)."""
    return _ARRAY_SUFFIX.sub("", type_text)


def special_sa_type(column: Column, dialect: str) -> Any | None:
    """The SQLAlchemy type of a column whose values need more than the generic kinds (None:
    the generic type of its kind does)."""
    upper = column.type.upper()
    if dialect == "postgresql" and column.kind == "other":
        return _pg_text_type()(column.type)
    if dialect == "postgresql" and column.kind == "time" and "WITH TIME ZONE" in upper:
        import sqlalchemy as sa

        return sa.Time(timezone=True)  # the offset is part of the value
    if dialect == "mysql" and column.kind == "array" and upper.startswith("SET("):
        return _set_type()(list(column.schema_.get("items", {}).get("enum") or []))
    if dialect in ("mysql", "mariadb") and column.kind == "time":
        return _mysql_time_type()()
    if dialect == "mysql" and column.kind == "integer" and upper.startswith("BIT"):
        from sqlalchemy.dialects.mysql import BIT

        return BIT()
    return None


@functools.cache  # one class per process: SQLAlchemy caches statements by type
def _pg_text_type() -> Any:
    import sqlalchemy as sa
    from sqlalchemy.types import UserDefinedType

    class PgText(UserDefinedType[str]):
        """A PostgreSQL column read and written as text (its type named by the contract,
        which took the name from the database's catalogue, never from a caller)."""

        cache_ok = True

        def __init__(self, name: str) -> None:
            self.name = name

        def get_col_spec(self, **_kw: Any) -> str:
            return self.name

        def column_expression(self, colexpr: Any) -> Any:
            return sa.cast(colexpr, sa.Text())

        def bind_expression(self, bindvalue: Any) -> Any:
            return sa.cast(sa.type_coerce(bindvalue, sa.Text()), self)

    return PgText


@functools.cache
def _mysql_time_type() -> Any:
    import datetime as dt

    from sqlalchemy.types import UserDefinedType

    from appctl.execute.sql.values import clock_text

    class MysqlTime(UserDefinedType[str]):
        """MariaDB/MySQL TIME read as its text, whole (-838:59:59 to 838:59:59)."""

        cache_ok = True

        def get_col_spec(self, **_kw: Any) -> str:
            return "TIME"

        def result_processor(self, dialect: Any, coltype: Any) -> Any:
            def process(value: Any) -> Any:
                return clock_text(value) if isinstance(value, dt.timedelta) else value

            return process

    return MysqlTime


@functools.cache
def _set_type() -> Any:
    import sqlalchemy as sa

    class SetList(sa.types.TypeDecorator[list[str]]):
        """MariaDB/MySQL SET as a list: ``"r,w"`` ↔ ``["r", "w"]``, members in the order the
        column defines them (as the server stores them)."""

        impl = sa.String
        cache_ok = True

        def __init__(self, members: list[str]) -> None:
            super().__init__()
            self.members = tuple(members)

        def process_bind_param(self, value: Any, dialect: Any) -> Any:
            if value is None or isinstance(value, str):
                return value
            given = set(value)
            return ",".join(m for m in self.members if m in given)

        def process_result_value(self, value: Any, dialect: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, bytes):
                value = value.decode()
            held = set(value) if isinstance(value, set | frozenset) else set(value.split(","))
            return [m for m in self.members if m in held]

    return SetList
