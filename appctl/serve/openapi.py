"""The OpenAPI 3.1 document of ``appctl serve`` (``GET /openapi.json``): the fixed endpoints,
and one path per tool whose request body is ``{"arguments": <the tool's input schema>}``.

A tool's input schema is self-contained (its definitions in ``$defs``, refs
``#/$defs/Name``); embedded under a request body those refs would point nowhere. So each
tool's definitions are hoisted into ``components/schemas`` and its refs rewritten to
``#/components/schemas/Name``. Names are deterministic: a definition keeps its own name (made
safe for a component key) unless another tool already gave that name to a different schema,
then ``Name_2``, ``Name_3``... in tool order. Two tools share a component only when the
definition and everything it reaches are the same in both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from appctl.execute.result import ErrorCategory, Reason
from appctl.generate.toolspec import SCHEMA_MAPS, VALUE_KEYWORDS

if TYPE_CHECKING:
    from appctl.contract.models import Contract
    from appctl.generate.toolspec import ToolSpec

JsonSchema = dict[str, Any]
FORMATS = ("jsonschema", "openai", "openai-responses", "anthropic", "gemini", "mcp")
COMPONENTS = "#/components/schemas/"
# where a tool's input schema keeps its definitions, and how its refs name them
DEF_CONTAINERS = {"$defs": "#/$defs/", "definitions": "#/definitions/"}
UNSAFE_KEY = re.compile(r"[^A-Za-z0-9._-]")  # component keys are ^[a-zA-Z0-9.\-_]+$
RESERVED = frozenset(("Result",))


class Components:
    """``components/schemas`` being filled, tool by tool."""

    def __init__(self, fixed: dict[str, JsonSchema]) -> None:
        self.schemas: dict[str, JsonSchema] = dict(fixed)
        self._names: dict[bytes, str] = {}  # a definition's closure (by content) → its key
        self._taken: set[str] = set(fixed) | RESERVED

    def hoist(self, schema: JsonSchema) -> JsonSchema:
        """``schema`` without its own definitions, its refs to them rewritten to components."""
        defs = _local_definitions(schema)
        edges = {ref: _local_refs(body, defs) for ref, (_, body) in defs.items()}
        mapping = {ref: self._component(ref, defs, edges) for ref in sorted(defs)}
        for ref, (_, body) in defs.items():
            key = mapping[ref]
            if key not in self.schemas:
                self.schemas[key] = _rewrite(body, mapping)
        top = {k: v for k, v in schema.items() if k not in DEF_CONTAINERS}
        return _rewrite(top, mapping)  # type: ignore[no-any-return]

    def _component(
        self, ref: str, defs: dict[str, tuple[str, Any]], edges: dict[str, list[str]]
    ) -> str:
        closure = _closure(ref, edges)
        key = orjson.dumps([ref, [[r, defs[r][1]] for r in closure]], option=orjson.OPT_SORT_KEYS)
        if key not in self._names:
            self._names[key] = self._fresh(UNSAFE_KEY.sub("_", defs[ref][0]) or "Schema")
        return self._names[key]

    def _fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}_{n}"
        self._taken.add(name)
        return name


def _local_definitions(schema: JsonSchema) -> dict[str, tuple[str, Any]]:
    """The ref string of each definition the schema carries → (its name, its schema)."""
    found: dict[str, tuple[str, Any]] = {}
    for container, prefix in DEF_CONTAINERS.items():
        defs = schema.get(container)
        if isinstance(defs, dict):
            for name, body in defs.items():
                found[prefix + _escape(name)] = (name, body)
    return found


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _split(ref: str, defs: dict[str, Any]) -> tuple[str, str] | None:
    """A ref to one of ``defs`` (or into one) → (the definition's ref, the rest of the path)."""
    for prefix in DEF_CONTAINERS.values():
        if ref.startswith(prefix):
            head, slash, rest = ref[len(prefix) :].partition("/")
            if prefix + head in defs:
                return prefix + head, slash + rest
    return None


def _local_refs(node: Any, defs: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def visit(ref: str) -> str:
        hit = _split(ref, defs)
        if hit is not None:
            found.append(hit[0])
        return ref

    _walk(node, visit)
    return list(dict.fromkeys(found))


def _closure(start: str, edges: dict[str, list[str]]) -> list[str]:
    seen, frontier = {start}, [start]
    while frontier:
        frontier = [r for ref in frontier for r in edges[ref] if r not in seen]
        seen.update(frontier)
    return sorted(seen)


def _rewrite(node: Any, mapping: dict[str, str]) -> Any:
    def move(ref: str) -> str:
        hit = _split(ref, mapping)
        return ref if hit is None else COMPONENTS + mapping[hit[0]] + hit[1]

    return _walk(node, move)


def _walk(node: Any, visit: Callable[[str], str]) -> Any:
    """A copy of a schema with each ``$ref`` replaced by ``visit(ref)``; data keywords (enum,
    default...) are values, not schemas, and are copied as they are."""
    if isinstance(node, list):
        return [_walk(item, visit) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = visit(value)
        elif key in VALUE_KEYWORDS:
            out[key] = value
        elif (key in SCHEMA_MAPS or key in DEF_CONTAINERS) and isinstance(value, dict):
            out[key] = {k: _walk(v, visit) for k, v in value.items()}
        else:
            out[key] = _walk(value, visit)
    return out


RESPONSES = {
    str(code): {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}},
    }
    for code, text in (
        (200, "The call ran and succeeded"),
        (400, "Invalid arguments"),
        (403, "Refused by a safety gate, or the application's credentials may not do this"),
        (404, "No such tool, or the application has no such row"),
        (409, "The application reports a conflict"),
        (422, "The application refused the arguments"),
        (424, "The application rejected appctl's credentials or the contract's method"),
        (429, "Over a per-tool concurrency or rate limit, or its call workers are busy"),
        (500, "A bug in appctl"),
        (502, "The application or database failed or could not be reached"),
        (504, "The application or database did not answer by the call's deadline"),
    )
}


def _json_request(body: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": body}}}


def openapi_document(schema: Contract) -> dict[str, Any]:
    """An OpenAPI 3.1 document of this server: the fixed endpoints and one path per tool."""
    from appctl.generate.toolspec import build_tool_specs

    envelope = {
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "tool": {"type": "string"},
            "status": {"type": ["integer", "null"]},
            "data": {},
            "error": {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": [c.value for c in ErrorCategory]},
                    "message": {"type": "string"},
                    "suggestions": {"type": "array", "items": {"type": "string"}},
                    "reason": {"type": "string", "enum": [r.value for r in Reason]},
                },
            },
            "notes": {"type": "array", "items": {"type": "string"}},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "next": {
                "type": "object",
                "properties": {"cursor": {"type": "string"}, "hint": {"type": "string"}},
            },
        },
        "required": ["ok", "tool"],
    }
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "operationId": "health",
                "security": [],
                "responses": {"200": {"description": "Alive"}},
            }
        },
        "/tools": {
            "get": {
                "operationId": "listTools",
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(FORMATS)},
                    }
                ],
                "responses": {"200": {"description": "Tool definitions"}},
            }
        },
        "/schema": {
            "get": {
                "operationId": "getSchema",
                "responses": {"200": {"description": "The contract"}},
            }
        },
        "/history": {
            "get": {
                "operationId": "listHistory",
                "parameters": [
                    {"name": "last", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "tool", "in": "query", "schema": {"type": "string"}},
                    {"name": "session", "in": "query", "schema": {"type": "string"}},
                    {"name": "caller", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "Recorded calls, newest last"}},
            }
        },
        "/run": {
            "post": {
                "operationId": "runAgent",
                "requestBody": _json_request(
                    {
                        "type": "object",
                        "properties": {
                            "prompt": {"type": "string"},
                            "provider": {"type": "string"},
                            "model": {"type": "string"},
                            "read_only": {"type": "boolean"},
                            "dry_run": {"type": "boolean"},
                            "max_steps": {"type": "integer", "minimum": 1},
                        },
                        "required": ["prompt"],
                    }
                ),
                "responses": {"200": {"description": "The answer, tool calls and usage"}},
            }
        },
    }
    components = Components({"Result": envelope})
    taken = {op["operationId"] for item in paths.values() for op in item.values()}
    for spec in build_tool_specs(schema):
        post = _tool_operation(spec, components.hoist(spec.input_schema))
        while post["operationId"] in taken:  # a tool named like a fixed endpoint ("health")
            post["operationId"] = f"{post['operationId']}_call"
        taken.add(post["operationId"])
        paths[f"/tools/{spec.name}/call"] = {"post": post}
    title = schema.source.title or schema.source.location
    return {
        "openapi": "3.1.0",
        "info": {"title": f"appctl serve: {title}", "version": "1"},
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _tool_operation(spec: ToolSpec, arguments: JsonSchema) -> dict[str, Any]:
    body = {"type": "object", "properties": {"arguments": arguments}, "required": ["arguments"]}
    return {
        "operationId": spec.name,
        "summary": spec.title,
        "description": spec.description,
        "tags": [spec.resource],
        "x-appctl-safety": spec.safety.value,
        "requestBody": _json_request(body),
        "responses": RESPONSES,
    }
