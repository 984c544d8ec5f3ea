"""OpenAI function tools, for Chat Completions and for the Responses API.

Limits applied: names are already ``^[a-zA-Z0-9_-]{1,64}$``; descriptions ≤ 1,024 characters.
``strict`` mode rewrites each schema to the Structured Outputs subset (every property
required, optional ones made nullable, ``additionalProperties: false`` everywhere, unsupported
keywords dropped), then checks the result against OpenAI's documented subset and limits
(``openai_subset``). A tool whose schema cannot be made strict (a free-form object, say, or
more than 1,000 enum values) is emitted with ``strict: false`` and a warning naming it and the
reason, never silently changed in meaning.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from appctl.generate.formats.common import (
    add_notes,
    allows_null,
    count_warning,
    merge_all_of,
)
from appctl.generate.formats.openai_subset import KEYWORDS, problems
from appctl.generate.text import clip
from appctl.generate.toolspec import ToolSpec

DESCRIPTION_LIMIT = 1024
TOOL_LIMIT = 128
MAX_DEPTH = 10
STRICT_KEYS = KEYWORDS  # what strict mode keeps: exactly the keywords OpenAI documents
# Keywords that change which values are valid and that Structured Outputs cannot express.
STRUCTURAL = frozenset(
    (
        "prefixItems",
        "patternProperties",
        "not",
        "if",
        "then",
        "else",
        "dependentSchemas",
        "contains",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "additionalItems",
    )
)
# Constraints it does not take: said in the description instead.
NOTED = {
    "minLength": "At least {} characters.",
    "maxLength": "At most {} characters.",
    "uniqueItems": "Items must be unique.",
    "minProperties": "At least {} properties.",
    "maxProperties": "At most {} properties.",
    "default": "Default: {}.",
}
STRICT_FORMATS = frozenset(
    (
        "date-time",
        "time",
        "date",
        "duration",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "uuid",
    )
)


class NotStrict(Exception):
    """The schema uses something Structured Outputs cannot express; ``path`` says where."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.path: list[str] = []

    def __str__(self) -> str:
        where = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in self.path)
        return f"{self.args[0]} at {where}" if self.path else str(self.args[0])


def _inside(segments: tuple[str, ...], convert: Callable[[], Any]) -> Any:
    """``convert()``, a NotStrict it raises located under ``segments``."""
    try:
        return convert()
    except NotStrict as exc:
        exc.path[:0] = segments
        raise


def nullable(node: dict[str, Any]) -> dict[str, Any]:
    """The same schema, also accepting null (how strict mode says "optional")."""
    if allows_null(node):
        return node
    kind = node.get("type")
    if isinstance(node.get("enum"), list) and (kind is None or isinstance(kind, str | list)):
        if kind is None:
            return {**node, "enum": [*node["enum"], None]}
        kinds = [kind] if isinstance(kind, str) else kind
        return {**node, "type": [*kinds, "null"], "enum": [*node["enum"], None]}
    if isinstance(kind, str):
        return {**node, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**node, "type": [*kind, "null"]}
    # a $ref or anyOf: wrap it, keeping the description where a model reads it
    lifted: dict[str, Any] = {k: node[k] for k in ("description", "title") if k in node}
    rest = {k: v for k, v in node.items() if k not in lifted}
    return {**lifted, "anyOf": [rest, {"type": "null"}]}


def strictify(node: Any, depth: int = 0, defs: dict[str, Any] | None = None) -> dict[str, Any]:
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        raise NotStrict("boolean schema or nesting deeper than 10 levels")
    node = dict(node)
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    if "allOf" in node:
        node = merge_all_of(node, defs)
        if "allOf" in node or any(k in node for k in ("oneOf", "not")):
            raise NotStrict("an allOf that does not merge into one schema")
    structural = STRUCTURAL & node.keys()
    if structural:
        raise NotStrict(", ".join(sorted(structural)))
    out = {k: v for k, v in node.items() if k in STRICT_KEYS}
    notes = [NOTED[k].format(_show(node[k])) for k in NOTED if k in node and node[k] is not False]
    if "format" in node and node["format"] not in STRICT_FORMATS:
        out.pop("format", None)
        notes.append(f"Format: {node['format']}.")
    if isinstance(node.get("contentEncoding"), str) and "contentEncoding" not in out:
        notes.append(f"Given as {node['contentEncoding']} text.")  # binary values: base64
    if notes:
        out["description"] = add_notes(str(out.get("description", "")), notes)
    if not any(k in out for k in ("type", "anyOf", "$ref", "enum", "const")):
        raise NotStrict("a value of any type")
    kind = out.get("type")
    if depth == 0 and defs is None:
        defs = out.get("$defs", {})
    if kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in out:
        out = _strict_object(out, depth, defs)
    if "items" in out:
        items = out["items"]
        out["items"] = _inside(("items",), partial(strictify, items, depth + 1, defs))
    if "anyOf" in out:
        out["anyOf"] = [
            _inside(("anyOf", str(i)), partial(strictify, v, depth + 1, defs))
            for i, v in enumerate(out["anyOf"])
        ]
    if "$defs" in out:
        out["$defs"] = {
            k: _inside(("$defs", k), partial(strictify, v, 1, defs))
            for k, v in out["$defs"].items()
        }
    return out


def _strict_object(out: dict[str, Any], depth: int, defs: dict[str, Any] | None) -> dict[str, Any]:
    props = out.get("properties") or {}
    extra = out.get("additionalProperties")
    if not props and extra is not False and depth > 0:
        raise NotStrict("a free-form object")
    if isinstance(extra, dict) and extra:
        raise NotStrict("an object with additionalProperties")
    required = set(out.get("required", []))
    out["properties"] = {}
    for k, v in props.items():
        strict = _inside(("properties", k), partial(strictify, v, depth + 1, defs))
        out["properties"][k] = strict if k in required else nullable(strict)
    out["required"] = list(props)
    out["additionalProperties"] = False
    return out


def strict_parameters(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` made strict, and checked against OpenAI's documented subset and limits."""
    out = strictify(schema)
    found = problems(out)
    if found:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        raise NotStrict(found[0] + more)
    return out


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool | int | float) else str(value)


def _function(spec: ToolSpec, strict: bool, warnings: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": spec.name,
        "description": clip(spec.description, DESCRIPTION_LIMIT),
        "parameters": spec.input_schema,
    }
    if strict:
        try:
            body["parameters"] = strict_parameters(spec.input_schema)
            body["strict"] = True
        except NotStrict as exc:
            warnings.append(
                f"{spec.name}: not strict-compatible ({exc}); emitted with strict false"
            )
            body["strict"] = False
    return body


def render_chat(specs: list[ToolSpec], strict: bool) -> tuple[Any, list[Any], list[str]]:
    warnings = count_warning("OpenAI", len(specs), TOOL_LIMIT)
    tools = [{"type": "function", "function": _function(s, strict, warnings)} for s in specs]
    return tools, tools, warnings


def render_responses(specs: list[ToolSpec], strict: bool) -> tuple[Any, list[Any], list[str]]:
    warnings = count_warning("OpenAI", len(specs), TOOL_LIMIT)
    tools = []
    for spec in specs:
        body = _function(spec, strict, warnings)
        body.setdefault("strict", False)  # the Responses API assumes strict when it is omitted
        tools.append({"type": "function", **body})
    return tools, tools, warnings
