"""Keyset paging: the ORDER BY of a list and the predicate "rows after this cursor" built so
that the two agree for every sortable type and every dialect.

Takes the SQLAlchemy table, the plan's order ``[(column, descending)]`` and the cursor's
values; returns order keys and one boolean clause. Four things make this more than
``col > :v``:

- NULLs sort where the dialect puts them by default: PostgreSQL treats NULL as larger than
  any value (last ascending, first descending); SQLite and MySQL/MariaDB as smaller. A NULL
  in the cursor, or a NULL after a value, is handled with ``IS NULL`` / ``IS NOT NULL``.
- Every value is bound with the column's own type (``literal(v, type)``), so booleans,
  enums, UUIDs and zoned timestamps compare as the column does (SQLAlchemy refuses ``>``
  against a bare ``True``).
- MySQL/MariaDB sort an ENUM by its declaration index but compare it with a string as
  text; there the predicate compares indexes (from the contract's list of values).
- SQLite keeps date-times and times as text in whatever form the writing program chose
  (``T`` or a space, with or without fractions): they are sorted, compared and paged through
  ``appctl_instant`` (one canonical form), so ORDER BY, filters and cursors agree on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from appctl.execute.request import RequestError

NULLS_HIGH = frozenset(("postgresql", "oracle"))  # dialects where NULL sorts as largest
SQLITE_INSTANT = "appctl_instant"


def sqlite_instant(value: Any) -> Any:
    """SQLite's ``appctl_instant``: a date-time or time stored as text, in one canonical text
    form (``YYYY-MM-DD HH:MM:SS.ffffff``, ``HH:MM:SS.ffffff``; an offset converted to UTC),
    so that values written as ``...T09:00``, ``... 10:00:00`` or ``... 10:00:00.000000`` by
    different programs compare and sort as the times they are. Anything else as it is."""
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
    """The columns compared and sorted through ``appctl_instant``: SQLite date-times and
    times (text there; SQLAlchemy writes ``.ffffff``, other programs often do not)."""
    if dialect != "sqlite":
        return frozenset()
    return frozenset(c for c, kind in kinds.items() if kind in ("datetime", "time"))


def order_key(t: Any, column: str, instant: frozenset[str]) -> Any:
    """The expression a column is sorted by (ORDER BY)."""
    import sqlalchemy as sa

    if column in instant:
        return getattr(sa.func, SQLITE_INSTANT)(t.c[column])
    return t.c[column]


def sort_key(
    t: Any,
    column: str,
    value: Any,
    enums: Mapping[str, list[str]],
    dialect: str,
    instant: frozenset[str] = frozenset(),
) -> tuple[Any, Any]:
    """The expression and bound value a column is compared by, in its ORDER BY order."""
    import sqlalchemy as sa

    c = t.c[column]
    if column in instant:
        text = None if value is None else sqlite_instant(_iso(value))
        return order_key(t, column, instant), None if text is None else sa.literal(text)
    if dialect in ("mysql", "mariadb") and column in enums and value is not None:
        # ORDER BY sorts an ENUM by its index; a comparison with a string would be textual
        values = enums[column]
        if value not in values:
            raise RequestError(
                f"cursor: {value!r} is not a value of {column} the contract knows: the "
                "database changed since the last sync; run appctl sync --db again"
            )
        return sa.type_coerce(c, sa.Integer()) + 0, sa.literal(values.index(value) + 1)
    return c, None if value is None else sa.literal(value, c.type)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.time) else value


def after(
    t: Any,
    order: list[tuple[str, bool]],
    values: list[Any],
    *,
    enums: Mapping[str, list[str]],
    dialect: str,
    instant: frozenset[str] = frozenset(),
) -> Any:
    """Rows strictly after the row whose order values are ``values``:
    OR over i of (the first i columns equal AND column i strictly after)."""
    import sqlalchemy as sa

    nulls_high = dialect in NULLS_HIGH
    ors = []
    same: list[Any] = []
    for (column, desc), value in zip(order, values, strict=True):
        key, bound = sort_key(t, column, value, enums, dialect, instant)
        null_last = nulls_high != desc  # where NULL sits in this column's direction
        if value is None:
            step = None if null_last else key.is_not(None)
            equal = key.is_(None)
        else:
            step = key < bound if desc else key > bound
            if null_last:
                step = sa.or_(step, key.is_(None))
            equal = key == bound
        if step is not None:
            ors.append(sa.and_(*same, step))
        same.append(equal)
    return sa.or_(*ors) if ors else sa.false()
