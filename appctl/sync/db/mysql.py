"""MariaDB/MySQL column facts the inspector's type objects leave out (one catalogue query
per schema): a LONGTEXT column whose check is exactly ``json_valid(`column`)`` is MariaDB's
JSON type, and a type SQLAlchemy does not recognise (INET6, GEOMETRY...) keeps its name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_SHAPES = """
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, k.CHECK_CLAUSE
FROM information_schema.COLUMNS c
LEFT JOIN information_schema.CHECK_CONSTRAINTS k
  ON k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
  AND k.CONSTRAINT_NAME = c.COLUMN_NAME
WHERE c.TABLE_SCHEMA = {schema} AND c.TABLE_NAME IN :names
"""

# (column type text, whether the column holds JSON)
Shape = tuple[str, bool]


def column_shapes(
    conn: Any, schema: str | None, names: Sequence[str]
) -> dict[tuple[str, str], Shape]:
    """(table, column) → (COLUMN_TYPE, whether MariaDB's JSON check guards it)."""
    import sqlalchemy as sa

    if not names:
        return {}
    where = "DATABASE()" if schema is None else ":schema"
    query = sa.text(_SHAPES.format(schema=where)).bindparams(sa.bindparam("names", expanding=True))
    out: dict[tuple[str, str], Shape] = {}
    try:
        rows = conn.execute(query, {"names": list(names), "schema": schema}).all()
    except sa.exc.DBAPIError:  # MySQL before 8.0.16 has no CHECK_CONSTRAINTS
        conn.rollback()
        return out
    for table, column, type_text, check in rows:
        quoted = "`" + str(column).replace("`", "``") + "`"
        is_json = check is not None and str(check).strip() == f"json_valid({quoted})"
        out[(str(table), str(column))] = (str(type_text), is_json)
    return out


def refine_type(type_: Any, shape: Shape | None) -> Any:
    """JSON for a json_valid-checked text column; a named type instead of NULLTYPE."""
    from sqlalchemy.dialects.mysql import JSON
    from sqlalchemy.sql.sqltypes import NullType, String

    from appctl.sync.db.typemap import named_type

    if shape is None:
        return type_
    type_text, is_json = shape
    if is_json and isinstance(type_, String):
        return JSON()
    if isinstance(type_, NullType):
        return named_type(type_text.upper())
    return type_
