"""PostgREST's query syntax for the two argument styles a ``--supabase`` contract uses
(sync/postgrest.py): pure, no I/O.

``postgrest-filter``: ``{column: {op: value}}`` → one ``column=op.value`` piece per
operator, all of which PostgREST ANDs: ``eq``/``neq``/``gt``/``gte``/``lt``/``lte``/``like``/
``ilike`` take the value as it is (the whole text after the operator is the value);
``in`` takes a list, written ``in.(a,b)`` with each value that holds a reserved character
(``,.:()"\\`` or a space) in double quotes and ``"``/``\\`` escaped by a backslash, as the
PostgREST URL grammar says; ``is`` takes null, true, false, or not_null (``not.is.null``).

``postgrest-order``: ``["title", "-created_at"]`` → ``order=title.asc,created_at.desc``.

Every piece is percent-encoded as any query value is (encode.py), which PostgREST decodes
before it parses the filter.
"""

from __future__ import annotations

import re
from typing import Any

FILTER_STYLE = "postgrest-filter"
ORDER_STYLE = "postgrest-order"
STYLES = (FILTER_STYLE, ORDER_STYLE)
SCALAR_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike")
_RESERVED = re.compile(r'[,.:()"\\\s]')


def filter_value(op: str, value: Any) -> str:
    """The text after ``column=`` for one operator and its value."""
    if op == "in":
        return "in.(" + ",".join(_listed(v) for v in value) + ")"
    if op == "is":
        return "not.is.null" if value == "not_null" else f"is.{value}"
    if op in SCALAR_OPS:
        return f"{op}.{_scalar(value)}"
    raise ValueError(f"{op!r} is not a PostgREST operator appctl sends")


def filters(value: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(column, text) pairs of a ``where`` object, in its order."""
    return [(column, filter_value(op, v)) for column, ops in value.items() for op, v in ops.items()]


def order(value: list[str]) -> str:
    return ",".join(f"{c[1:]}.desc" if c.startswith("-") else f"{c}.asc" for c in value)


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _listed(value: Any) -> str:
    text = _scalar(value)
    if isinstance(value, str) and (_RESERVED.search(text) or text == ""):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
