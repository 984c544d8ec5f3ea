"""The neutral format (``.appctl/tools.json`` and ``--format jsonschema``).

Every tool with its JSON Schema (2020-12) input, plus what the contract knows about it.
"""

from __future__ import annotations

from typing import Any

from appctl.generate.toolspec import ToolSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "resource": spec.resource,
        "verb": spec.verb,
        "safety": spec.safety.value,
        "idempotent": spec.idempotent,
        "deprecated": spec.deprecated,
        "inputSchema": {"$schema": DIALECT, **spec.input_schema},
        **returns(spec),
    }


def returns(spec: ToolSpec) -> dict[str, Any]:
    """``{"returns": {"type": "object" | "array", "fields": [...]}}``: the main top-level
    fields of a success (of each item, for a list); nothing when the source does not say.
    A trailing "…" means there are more (the outputSchema, over MCP, has them all)."""
    if spec.returns is None:
        return {}
    kind, names = spec.returns
    return {"returns": {"type": "array" if kind == "list" else "object", "fields": list(names)}}


def render(specs: list[ToolSpec], strict: bool) -> tuple[Any, list[Any], list[str]]:
    tools = [tool(s) for s in specs]
    return {"tools": tools}, tools, []
