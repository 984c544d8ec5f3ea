"""What a model in OpenAI strict mode sends: tool schemas made strict by a real converter, and
the arguments a strict model gives (every property present, null for what it leaves out).

Converters: appctl's own (``appctl tools --format openai --strict``), and the OpenAI Agents
SDK's ``ensure_strict_json_schema`` (what ``FunctionTool(strict_json_schema=True)`` and
``MCPServer(convert_schemas_to_strict=True)`` apply), run on appctl's strict output or on its
plain output. The SDK lists every property as required without making it nullable, so on plain
output a strict model can send null only where the tool's schema allowed null already.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from agents.strict_schema import ensure_strict_json_schema

from appctl.contract.models import Contract
from appctl.generate.formats import render
from appctl.generate.toolspec import build_tool_specs

CONVERTERS = ("appctl", "sdk-on-appctl-strict", "sdk-on-plain")


class CannotOmit(ValueError):
    """The strict schema has no way to leave this property out (it does not take null)."""


def strict_tools(schema: Contract, converter: str) -> dict[str, dict[str, Any]]:
    """Tool name → its strict parameters schema, as ``converter`` makes it."""
    specs = build_tool_specs(schema)
    plain = converter == "sdk-on-plain"
    rendered = render("openai", specs, strict=not plain)
    out = {}
    for tool in rendered.document:
        function = tool["function"]
        parameters = function["parameters"]
        if converter == "appctl":
            assert function["strict"] is True, function["name"]
        else:
            parameters = ensure_strict_json_schema(copy.deepcopy(parameters))
        out[function["name"]] = parameters
    return out


def strict_call(parameters: dict[str, Any], intent: dict[str, Any]) -> dict[str, Any]:
    """The arguments a strict model sends to give ``intent``: every property of every object
    present, null for those it leaves out; checked against the strict schema."""
    arguments = _fill(parameters, intent, parameters)
    jsonschema.Draft202012Validator(parameters).validate(arguments)
    return arguments  # type: ignore[no-any-return]


def _fill(schema: dict[str, Any], intent: Any, root: dict[str, Any]) -> Any:
    if isinstance(intent, list):
        items = _branch(schema, root, "items")["items"]
        return [_fill(items, item, root) for item in intent]
    if not isinstance(intent, dict):
        return intent
    node = _branch(schema, root, "properties", set(intent))
    out = {}
    for name, sub in node["properties"].items():
        if name in intent:
            out[name] = _fill(sub, intent[name], root)
        elif _accepts_null(sub, root):
            out[name] = None
        else:
            raise CannotOmit(name)
    return out


def _branch(
    schema: dict[str, Any], root: dict[str, Any], key: str, names: set[str] | None = None
) -> dict[str, Any]:
    """The schema of an object (``key`` properties, declaring ``names``) or array (``items``)
    value: refs followed, the anyOf branch that fits taken."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return _branch({**target, **rest}, root, key, names)
    if key in schema and (names is None or names <= schema[key].keys()):
        return schema
    for branch in schema.get("anyOf", []):
        try:
            return _branch(branch, root, key, names)
        except LookupError:
            continue
    raise LookupError(f"no {key} for {names} in {schema}")


def _accepts_null(schema: dict[str, Any], root: dict[str, Any]) -> bool:
    defs = {k: root[k] for k in ("$defs", "definitions") if k in root}
    return bool(jsonschema.Draft202012Validator({**schema, **defs}).is_valid(None))
