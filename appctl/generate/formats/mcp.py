"""MCP ``tools/list`` result: name, description, inputSchema and annotations.

The title is left out: the description opens with the same words, and every token counts
when a client sends the whole list to its model (``appctl mcp`` adds titles for display).

Annotations are always explicit, because MCP clients assume readOnlyHint false and
destructiveHint true when they are omitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appctl.contract.kinds import Safety
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


def output_schema(action: Action, table: Table | None) -> dict[str, Any] | None:
    """The result envelope's JSON Schema where the contract knows the shape of ``data``: the
    rows of a database table (the SQL executor returns exactly its columns). ``data`` may also
    be text (a dry run, or a result cut to the size budget), so that stays allowed. None for
    HTTP actions: the contract does not record response shapes."""
    from appctl.contract.models import SqlTransport

    if not isinstance(action.transport, SqlTransport) or table is None:
        return None
    from appctl.contract.valueschemas import returned_schema

    dialect = action.transport.dialect
    properties = {}
    for c in table.columns:
        value = returned_schema(c.schema_, kind=c.kind, dialect=dialect)
        properties[c.name] = value if not c.nullable else {"anyOf": [value, {"type": "null"}]}
    row: dict[str, Any] = {"type": "object", "properties": properties}
    operation = action.transport.operation
    if operation == "list":
        data: dict[str, Any] = {
            "type": "object",
            "properties": {
                "rows": {"type": "array", "items": row},
                "has_more": {"type": "boolean"},
                "next_cursor": {"type": "string"},
                "next_offset": {"type": "integer", "minimum": 0},
            },
            "required": ["rows", "has_more"],
        }
    elif operation == "delete":
        data = {"type": "object", "properties": {"deleted": row}, "required": ["deleted"]}
    else:  # get, create, update: the row as it now is
        data = row
    return {
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "tool": {"type": "string"},
            "status": {"type": ["integer", "null"]},
            "data": {"anyOf": [data, {"type": "string"}]},
            "error": {"type": "object"},
            "request": {"type": "object"},
            "notes": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["ok", "tool"],
    }
