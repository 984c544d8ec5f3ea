"""Keyset paging: the ORDER BY of a list and the predicate "rows after this cursor" built so
that the two agree for every sortable type and every dialect.

Takes the SQLAlchemy table, the plan's order ``[(column, descending)]`` and the cursor's
values; returns order clauses and one boolean clause. Four things make this more than
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
  (``T`` or a space, with or without fractions) and ORDER BY sorts that text (an index
  serves it): the cursor holds the text stored and the predicate compares text with text,
  so no tie is lost to a bound re-rendered as SQLAlchemy writes times. (Filters compare
  them as times: ``ops``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appctl.execute.http.request import RequestError

NULLS_HIGH = frozenset(("postgresql", "oracle"))  # dialects where NULL sorts as largest


def sort_key(
    t: Any,
    column: str,
    value: Any,
    enums: Mapping[str, list[str]],
    dialect: str,
    raw: frozenset[str] = frozenset(),
) -> tuple[Any, Any]:
    """The expression and bound value a column is compared by, in its ORDER BY order
    (``raw``: columns compared as the text stored, e.g. SQLite times in a cursor)."""
    import sqlalchemy as sa

    c = t.c[column]
    if column in raw:
        text = sa.type_coerce(c, sa.String())
        return text, None if value is None else sa.literal(value)
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


def after(
    t: Any,
    order: list[tuple[str, bool]],
    values: list[Any],
    *,
    enums: Mapping[str, list[str]],
    dialect: str,
    raw: frozenset[str] = frozenset(),
) -> Any:
    """Rows strictly after the row whose order values are ``values``:
    OR over i of (the first i columns equal AND column i strictly after)."""
    import sqlalchemy as sa

    nulls_high = dialect in NULLS_HIGH
    ors = []
    same: list[Any] = []
    for (column, desc), value in zip(order, values, strict=True):
        key, bound = sort_key(t, column, value, enums, dialect, raw)
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
