"""The arguments of a ``--supabase`` contract's tools (sync/postgrest.py makes the tools):
column values as JSON Schema, PostgREST's filters as a typed ``where``, and the list options.

``where`` and ``order_by`` are query parameters of the styles ``postgrest-filter`` and
``postgrest-order``, which the HTTP executor writes in PostgREST's syntax
(execute/http/postgrest.py holds the same two names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from appctl.contract.models import Field, Location
from appctl.contract.names import MAX_IN, MAX_LIMIT

FILTER_STYLE = "postgrest-filter"  # execute/http/postgrest.py writes these two
ORDER_STYLE = "postgrest-order"
_TAG = re.compile(r"<(pk|fk)\b[^>]*/>")
# PostgreSQL type (PostgREST's ``format``) → JSON Schema format
_FORMATS = {
    "timestamp with time zone": "date-time",
    "date": "date",
    "uuid": "uuid",
    "time without time zone": "time",
}
TEXT_FORMATS = ("text", "character varying", "character", "citext", "name")


def clean(text: str) -> str:
    """A description without PostgREST's ``Note:`` and ``<pk/>``/``<fk .../>`` markers."""
    return _TAG.sub("", text).replace("Note:\n", "").strip()


def value_schema(prop: Mapping[str, Any]) -> dict[str, Any]:
    """A column's value as JSON Schema, from PostgREST's property (its ``format`` is the
    PostgreSQL type; json/jsonb columns have no ``type``: any value)."""
    out: dict[str, Any] = {}
    kind = prop.get("type")
    if isinstance(kind, str):
        out["type"] = kind
    pg = str(prop.get("format", ""))
    if pg in _FORMATS and kind == "string":
        out["format"] = _FORMATS[pg]
    for key in ("enum", "maxLength"):
        if key in prop:
            out[key] = prop[key]
    if isinstance(prop.get("items"), dict):
        out["items"] = value_schema(prop["items"])
    return out


def field(name: str, prop: Mapping[str, Any], *, required: bool) -> Field:
    pg = str(prop.get("format", ""))
    described = clean(str(prop.get("description", "")))
    parts = [p for p in (described, f"PostgreSQL {pg}" if pg else "") if p]
    if "default" in prop:
        parts.append(f"default {prop['default']}")
    return Field(
        name=name,
        location=Location.BODY,
        required=required,
        description="; ".join(parts),
        schema_=value_schema(prop),
    )


def body_fields(columns: Mapping[str, dict[str, Any]], *, required: set[str]) -> list[Field]:
    return [field(c, p, required=c in required) for c, p in columns.items()]


def _ops(prop: Mapping[str, Any]) -> dict[str, Any]:
    value = {k: v for k, v in value_schema(prop).items() if k in ("type", "format", "enum")}
    kind, pg = value.get("type"), str(prop.get("format", ""))
    ops: dict[str, Any] = {}
    if kind in ("integer", "number", "string", "boolean"):
        ops["eq"] = ops["neq"] = value
    if kind in ("integer", "number", "string"):
        for op in ("gt", "gte", "lt", "lte"):
            ops[op] = value
        ops["in"] = {"type": "array", "items": value, "minItems": 1, "maxItems": MAX_IN}
    if kind == "string" and (pg in TEXT_FORMATS or not pg):
        like = "SQL LIKE pattern: % or * any characters, _ one"
        ops["like"] = {"type": "string", "description": like}
        ops["ilike"] = {"type": "string", "description": "like, ignoring case"}
    states = ["null", "not_null", *(("true", "false") if kind == "boolean" else ())]
    ops["is"] = {"type": "string", "enum": states}
    return ops


WHERE = (
    "Filters, all of which must hold: {column: {op: value}}; ops eq, neq, gt, gte, lt, lte, "
    "in (a list), like and ilike (text), is (null, not_null; true, false)."
)


REQUIRED_WHERE = " Name at least one column: the rows it matches change."


def where(columns: Mapping[str, dict[str, Any]], *, required: bool) -> Field:
    properties = {
        c: {
            "type": "object",
            "properties": _ops(p),
            "additionalProperties": False,
            "minProperties": 1,
        }
        for c, p in columns.items()
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["minProperties"] = 1
    return Field(
        name="where",
        location=Location.QUERY,
        required=required,
        description=WHERE
        + (" Name at least one column: the rows it matches change." if required else ""),
        schema_=schema,
        style=FILTER_STYLE,
    )


def list_options(names: list[str]) -> list[Field]:
    """A list tool's select, order_by, limit and offset, over these columns."""
    return [
        Field(
            name="select",
            location=Location.QUERY,
            description="Columns to return (default: all).",
            schema_={
                "type": "array",
                "items": {"type": "string", "enum": names},
                "uniqueItems": True,
            },
            style="form",
            explode=False,
        ),
        Field(
            name="order_by",
            wire_name="order",
            location=Location.QUERY,
            description="Columns to sort by, in order; prefix '-' for descending.",
            schema_={
                "type": "array",
                "items": {"type": "string", "enum": [*names, *(f"-{n}" for n in names)]},
                "maxItems": 8,
            },
            style=ORDER_STYLE,
        ),
        Field(
            name="limit",
            location=Location.QUERY,
            description=f"Most rows to return (at most {MAX_LIMIT}; without it, all rows up to "
            "the server's max-rows).",
            schema_={"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        ),
        Field(
            name="offset",
            location=Location.QUERY,
            description="Rows to skip.",
            schema_={"type": "integer", "minimum": 0},
        ),
    ]


PREFER = Field(
    name="prefer",
    wire_name="Prefer",
    location=Location.HEADER,
    hidden=True,
    schema_={"type": "string", "const": "return=representation"},
)
