"""MCP ``tools/list`` result: name, description, inputSchema and annotations.

The title is left out: the description opens with the same words, and every token counts
when a client sends the whole list to its model (``appctl mcp`` adds titles for display).

Annotations are always explicit, because MCP clients assume readOnlyHint false and
destructiveHint true when they are omitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appctl.contract.kinds import Safety
from appctl.contract.models import HttpTransport, McpTransport, SqlTransport
from appctl.generate.outputs import OutputShapes
from appctl.generate.toolspec import ToolSpec

if TYPE_CHECKING:
    from appctl.contract.models import Action, Table


def hints(spec: ToolSpec) -> dict[str, Any]:
    """Hints, explicit wherever MCP's defaults would misstate the tool.

    Omitted hints default to readOnlyHint false, destructiveHint true, idempotentHint false,
    openWorldHint true; destructive and idempotent hints only mean something for a tool that
    is not read-only, so a read-only tool says just that.
    """
    if spec.safety == Safety.READ_ONLY:
        return {"readOnlyHint": True}
    hints: dict[str, Any] = {
        "readOnlyHint": False,
        "destructiveHint": spec.safety == Safety.DESTRUCTIVE,
    }
    if spec.idempotent:
        hints["idempotentHint"] = True
    return hints


def tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "inputSchema": spec.input_schema,
        "annotations": hints(spec),
    }


def render(specs: list[ToolSpec], strict: bool) -> tuple[Any, list[Any], list[str]]:
    tools = [tool(s) for s in specs]
    return {"tools": tools}, tools, []


ENVELOPE: dict[str, Any] = {
    "ok": {"type": "boolean"},
    "tool": {"type": "string"},
    "status": {"type": ["integer", "null"]},
    "error": {"type": "object"},
    "request": {"type": "object"},
    "notes": {"type": "array", "items": {"type": "string"}},
}


def output_schema(
    action: Action, table: Table | None, *, shapes: OutputShapes | None = None
) -> dict[str, Any] | None:
    """The result envelope's JSON Schema where the contract knows the shape of ``data``.
    ``data`` may also be text (a dry run, a result cut to the size budget, a server that
    answered text), so that stays allowed.

    - SQL tools: the rows of their table (the SQL executor returns exactly its columns).
    - HTTP tools (given ``shapes``, the contract's definitions): the documented JSON success
      bodies, loosened as ``generate.outputs`` says (``required`` dropped, so a projected
      result still fits), several shapes as ``anyOf``, with the ``$defs`` they reach.
      ``unchecked`` may hold anything: a response that did not match its documented schema
      (``execute.conform`` moves it there, with a note). None — no outputSchema — when the
      operation documents no JSON body, or one without a schema: nothing could be promised,
      and a schema that guessed would make clients reject real results."""
    if isinstance(action.transport, HttpTransport | McpTransport):  # MCP: its outputSchema
        data = shapes.data_schema(action.responses) if shapes is not None else None
        if data is None:
            return None
        defs = data.get("$defs")
        data = {k: v for k, v in data.items() if k != "$defs"}
        properties = {**ENVELOPE, "data": {"anyOf": [data, {"type": "string"}]}, "unchecked": {}}
        out = {"type": "object", "properties": properties, "required": ["ok", "tool"]}
        return {**out, "$defs": defs} if defs else out
    if not isinstance(action.transport, SqlTransport) or table is None:
        return None
    return {
        "type": "object",
        "properties": {
            **ENVELOPE,
            "data": {"anyOf": [_sql_data(action, table), {"type": "string"}]},
        },
        "required": ["ok", "tool"],
    }


def _sql_data(action: Action, table: Table) -> dict[str, Any]:
    """The rows of a database table as the SQL executor returns them."""
    assert isinstance(action.transport, SqlTransport)
    from appctl.contract.valueschemas import returned_schema

    dialect = action.transport.dialect
    properties = {}
    for c in table.columns:
        value = returned_schema(c.schema_, kind=c.kind, dialect=dialect)
        properties[c.name] = value if not c.nullable else {"anyOf": [value, {"type": "null"}]}
    row: dict[str, Any] = {"type": "object", "properties": properties}
    operation = action.transport.operation
    if operation == "list":
        return {
            "type": "object",
            "properties": {
                "rows": {"type": "array", "items": row},
                "has_more": {"type": "boolean"},
                "next_cursor": {"type": "string"},
                "next_offset": {"type": "integer", "minimum": 0},
            },
            "required": ["rows", "has_more"],
        }
    if operation == "delete":
        return {"type": "object", "properties": {"deleted": row}, "required": ["deleted"]}
    return row  # get, create, update: the row as it now is
