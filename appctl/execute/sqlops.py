"""A list's filter operators as SQL: one ``where`` entry (column, op, value) → one clause that
the dialect can run on every column kind the contract offers the operator for.

The contract offers (``sync.db.build``): eq/ne on every comparable kind and booleans; lt, lte,
gt, gte and in on comparable kinds; like/ilike on text and enums; is_null on nullable
columns. What differs between dialects is settled here:

- Comparisons follow the column's sort order, the one ``order_by`` and cursors use
  (``sqlkeyset.sort_key``): an enum compares by its declaration order on PostgreSQL
  (natively) and on MySQL/MariaDB (by its index, which ORDER BY sorts by; a comparison with
  a string would be textual); a SQLite date-time or time, stored as text in whatever form
  the program that wrote it chose, compares as the time it is (``appctl_instant``).
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

from collections.abc import Mapping
from typing import Any

from appctl.execute import sqlkeyset

ESCAPE = "\\"
SQLITE_LOWER = "appctl_lower"
MYSQL = frozenset(("mysql", "mariadb"))


def sqlite_lower(value: Any) -> Any:
    """SQLite's ``appctl_lower``: Unicode lowercase of text; other values as they are."""
    return value.lower() if isinstance(value, str) else value


def register_sqlite(dbapi_connection: Any) -> None:
    """Give a new SQLite connection the functions the operators use."""
    dbapi_connection.create_function(SQLITE_LOWER, 1, sqlite_lower, deterministic=True)
    dbapi_connection.create_function(
        sqlkeyset.SQLITE_INSTANT, 1, sqlkeyset.sqlite_instant, deterministic=True
    )


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

    def key(v: Any) -> tuple[Any, Any]:
        return sqlkeyset.sort_key(t, column, v, enums, dialect, instant)

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
