"""Reflected tables → the contract (pure).

One resource per table or view. Tables with a primary key get ``list``, ``get``, ``create``,
``update`` (partial, by key) and ``delete``; tables without one and views get ``list`` only
(``get`` needs a key). Arguments are the column names wherever those are valid argument
names (sanitized with a hash otherwise; ``column_args`` is the one mapping both sides use).

The contract is built as its schema.json document (plain JSON values, in canonical order,
exactly what ``io.dump_schema`` writes for it) together with light records of its actions
and arguments that the tool generator reads (``generate.toolspec``); the pydantic ``Contract``
is made from the document only when asked for (``DbSyncResult.schema``). A database of
thousands of tables repeats a few dozen column shapes: arguments, filters and options are
made once per shape and shared (the contract is never changed in place).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from appctl.contract.names import (
    DEFAULT_LIMIT,
    MAX_IN,
    MAX_LIMIT,
    column_args,
    dedupe,
    short_hash,
    snake_case,
    tool_name,
)
from appctl.errors import Diagnostic
from appctl.sync.db.facts import ColumnFacts, RelationFacts, TableFacts

if TYPE_CHECKING:
    from appctl.contract.models import Contract
    from appctl.sync.db.reflect import Reflected

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


@dataclass(slots=True)
class ArgField:
    """One argument of a database action: what the tool generator reads of a ``Field``,
    and its schema.json form (``document``)."""

    name: str
    wire_name: str | None
    location: str
    required: bool
    description: str
    schema_: dict[str, Any]
    document: dict[str, Any] = field(init=False)
    hidden: bool = False

    def __post_init__(self) -> None:
        doc: dict[str, Any] = {"name": self.name}
        if self.wire_name is not None:
            doc["wire_name"] = self.wire_name
        doc["location"] = self.location
        if self.required:  # false and "" are left out, as io.dump_schema leaves them
            doc["required"] = True
        if self.description:
            doc["description"] = self.description
        doc["schema"] = self.schema_
        self.document = doc

    @property
    def wire(self) -> str:
        return self.wire_name or self.name


@dataclass(slots=True)
class DbAction:
    """One database action: what the tool generator reads of an ``Action``."""

    name: str
    summary: str
    description: str
    verb: str
    safety: str
    idempotent: bool
    parameters: list[ArgField]
    document: dict[str, Any]
    deprecated: bool = False


@dataclass(slots=True)
class DbResource:
    name: str
    actions: list[DbAction]  # sorted by name


class DbSyncResult:
    """The contract built from a database: ``document`` (schema.json), ``resources`` (what
    the tool generator reads), and the pydantic ``schema``, made from the document when
    first asked for."""

    __slots__ = ("_schema", "diagnostics", "document", "filtered", "resources", "tables")

    def __init__(
        self,
        document: dict[str, Any],
        resources: list[DbResource],
        diagnostics: tuple[Diagnostic, ...],
        tables: int,
        filtered: int,
    ) -> None:
        self.document = document
        self.resources = resources
        self.diagnostics = diagnostics
        self.tables = tables
        self.filtered = filtered
        self._schema: Contract | None = None

    @property
    def schema(self) -> Contract:
        if self._schema is None:
            from appctl.contract.models import Contract

            self._schema = Contract.model_validate(self.document)
        return self._schema

    @property
    def definitions(self) -> dict[str, dict[str, Any]]:
        definitions: dict[str, dict[str, Any]] = self.document["definitions"]
        return definitions

    @property
    def action_count(self) -> int:
        return sum(len(r.actions) for r in self.resources)


def value_schema(column: ColumnFacts, *, nullable: bool | None = None) -> dict[str, Any]:
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


def _describe(column: ColumnFacts) -> str:
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


def _ops(column: ColumnFacts) -> dict[str, Any]:
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
        ops["like"] = {"type": "string", "description": LIKE_DESCRIPTION}
        ops["ilike"] = {"type": "string", "description": "like, ignoring case"}
    if column.nullable:
        ops["is_null"] = {"type": "boolean"}
    return ops


def filter_definition(column: ColumnFacts) -> tuple[str, dict[str, Any]] | None:
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


WHERE_DESCRIPTION = (
    "Filters, all of which must hold: {column: {op: value}}; ops eq, ne, lt, "
    "lte, gt, gte, in, like, ilike, is_null."
)
LIKE_DESCRIPTION = "SQL LIKE pattern: % any, _ one, \\ escapes"
# the case of `like` and `ilike` on each dialect (execute/sql/ops.py runs them), said once
# per list tool that has a text column
LIKE_CASE = {
    "sqlite": "like ignores the case of ASCII letters only; ilike of all letters.",
    "postgresql": (
        "like is case-sensitive; ilike ignores case (of non-ASCII letters as the "
        "database's locale folds them)."
    ),
    "mysql": (
        "like follows each column's collation (_ci: ignores case and accents{exact}); "
        "ilike ignores case only."
    ),
}
EXACT_COLLATION = re.compile(r"COLLATE\s+\S*_(bin|cs)\b", re.IGNORECASE)


def where_description(dialect: str, textual: Sequence[tuple[str, str]]) -> str:
    """The ``where`` option's description: the operators, and (when the table has a column
    like applies to) how each dialect treats case; on MySQL/MariaDB naming the columns whose
    collation is exact (given as (argument, column type))."""
    note = LIKE_CASE.get("mysql" if dialect == "mariadb" else dialect)
    if not textual or note is None:
        return WHERE_DESCRIPTION
    exact = [arg for arg, type_ in textual if EXACT_COLLATION.search(type_)]
    return f"{WHERE_DESCRIPTION} " + note.format(
        exact=f"; exact: {', '.join(exact)}" if exact else ""
    )


ORDER_DESCRIPTION = "Columns to sort by, in order; prefix '-' for descending. "
SET_NULL_DESCRIPTION = "Columns to set to NULL; give them no value."
COLUMN, OPTION = "column", "option"


class _Shared:
    """What many tables have in common, made once per build and shared between them:
    argument fields per column signature, filter definitions per column kind, the where and
    order_by options per set of columns, and the paging options."""

    def __init__(self) -> None:
        self.args: dict[tuple[str, ...], dict[str, str]] = {}
        self.fields: dict[tuple[Any, ...], ArgField] = {}
        self.filters: dict[tuple[Any, ...], tuple[str, dict[str, Any]] | None] = {}
        self.options: dict[tuple[Any, ...], ArgField] = {}
        # id of a column's value schema → (the schema, kept alive so the id stays its own;
        # its content as bytes): columns of one type share one schema object
        self.schema_keys: dict[int, tuple[dict[str, Any], bytes | tuple[str, int]]] = {}

    def column_args(self, table: TableFacts) -> dict[str, str]:
        """``column_args`` of the table, once per list of column names (shared: read only)."""
        names = tuple(c.name for c in table.columns)
        found = self.args.get(names)
        if found is None:
            found = self.args[names] = column_args(table)
        return found

    def signature(self, column: ColumnFacts) -> tuple[Any, ...]:
        """All that a column's argument field and filter depend on, bar its name."""
        return (
            column.kind,
            column.nullable,
            column.default,
            column.generated,
            column.comment,
            self.schema_key(column.schema_),
        )

    def schema_key(self, schema: dict[str, Any]) -> bytes | tuple[str, int]:
        found = self.schema_keys.get(id(schema))
        if found is not None and found[0] is schema:
            return found[1]
        try:
            key: bytes | tuple[str, int] = orjson.dumps(schema)
        except TypeError:  # not plain JSON: no sharing
            key = ("", id(schema))
        self.schema_keys[id(schema)] = (schema, key)
        return key

    def column_field(
        self,
        column: ColumnFacts,
        arg: str,
        *,
        required: bool,
        nullable: bool | None = None,
        signature: tuple[Any, ...] | None = None,
    ) -> ArgField:
        """The argument for a column (``signature``: the column's, when known already)."""
        if signature is None:
            signature = self.signature(column)
        key = (signature, column.name, arg, required, nullable)
        found = self.fields.get(key)
        if found is None:
            found = self.fields[key] = ArgField(
                name=arg,
                wire_name=column.name if arg != column.name else None,
                location=COLUMN,
                required=required,
                description=_describe(column),
                schema_=value_schema(column, nullable=nullable),
            )
        return found

    def filter_definition(
        self, column: ColumnFacts, signature: tuple[Any, ...] | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        if signature is None:
            signature = self.signature(column)
        key = (signature[0], signature[1], signature[5])
        if key not in self.filters:
            self.filters[key] = filter_definition(column)
        return self.filters[key]

    def option(self, name: str, description: str, schema: dict[str, Any]) -> ArgField:
        key = (name, description, orjson.dumps(schema))
        found = self.options.get(key)
        if found is None:
            found = self.options[key] = ArgField(
                name=name,
                wire_name=None,
                location=OPTION,
                required=False,
                description=description,
                schema_=schema,
            )
        return found

    def set_null(self, nullable: tuple[str, ...]) -> ArgField:
        """An update's list of columns to set to NULL (their argument names)."""
        schema = {
            "type": "array",
            "items": {"type": "string", "enum": list(nullable)},
            "uniqueItems": True,
        }
        return self.option("set_null", SET_NULL_DESCRIPTION, schema)

    def where(self, refs: tuple[tuple[str, str], ...], description: str) -> ArgField:
        key = ("where", refs, description)
        found = self.options.get(key)
        if found is None:
            properties = {arg: {"$ref": f"#/definitions/{name}"} for arg, name in refs}
            found = self.options[key] = ArgField(
                name="where",
                wire_name=None,
                location=OPTION,
                required=False,
                description=description,
                schema_={
                    "type": "object",
                    "properties": properties,
                    "additionalProperties": False,
                },
            )
        return found

    def order_by(self, sortable: tuple[str, ...], keyed: bool) -> ArgField:
        key = ("order_by", sortable, keyed)
        found = self.options.get(key)
        if found is None:
            choices = [*sortable, *(f"-{a}" for a in sortable)]
            found = self.options[key] = ArgField(
                name="order_by",
                wire_name=None,
                location=OPTION,
                required=False,
                description=ORDER_DESCRIPTION + ("Default: the primary key." if keyed else ""),
                schema_={
                    "type": "array",
                    "items": {"type": "string", "enum": choices},
                    "maxItems": 8,
                },
            )
        return found


def _list_options(
    table: TableFacts,
    dialect: str,
    args: dict[str, str],
    definitions: dict[str, dict[str, Any]],
    shared: _Shared,
    signatures: list[tuple[Any, ...]],
) -> list[ArgField]:
    refs = []
    for column, signature in zip(table.columns, signatures, strict=True):
        found = shared.filter_definition(column, signature)
        if found is not None:
            name, schema = found
            definitions.setdefault(name, schema)
            refs.append((args[column.name], name))
    textual = [(args[c.name], c.type) for c in table.columns if c.kind in TEXTUAL]
    fields = [shared.where(tuple(refs), where_description(dialect, textual))] if refs else []
    sortable = tuple(
        args[c.name] for c in table.columns if c.kind in COMPARABLE or c.kind == "boolean"
    )
    fields.append(shared.order_by(sortable, bool(table.primary_key)))
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
                "stable under inserts). Give the same where, order_by and limit.",
                {"type": "string", "maxLength": 4096},
            )
        )
    return fields


def _action(
    name: str,
    summary: str,
    description: str,
    verb: str,
    safety: str,
    transport: dict[str, Any],
    parameters: list[ArgField],
    *,
    idempotent: bool = False,
    pagination: dict[str, Any] | None = None,
) -> DbAction:
    """An action, with its schema.json form (the defaults a database action leaves as
    they are: provenance declared, no tags, not deprecated, no pointer)."""
    doc: dict[str, Any] = {
        "name": name,
        "summary": summary,
        "description": description,
        "verb": verb,
        "safety": safety,
        "provenance": "declared",
        "transport": transport,
        "parameters": [p.document for p in parameters],
        "idempotent": idempotent,
    }
    if not description:  # left out, as io.dump_schema leaves it out
        del doc["description"]
    if pagination is not None:
        doc["pagination"] = pagination
    doc["pointer"] = ""
    return DbAction(name, summary, description, verb, safety, idempotent, parameters, doc)


def _actions(
    table: TableFacts,
    resource: str,
    dialect: str,
    taken: set[str],
    definitions: dict[str, dict[str, Any]],
    shared: _Shared,
) -> list[DbAction]:
    args = shared.column_args(table)
    key = table.primary_key
    keyed = table.kind == "table" and bool(key)
    label = f"{'view' if table.kind == 'view' else 'table'} {table.qualified}"

    def transport(operation: str) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "sql", "dialect": dialect}
        if table.schema_name is not None:
            out["schema"] = table.schema_name
        out["table"] = table.name
        out["operation"] = operation
        out["key"] = list(key)
        return out

    def name(verb: str) -> str:
        chosen = dedupe(
            str(tool_name(f"{verb}_{resource}")), taken, key=f"{verb}:{table.qualified}"
        )
        taken.add(chosen)
        return chosen

    by_name = {c.name: c for c in table.columns}
    signatures = [shared.signature(c) for c in table.columns]  # in column order
    signature_of = {c.name: s for c, s in zip(table.columns, signatures, strict=True)}
    key_fields = [
        shared.column_field(
            by_name[k], args[k], required=True, nullable=False, signature=signature_of[k]
        )
        for k in key
        if k in by_name
    ]
    out = [
        _action(
            name("list"),
            f"List rows of {label}",
            f"Rows of {label}, filtered with where, sorted with order_by, "
            f"{DEFAULT_LIMIT} at a time (at most {MAX_LIMIT}); returns rows, has_more and how "
            "to get the next page.",
            "list",
            "read_only",
            transport("list"),
            _list_options(table, dialect, args, definitions, shared, signatures),
            idempotent=True,
            pagination={
                "style": "cursor" if table.primary_key else "offset",
                "params": ["cursor"] if table.primary_key else ["offset"],
            },
        )
    ]
    if not key:
        return out
    by = ", ".join(key)
    out.append(
        _action(
            name("get"),
            f"Get one row of {label} by {by}",
            "",
            "get",
            "read_only",
            transport("get"),
            key_fields,
            idempotent=True,
        )
    )
    if not keyed:
        return out
    inputs = [(c, s) for c, s in zip(table.columns, signatures, strict=True) if not c.computed]
    create = [
        shared.column_field(
            c, args[c.name], required=not c.nullable and c.default is None, signature=s
        )
        for c, s in inputs
        if not c.generated
    ]
    update = key_fields + [
        shared.column_field(c, args[c.name], required=False, signature=s)
        for c, s in inputs
        if c.name not in key
    ]
    nullable = tuple(args[c.name] for c, _ in inputs if c.name not in key and c.nullable)
    if nullable:
        update.append(shared.set_null(nullable))
    out += [
        _action(
            name("create"),
            f"Create a row in {label}",
            "Omitted columns take their database default. Returns the new row.",
            "create",
            "mutating",
            transport("create"),
            create,
        ),
        _action(
            name("update"),
            f"Update one row of {label} by {by}",
            "Changes only the columns given; set_null lists the columns to set to NULL. "
            "Returns the row as it is now.",
            "update",
            "mutating",
            transport("update"),
            update,
            idempotent=True,
        ),
        _action(
            name("delete"),
            f"Delete one row of {label} by {by}",
            "",
            "delete",
            "destructive",
            transport("delete"),
            key_fields,
            idempotent=True,
        ),
    ]
    return out


def resource_names(tables: Sequence[TableFacts]) -> dict[tuple[str | None, str], str]:
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


def _description(table: TableFacts) -> str:
    lines = [table.comment.strip()] if table.comment.strip() else []
    kind = "View" if table.kind == "view" else "Table"
    key = f"; key {', '.join(table.primary_key)}" if table.primary_key else "; no primary key"
    lines.append(f"{kind} {table.qualified}{key}.")
    return " ".join(lines)


def _target(
    relation: RelationFacts, table: TableFacts, names: dict[tuple[str | None, str], str]
) -> str:
    return names.get(
        (relation.target_schema or table.schema_name, relation.target_table),
        relation.target_table,
    )


def source_digest(tables: Sequence[TableFacts]) -> str:
    """The sha256 of what was reflected: ``json.dumps`` of the tables' ``model_dump``, keys
    sorted. Columns of one shape (the same name, type and all) are written once: their text
    is the same wherever they appear."""
    texts: dict[tuple[Any, ...], str] = {}
    out = []
    for table in tables:
        columns = []
        for c in table.columns:
            # the schema by identity: every column holding this object holds this content
            key: tuple[Any, ...] = (c.name, c.type, c.kind, c.item_kind, c.nullable)
            key += (c.default, c.generated, c.computed, c.comment, id(c.schema_))
            text = texts.get(key)
            if text is None:
                text = texts[key] = json.dumps(c.digest(), sort_keys=True)
            columns.append(text)
        rest = table.digest(columns=False)
        # "columns" sorts first: the rest of the object follows it
        out.append(
            '{"columns": [' + ", ".join(columns) + "], " + json.dumps(rest, sort_keys=True)[1:]
        )
    return hashlib.sha256(("[" + ", ".join(out) + "]").encode()).hexdigest()


def unknown_types(tables: Sequence[TableFacts]) -> list[Diagnostic]:
    """A warning per column of a type appctl does not know (its schema is the permissive
    one, ``typemap.permissive``), naming the table, the column and the type."""
    from appctl.sync.db.typemap import is_unknown

    out = []
    for table in tables:
        for column in table.columns:
            if is_unknown(column.schema_):
                how = column.schema_.get("description", "")
                out.append(
                    Diagnostic(
                        f"{table.qualified}.{column.name}: type {column.type} is not one "
                        f"appctl knows; it gets a permissive schema ({how})",
                        pointer=table.qualified,
                    )
                )
    return out


def build_contract(
    reflected: Reflected, *, stored_url: str, password_env: str | None
) -> DbSyncResult:
    names = resource_names(reflected.tables)
    taken: set[str] = set()
    resources: list[DbResource] = []
    documents: list[dict[str, Any]] = []
    diagnostics: list[Diagnostic] = []
    definitions: dict[str, dict[str, Any]] = {}
    shared = _Shared()
    # id of a column's facts → (the facts, kept alive so the id stays theirs; document)
    column_documents: dict[int, tuple[ColumnFacts, dict[str, Any]]] = {}

    def column_document(column: ColumnFacts) -> dict[str, Any]:
        found = column_documents.get(id(column))
        if found is None or found[0] is not column:
            found = column_documents[id(column)] = (column, column.document())
        return found[1]

    diagnostics += [Diagnostic(f"while reading the database: {note}") for note in reflected.notes]
    diagnostics += unknown_types(reflected.tables)
    for table in sorted(reflected.tables, key=lambda t: names[(t.schema_name, t.name)]):
        resource = names[(table.schema_name, table.name)]
        if not table.primary_key and table.kind == "table":
            diagnostics.append(
                Diagnostic(
                    f"{table.qualified} has no primary key: list only", pointer=table.qualified
                )
            )
        actions = _actions(table, resource, reflected.dialect, taken, definitions, shared)
        actions.sort(key=lambda a: a.name)
        resources.append(DbResource(resource, actions))
        targets = [_target(r, table, names) for r in table.relations]
        documents.append(
            {
                "name": resource,
                "description": _description(table),
                "actions": [a.document for a in actions],
                "table": table.document(targets, column_document),
            }
        )
    order = sorted(range(len(resources)), key=lambda i: resources[i].name)
    database: dict[str, Any] = {"url": stored_url}
    if password_env:
        database["password"] = f"env:{password_env}"
    document: dict[str, Any] = {
        "version": 1,
        "source": {
            "kind": "db",
            "location": stored_url,
            "sha256": source_digest(reflected.tables),
            "format": reflected.dialect,
            "title": "",
            "api_version": reflected.server_version,
        },
        "database": database,
        "auth": {"schemes": [], "default": []},
        "definitions": dict(sorted(definitions.items())),
        "resources": [documents[i] for i in order],
    }
    return DbSyncResult(
        document=document,
        resources=[resources[i] for i in order],
        diagnostics=tuple(diagnostics),
        tables=len(reflected.tables),
        filtered=len(reflected.skipped),
    )
