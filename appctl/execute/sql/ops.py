"""A list's filter operators as SQL: one ``where`` entry (column, op, value) → one clause that
the dialect can run on every column kind the contract offers the operator for.

The contract offers (``sync.db.build``): eq/ne on every comparable kind and booleans; lt, lte,
gt, gte and in on comparable kinds; like/ilike on text and enums; is_null on nullable
columns. What differs between dialects is settled here:

- Comparisons follow the column's sort order, the one ``order_by`` and cursors use
  (``keyset.sort_key``): an enum compares by its declaration order on PostgreSQL
  (natively) and on MySQL/MariaDB (by its index, which ORDER BY sorts by; a comparison with
  a string would be textual). A SQLite date-time or time, stored as text in whatever form
  the program that wrote it chose, compares as the time it is (``appctl_instant``), behind
  a range on the stored text so an index still serves.
- ``like``: ``%`` any run, ``_`` one character, ``\\`` escapes the next one, on every
  dialect (SQLite has no escape character unless told). Case follows the dialect: SQLite
  ignores the case of ASCII letters only, PostgreSQL respects case, MySQL/MariaDB follow the
  column's collation. A PostgreSQL enum is matched as its text (it has no LIKE of its own).
- ``ilike``: both sides lowercased, then matched exactly: PostgreSQL's ILIKE (non-ASCII
  letters fold as the database's locale folds them: not at all under the C locale);
  SQLite with Python's ``str.lower`` registered as ``appctl_lower`` (SQLite's own
  ``lower`` folds ASCII only); MySQL/MariaDB ``lower()`` compared under the binary
  collation of utf8mb4, so a case-insensitive collation does not also ignore accents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from appctl.execute.sql import keyset

ESCAPE = "\\"
SQLITE_INSTANT = "appctl_instant"


def sqlite_instant(value: Any) -> Any:
    """SQLite's ``appctl_instant``: a date-time or time stored as text, in one canonical text
    form (``YYYY-MM-DD HH:MM:SS.ffffff``, ``HH:MM:SS.ffffff``; an offset converted to UTC),
    so that values written as ``...T09:00``, ``... 10:00:00`` or ``... 10:00:00.000000`` by
    different programs compare as the times they are (filters). Anything else as it is."""
    if not isinstance(value, str):
        return value
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            return dt.time.fromisoformat(value).replace(tzinfo=None).isoformat("microseconds")
        except ValueError:
            return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")


def instants(dialect: str, kinds: Mapping[str, str]) -> frozenset[str]:
    """The columns filters compare through ``appctl_instant`` (and cursors hold as stored
    text): SQLite date-times and times (text there; SQLAlchemy writes ``.ffffff``, other
    programs often do not)."""
    if dialect != "sqlite":
        return frozenset()
    return frozenset(c for c, kind in kinds.items() if kind in ("datetime", "time"))


SQLITE_LOWER = "appctl_lower"
MYSQL = frozenset(("mysql", "mariadb"))


def sqlite_lower(value: Any) -> Any:
    """SQLite's ``appctl_lower``: Unicode lowercase of text; other values as they are."""
    return value.lower() if isinstance(value, str) else value


def register_sqlite(dbapi_connection: Any) -> None:
    """Give a new SQLite connection the functions the operators use."""
    dbapi_connection.create_function(SQLITE_LOWER, 1, sqlite_lower, deterministic=True)
    dbapi_connection.create_function(SQLITE_INSTANT, 1, sqlite_instant, deterministic=True)


def _text(c: Any, kind: str, dialect: str) -> Any:
    import sqlalchemy as sa

    if kind == "enum" and dialect == "postgresql":
        return sa.cast(c, sa.Text())  # an enum has no LIKE; its label does
    return c


def like(c: Any, pattern: str, *, kind: str, dialect: str, fold: bool) -> Any:
    """``c LIKE pattern`` (``fold``: ignoring case), backslash the escape on every dialect."""
    import sqlalchemy as sa

    text = _text(c, kind, dialect)
    if not fold:
        return text.like(pattern, escape=ESCAPE if dialect == "sqlite" else None)
    if dialect == "sqlite":
        lower = getattr(sa.func, SQLITE_LOWER)
        return lower(text).like(lower(pattern), escape=ESCAPE)
    if dialect in MYSQL:
        from sqlalchemy.dialects import mysql

        utf8 = sa.cast(text, mysql.CHAR(charset="utf8mb4"))
        return sa.func.lower(utf8).collate("utf8mb4_bin").like(sa.func.lower(pattern))
    return text.ilike(pattern)


def compare(
    t: Any,
    column: str,
    op: str,
    value: Any,
    *,
    enums: Mapping[str, list[str]],
    dialect: str,
    instant: frozenset[str],
) -> Any:
    """eq, ne, in, lt, lte, gt, gte of a non-null value (in: a list of them), compared as the
    column sorts: an enum by declaration order, a SQLite date-time as the time it is."""
    import sqlalchemy as sa

    if column in instant:
        return _instant_compare(t.c[column], op, value)

    def key(v: Any) -> tuple[Any, Any]:
        return keyset.sort_key(t, column, v, enums, dialect)

    if op == "in":
        return key(value[0])[0].in_([key(v)[1] for v in value])
    expression, bound = key(value)
    if op == "eq":
        return expression == bound
    if op == "ne":
        return sa.or_(expression != bound, expression.is_(None))
    if op == "lt":
        return expression < bound
    if op == "lte":
        return expression <= bound
    if op == "gt":
        return expression > bound
    return expression >= bound


def _instant_compare(c: Any, op: str, value: Any) -> Any:
    """A SQLite date-time or time compared as the time it is (``appctl_instant`` of the text
    stored), behind a range on the text itself (every ISO form of a time begins with its
    date, or hour) so that an index on the column still narrows the rows."""
    import sqlalchemy as sa

    def canonical(v: Any) -> Any:
        return sqlite_instant(v.isoformat()) if isinstance(v, dt.datetime | dt.time) else v

    moment = getattr(sa.func, SQLITE_INSTANT)(c)
    if op == "in":
        return moment.in_([canonical(v) for v in value])
    bound = canonical(value)
    if op == "ne":
        return sa.or_(moment != bound, c.is_(None))
    prefix = str(bound)[: 10 if isinstance(value, dt.datetime) else 2]
    text = sa.type_coerce(c, sa.String())
    low, high = text >= prefix, text < prefix + "~"  # "~" sorts after " ", "T" and digits
    if op == "eq":
        return sa.and_(low, high, moment == bound)
    if op in ("lt", "lte"):
        return sa.and_(high, moment < bound if op == "lt" else moment <= bound)
    return sa.and_(low, moment > bound if op == "gt" else moment >= bound)
