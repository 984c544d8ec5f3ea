"""Reflected tables → the contract (pure).

One resource per table or view. Tables with a primary key get ``list``, ``get``, ``create``,
``update`` (partial, by key) and ``delete``; tables without one and views get ``list`` only
(``get`` needs a key). Arguments are the column names wherever those are valid argument
names (sanitized with a hash otherwise; ``column_args`` is the one mapping both sides use).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson

from appctl.contract.io import canonical
from appctl.contract.models import (
    Action,
    Column,
    Database,
    Field,
    Location,
    Pagination,
    Provenance,
    Resource,
    Safety,
    Schema,
    Source,
    SqlTransport,
    Table,
    Verb,
)
from appctl.contract.names import arg_name, dedupe, short_hash, snake_case, tool_name
from appctl.errors import Diagnostic
from appctl.sync.db.reflect import Reflected

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_IN = 500
OPTIONS = ("where", "order_by", "limit", "offset", "cursor")
COMPARABLE = frozenset(
    (
        "integer",
        "number",
        "decimal",
        "string",
        "date",
        "datetime",
        "time",
        "interval",
        "uuid",
        "enum",
    )
)
TEXTUAL = frozenset(("string", "enum"))


@dataclass(frozen=True, slots=True)
class DbSyncResult:
    schema: Schema
    diagnostics: tuple[Diagnostic, ...]
    tables: int
    filtered: int


def column_args(table: Table) -> dict[str, str]:
    """Column name → argument name: the name itself when valid, never one of the options."""
    out: dict[str, str] = {}
    taken: set[str] = set(OPTIONS)
    for column in table.columns:
        base = arg_name(column.name)
        name = dedupe(base, taken, key=column.name)
        taken.add(name)
        out[column.name] = name
    return out


def value_schema(column: Column, *, nullable: bool | None = None) -> dict[str, Any]:
    """A column value's JSON Schema, with null allowed when the column (or caller) says so."""
    schema = dict(column.schema_)
    allow_null = column.nullable if nullable is None else nullable
    if not allow_null or not schema:
        return schema
    kind = schema.get("type")
    if isinstance(kind, list):
        schema["type"] = [*kind, "null"]
    elif kind is not None:
        schema["type"] = [kind, "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _describe(column: Column) -> str:
    parts = [column.comment.strip()] if column.comment.strip() else []
    if column.default is not None and not column.generated:
        parts.append(f"default {column.default}")
    return "; ".join(parts)


LOOSE_KEYS = ("type", "format", "enum", "items")


def _loose(schema: dict[str, Any]) -> dict[str, Any]:
    """Only what says which values exist (type, format, enum): a filter value out of a
    column's range or length simply matches nothing."""
    out = {k: schema[k] for k in LOOSE_KEYS if k in schema}
    if isinstance(out.get("items"), dict):
        out["items"] = _loose(out["items"])
    return out


def _ops(column: Column) -> dict[str, Any]:
    value = _loose(column.schema_)
    ops: dict[str, Any] = {}
    if column.kind in COMPARABLE or column.kind == "boolean":
        ops["eq"] = value
        ops["ne"] = value
    if column.kind in COMPARABLE:
        for op in ("lt", "lte", "gt", "gte"):
            ops[op] = value
        ops["in"] = {"type": "array", "items": value, "minItems": 1, "maxItems": MAX_IN}
    if column.kind in TEXTUAL:
        ops["like"] = {"type": "string", "description": "SQL LIKE pattern: % any, _ one"}
        ops["ilike"] = {"type": "string", "description": "LIKE, ignoring case"}
    if column.nullable:
        ops["is_null"] = {"type": "boolean"}
    return ops


def filter_definition(column: Column) -> tuple[str, dict[str, Any]] | None:
    """The shared definition of one column's filter object, e.g. ``IntegerFilter``: columns of
    the same kind (and nullability, and enum values) share it, so a table's ``where`` is a
    list of references and the contract stays small however many tables there are."""
    ops = _ops(column)
    if not ops:
        return None
    kind = "".join(part.capitalize() for part in column.kind.split("_"))
    name = ("Nullable" if column.nullable else "") + f"{kind}Filter"
    loose = _loose(column.schema_)
    if "enum" in loose or "items" in loose or column.kind == "other":
        name += "_" + short_hash(json.dumps(loose, sort_keys=True))
    schema = {
        "type": "object",
        "properties": ops,
        "additionalProperties": False,
        "minProperties": 1,
    }
    return name, schema


class _Shared:
    """What many tables have in common, made once per build and shared between them (the
    contract is never changed in place): argument fields per column signature, filter
    definitions per column kind, and the paging options. A database of thousands of tables
    repeats a few dozen column shapes."""

    def __init__(self) -> None:
        self.fields: dict[tuple[Any, ...], Field] = {}
        self.filters: dict[tuple[Any, ...], tuple[str, dict[str, Any]] | None] = {}
        self.options: dict[tuple[Any, ...], Field] = {}
        # id of a column → (the column, kept alive so the id stays its own; its signature)
        self.signatures: dict[int, tuple[Column, tuple[Any, ...]]] = {}

    def signature(self, column: Column) -> tuple[Any, ...]:
        """All that a column's argument field and filter depend on, bar its name."""
        found = self.signatures.get(id(column))
        if found is not None and found[0] is column:
            return found[1]
        signature = (
            column.kind,
            column.nullable,
            column.default,
            column.generated,
            column.comment,
            _schema_key(column),
        )
        self.signatures[id(column)] = (column, signature)
        return signature

    def column_field(
        self, column: Column, arg: str, *, required: bool, nullable: bool | None = None
    ) -> Field:
        key = (self.signature(column), column.name, arg, required, nullable)
        found = self.fields.get(key)
        if found is None:
            found = self.fields[key] = _column_field(
                column, arg, required=required, nullable=nullable
            )
        return found

    def filter_definition(self, column: Column) -> tuple[str, dict[str, Any]] | None:
        signature = self.signature(column)
        key = (signature[0], signature[1], signature[5])
        if key not in self.filters:
            self.filters[key] = filter_definition(column)
        return self.filters[key]

    def option(self, name: str, description: str, schema: dict[str, Any]) -> Field:
        key = (name, description, orjson.dumps(schema))
        found = self.options.get(key)
        if found is None:
            found = self.options[key] = Field(
                name=name, location=Location.OPTION, description=description, schema_=schema
            )
        return found


def _schema_key(column: Column) -> bytes | tuple[str, int]:
    try:
        return orjson.dumps(column.schema_)
    except TypeError:  # not plain JSON: no sharing
        return ("", id(column))


def where_field(
    table: Table,
    args: dict[str, str],
    definitions: dict[str, dict[str, Any]],
    shared: _Shared | None = None,
) -> Field | None:
    properties = {}
    for column in table.columns:
        found = filter_definition(column) if shared is None else shared.filter_definition(column)
        if found is not None:
            name, schema = found
            definitions.setdefault(name, schema)
            properties[args[column.name]] = {"$ref": f"#/definitions/{name}"}
    if not properties:
        return None
    return Field(
        name="where",
        location=Location.OPTION,
        description="Filters, all of which must hold: {column: {op: value}}; ops eq, ne, lt, "
        "lte, gt, gte, in, like, ilike, is_null.",
        schema_={"type": "object", "properties": properties, "additionalProperties": False},
    )


def _order_field(table: Table, args: dict[str, str]) -> Field:
    sortable = [args[c.name] for c in table.columns if c.kind in COMPARABLE or c.kind == "boolean"]
    choices = [*sortable, *(f"-{a}" for a in sortable)]
    return Field(
        name="order_by",
        location=Location.OPTION,
        description="Columns to sort by, in order; prefix '-' for descending. "
        + ("Default: the primary key." if table.primary_key else ""),
        schema_={"type": "array", "items": {"type": "string", "enum": choices}, "maxItems": 8},
    )


def _list_options(
    table: Table, args: dict[str, str], definitions: dict[str, dict[str, Any]], shared: _Shared
) -> list[Field]:
    fields = [f for f in (where_field(table, args, definitions, shared),) if f is not None]
    fields.append(_order_field(table, args))
    fields.append(
        shared.option(
            "limit",
            f"Most rows to return (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        )
    )
    fields.append(
        shared.option(
            "offset",
            "Rows to skip (use next_offset from the previous page).",
            {"type": "integer", "minimum": 0},
        )
    )
    if table.primary_key:
        fields.append(
            shared.option(
                "cursor",
                "Continue after the previous page: its next_cursor (keyset paging, "
                "stable under inserts). Give the same where and order_by.",
                {"type": "string", "maxLength": 4096},
            )
        )
    return fields


def _column_field(
    column: Column, arg: str, *, required: bool, nullable: bool | None = None
) -> Field:
    return Field(
        name=arg,
        wire_name=column.name if arg != column.name else None,
        location=Location.COLUMN,
        required=required,
        description=_describe(column),
        schema_=value_schema(column, nullable=nullable),
    )


def _actions(
    table: Table,
    resource: str,
    dialect: str,
    taken: set[str],
    definitions: dict[str, dict[str, Any]],
    shared: _Shared,
) -> list[Action]:
    args = column_args(table)
    key = table.primary_key
    keyed = table.kind == "table" and bool(key)
    label = f"{'view' if table.kind == 'view' else 'table'} {table.qualified}"

    def transport(operation: str) -> SqlTransport:
        return SqlTransport(
            dialect=dialect,
            schema_name=table.schema_name,
            table=table.name,
            operation=operation,
            key=list(key),
        )

    def name(verb: str) -> str:
        chosen = dedupe(
            str(tool_name(f"{verb}_{resource}")), taken, key=f"{verb}:{table.qualified}"
        )
        taken.add(chosen)
        return chosen

    by_name = {c.name: c for c in table.columns}
    key_fields = [
        shared.column_field(by_name[k], args[k], required=True, nullable=False)
        for k in key
        if k in by_name
    ]
    out = [
        Action(
            name=name("list"),
            summary=f"List rows of {label}",
            description=f"Rows of {label}, filtered with where, sorted with order_by, "
            f"{DEFAULT_LIMIT} at a time (at most {MAX_LIMIT}); returns rows, has_more and how "
            "to get the next page.",
            verb=Verb.LIST,
            safety=Safety.READ_ONLY,
            provenance=Provenance.DECLARED,
            transport=transport("list"),
            parameters=_list_options(table, args, definitions, shared),
            idempotent=True,
            pagination=Pagination(
                style="cursor" if table.primary_key else "offset",
                params=["cursor"] if table.primary_key else ["offset"],
            ),
        )
    ]
    if not key:
        return out
    out.append(
        Action(
            name=name("get"),
            summary=f"Get one row of {label} by {', '.join(key)}",
            verb=Verb.GET,
            safety=Safety.READ_ONLY,
            transport=transport("get"),
            parameters=key_fields,
            idempotent=True,
        )
    )
    if not keyed:
        return out
    inputs = [c for c in table.columns if not c.computed]
    create = [
        shared.column_field(c, args[c.name], required=not c.nullable and c.default is None)
        for c in inputs
        if not c.generated
    ]
    update = key_fields + [
        shared.column_field(c, args[c.name], required=False) for c in inputs if c.name not in key
    ]
    out += [
        Action(
            name=name("create"),
            summary=f"Create a row in {label}",
            description="Omitted columns take their database default. Returns the new row.",
            verb=Verb.CREATE,
            safety=Safety.MUTATING,
            transport=transport("create"),
            parameters=create,
        ),
        Action(
            name=name("update"),
            summary=f"Update one row of {label} by {', '.join(key)}",
            description="Changes only the columns given (null sets NULL where allowed). "
            "Returns the row as it is now.",
            verb=Verb.UPDATE,
            safety=Safety.MUTATING,
            transport=transport("update"),
            parameters=update,
            idempotent=True,
        ),
        Action(
            name=name("delete"),
            summary=f"Delete one row of {label} by {', '.join(key)}",
            verb=Verb.DELETE,
            safety=Safety.DESTRUCTIVE,
            transport=transport("delete"),
            parameters=key_fields,
            idempotent=True,
        ),
    ]
    return out


def resource_names(tables: list[Table]) -> dict[tuple[str | None, str], str]:
    """(schema, table) → resource name; schema-qualified where a table name repeats."""
    counts = Counter(snake_case(t.name) or "table" for t in tables)
    out: dict[tuple[str | None, str], str] = {}
    taken: set[str] = set()
    for t in sorted(tables, key=lambda t: (t.schema_name or "", t.name)):
        base = snake_case(t.name) or "table"
        if counts[base] > 1 and t.schema_name:
            base = f"{snake_case(t.schema_name)}_{base}"
        chosen = dedupe(base, taken, key=t.qualified)
        taken.add(chosen)
        out[(t.schema_name, t.name)] = chosen
    return out


def _description(table: Table, names: dict[tuple[str | None, str], str]) -> str:
    lines = [table.comment.strip()] if table.comment.strip() else []
    kind = "View" if table.kind == "view" else "Table"
    key = f"; key {', '.join(table.primary_key)}" if table.primary_key else "; no primary key"
    lines.append(f"{kind} {table.qualified}{key}.")
    return " ".join(lines)


def build_contract(
    reflected: Reflected, *, stored_url: str, password_env: str | None
) -> DbSyncResult:
    names = resource_names(reflected.tables)
    taken: set[str] = set()
    resources = []
    diagnostics: list[Diagnostic] = []
    definitions: dict[str, dict[str, Any]] = {}
    shared = _Shared()
    for table in sorted(reflected.tables, key=lambda t: names[(t.schema_name, t.name)]):
        resource = names[(table.schema_name, table.name)]
        relations = [
            r.model_copy(
                update={
                    "target": names.get(
                        (r.target_schema or table.schema_name, r.target_table), r.target_table
                    )
                }
            )
            for r in table.relations
        ]
        table = table.model_copy(update={"relations": relations})
        if not table.primary_key and table.kind == "table":
            diagnostics.append(
                Diagnostic(
                    f"{table.qualified} has no primary key: list only", pointer=table.qualified
                )
            )
        resources.append(
            Resource(
                name=resource,
                description=_description(table, names),
                actions=_actions(table, resource, reflected.dialect, taken, definitions, shared),
                table=table,
            )
        )
    digest = hashlib.sha256(
        json.dumps([t.model_dump(mode="json") for t in reflected.tables], sort_keys=True).encode()
    ).hexdigest()
    schema = Schema(
        source=Source(
            kind="db",
            location=stored_url,
            sha256=digest,
            format=reflected.dialect,
            api_version=reflected.server_version,
        ),
        database=Database(url=stored_url, password=f"env:{password_env}" if password_env else None),
        definitions=definitions,
        resources=resources,
    )
    return DbSyncResult(
        schema=canonical(schema),
        diagnostics=tuple(diagnostics),
        tables=len(reflected.tables),
        filtered=len(reflected.skipped),
    )
