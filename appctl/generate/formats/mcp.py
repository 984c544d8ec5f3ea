"""MCP ``tools/list`` result: name, description, inputSchema and annotations.

The title is left out: the description opens with the same words, and every token counts
when a client sends the whole list to its model (``appctl mcp`` adds titles for display).

Annotations are always explicit, because MCP clients assume readOnlyHint false and
destructiveHint true when they are omitted.
"""

from __future__ import annotations

from typing import Any

from appctl.contract.models import Safety
from appctl.generate.toolspec import ToolSpec


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
