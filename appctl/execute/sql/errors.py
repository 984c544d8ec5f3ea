"""What a failed SQL call was, for the model: a database error (or a row the contract's types
cannot read) → a ``ToolResult`` with a category, the database's own message and a hint.

- Integrity violations (unique, foreign key, not null, check) are ``conflict``: the arguments
  were well formed, the table's rules refused them. The message names the constraint (or the
  column of a NOT NULL), as the database reports it.
- A value the contract's types cannot read (an enum value added since sync, a column whose
  type changed) is drift: the hint says to re-sync, never "a bug in appctl".
"""

from __future__ import annotations

import re
from typing import Any

from appctl.errors import first_line
from appctl.execute.result import ErrorCategory, ToolResult

AUTH_TEXTS = ("password authentication failed", "no password supplied", "access denied for user")
NETWORK_CODES = frozenset(("2003", "2006", "2013", "08001", "08006"))
TIMEOUT_CODES = frozenset(("57014", "3024", "1969"))
AUTH_CODES = frozenset(("28P01", "28000", "1045", "1044"))
PERMISSION_CODES = frozenset(("42501", "25006", "1142", "1143", "1792", "1227"))
MISSING_CODES = frozenset(("42P01", "42703", "1146", "1054"))
# the kind of integrity rule a code or SQLite's message names
INTEGRITY_CODES = {
    "23505": "unique",
    "1062": "unique",
    "1586": "unique",
    "23503": "foreign key",
    "1451": "foreign key",
    "1452": "foreign key",
    "1216": "foreign key",
    "1217": "foreign key",
    "23502": "not null",
    "1048": "not null",
    "23514": "check",
    "3819": "check",
    "4025": "check",
    "23001": "foreign key",  # restrict_violation
}
SQLITE_INTEGRITY = {
    "unique constraint failed": "unique",
    "foreign key constraint failed": "foreign key",
    "not null constraint failed": "not null",
    "check constraint failed": "check",
}
INTEGRITY_HINTS = {
    "unique": "A row with this value already exists: get or update that row, or use another value.",
    "foreign key": "The row referred to does not exist, or other rows still refer to this one: "
    "create or check the referenced row first (or remove the rows that refer to it).",
    "not null": "Give a value for the column named above; the table requires one.",
    "check": "The value breaks the table's CHECK rule named above: choose a value it allows.",
}
DRIFT_HINT = (
    "The database changed since the last sync (a column's type or an enum's values): run "
    "appctl sync --db again (appctl doctor shows what changed)."
)
DRIFT_TEXTS = (
    "is not among the defined enum values",  # an enum value added since sync
    "unknown pg numeric type",  # a NUMERIC column whose type changed
    "invalid isoformat string",  # a date/time column holding something else
    "couldn't parse",
    "decimal.conversionsyntax",  # a NUMERIC column holding text (SQLite)
)
_NAMED = re.compile(r"(?:constraint|for key) [`\"']([^`\"']+)[`\"']", re.IGNORECASE)


def codes(exc: Any) -> tuple[str, ...]:
    """The driver's error codes: psycopg's SQLSTATE; PyMySQL's errno (and SQLSTATE)."""
    orig = getattr(exc, "orig", None)
    found = []
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        found.append(str(sqlstate))
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # PyMySQL: (errno, message)
        found.append(str(args[0]))
    return tuple(found)


def database_failure(tool: str, exc: Any) -> ToolResult:
    """A database error → a category a model can act on, with the database's own message."""
    import sqlalchemy as sa

    found = set(codes(exc))
    message = first_line(exc)
    lower = message.lower()
    integrity = _integrity(found, lower)
    category = ErrorCategory.SERVER
    if found & TIMEOUT_CODES or "interrupted" in lower or "statement timeout" in lower:
        category, message = (
            ErrorCategory.TIMEOUT,
            f"cancelled after the statement timeout: {message}",
        )
    elif found & AUTH_CODES or any(text in lower for text in AUTH_TEXTS):
        category = ErrorCategory.AUTH
    elif (
        found & PERMISSION_CODES
        or "readonly" in lower
        or ("read-only" in lower or "read only" in lower)
    ):
        category = ErrorCategory.PERMISSION
    elif integrity is not None:
        return _conflict(tool, exc, integrity, message)
    elif found & MISSING_CODES or "no such table" in lower or "no such column" in lower:
        category = ErrorCategory.NOT_FOUND
        message += " (the database changed since the last sync: run appctl sync --db again)"
    elif isinstance(exc, sa.exc.IntegrityError | sa.exc.DataError) or any(
        c.startswith(("22", "23")) for c in found
    ):
        category = ErrorCategory.VALIDATION
    elif isinstance(exc, sa.exc.OperationalError) and (
        exc.connection_invalidated or found & NETWORK_CODES
    ):
        category = ErrorCategory.NETWORK
    return ToolResult.failure(tool, category, message)


def _integrity(found: set[str], lower: str) -> str | None:
    for code in sorted(found):
        if code in INTEGRITY_CODES:
            return INTEGRITY_CODES[code]
    for text, kind in SQLITE_INTEGRITY.items():
        if lower.startswith(text):
            return kind
    return None


def _conflict(tool: str, exc: Any, kind: str, message: str) -> ToolResult:
    """``<kind> constraint <name> violated: <the database's message>``."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)  # psycopg names it
    name = getattr(diag, "constraint_name", None)
    if name is None and kind == "not null":
        column = getattr(diag, "column_name", None)
        name = f"on column {column}" if column else None
    if name is None:
        name = _name_in(message, kind)
    said = f"{kind} constraint {name or '(the database does not name it)'}"
    hint = INTEGRITY_HINTS[kind]
    return ToolResult.failure(tool, ErrorCategory.CONFLICT, f"{said} violated: {message}", hint)


def _name_in(message: str, kind: str) -> str | None:
    """The constraint (or column) a MySQL/MariaDB or SQLite message names."""
    found = _NAMED.search(message)
    if found:
        return found.group(1)
    column = re.search(r"column [`\"']([^`\"']+)[`\"']", message, re.IGNORECASE)
    if column:
        return f"on column {column.group(1)}"
    _, sep, rest = message.partition("constraint failed:")  # SQLite: t.c, t.c2 or the name
    if sep and rest.strip():
        rest = rest.strip()
        return f"on {rest}" if kind in ("unique", "not null") else rest
    return None


def drift_failure(tool: str, exc: Exception) -> ToolResult | None:
    """A value the contract's types could not read because the database changed since sync,
    or None when ``exc`` is not that (then it is some other failure)."""
    text = f"{type(exc).__name__}: {exc}"
    if not any(marker in text.lower() for marker in DRIFT_TEXTS):
        return None
    message = f"a value could not be read as the type recorded at sync ({first_line(exc)})"
    return ToolResult.failure(tool, ErrorCategory.SERVER, message, DRIFT_HINT)
