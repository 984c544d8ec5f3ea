"""Anthropic Messages API ``tools``: name, description, input_schema (JSON Schema)."""

from __future__ import annotations

import re
from typing import Any

from appctl.generate.toolspec import ToolSpec

PROPERTY_KEY = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")


def bad_keys(schema: Any) -> list[str]:
    """Property keys anywhere in the schema that Anthropic's key pattern rejects."""
    found: list[str] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                found += [k for k in props if not PROPERTY_KEY.match(k)]
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)
    return found


def render(specs: list[ToolSpec], strict: bool) -> tuple[Any, list[Any], list[str]]:
    tools = [
        {"name": s.name, "description": s.description, "input_schema": s.input_schema}
        for s in specs
    ]
    warnings = [
        f"{s.name}: nested property key {k!r} does not match Anthropic's pattern "
        f"{PROPERTY_KEY.pattern}"
        for s in specs
        for k in bad_keys(s.input_schema)
    ]
    return tools, tools, warnings
