"""Gemini's documented ``functionDeclarations[].parameters`` subset, as a check.

The Schema object of the Gemini API (a select subset of the OpenAPI 3.0 Schema Object):
``type`` (one of string, integer, number, boolean, array, object), ``format`` (float and
double for numbers, int32 and int64 for integers, enum and date-time for strings),
``title``, ``description``, ``nullable``, ``default``, ``example``, ``enum`` (strings, with
type string), ``items``, ``minItems``, ``maxItems``, ``properties``, ``propertyOrdering``,
``required`` (names of its own properties), ``minProperties``, ``maxProperties``,
``minLength``, ``maxLength``, ``pattern``, ``minimum``, ``maximum``, ``anyOf``. (Vertex's
reference also says parameter names hold only letters, digits and ``_``; no rejection of a
``-`` in a property name is on record, and appctl keeps the names the source gave.)
Anything else (``$ref``, ``oneOf``, ``allOf``, ``additionalProperties``, type arrays...) is
rejected, so ``gemini`` converts it or moves its meaning into the description.
"""

from __future__ import annotations

from typing import Any

TYPES = frozenset(("string", "integer", "number", "boolean", "array", "object"))
FORMATS = {
    "string": frozenset(("enum", "date-time")),
    "integer": frozenset(("int32", "int64")),
    "number": frozenset(("float", "double")),
}
KEYWORDS = frozenset(
    (
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "default",
        "example",
        "enum",
        "items",
        "minItems",
        "maxItems",
        "properties",
        "propertyOrdering",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "anyOf",
    )
)
MAX_FOUND = 20


def problems(parameters: Any) -> list[str]:
    """Where ``parameters`` leaves Gemini's schema subset (JSON pointers), empty if nowhere."""
    found: list[str] = []
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        return ["/: parameters are not an object schema"]
    _check(parameters, "", found)
    return found[:MAX_FOUND]


def schema_problems(node: Any, at: str = "") -> list[str]:
    """Where one schema (a definition, not the parameters object) leaves the subset."""
    found: list[str] = []
    _check(node, at, found)
    return found[:MAX_FOUND]


def _check(node: Any, at: str, found: list[str]) -> None:
    where = at or "/"
    if not isinstance(node, dict):
        found.append(f"{where}: not a schema object")
        return
    extra = sorted(node.keys() - KEYWORDS)
    if extra:
        found.append(f"{where}: unsupported {', '.join(extra)}")
    kind = node.get("type")
    if kind is not None and (not isinstance(kind, str) or kind not in TYPES):
        found.append(f"{where}: type {kind!r}")
    shape = node.get("format")
    if "format" in node and (
        not isinstance(shape, str) or shape not in FORMATS.get(str(kind), frozenset())
    ):
        found.append(f"{where}: format {node['format']!r} for type {kind!r}")
    enum = node.get("enum")
    if enum is not None and (
        kind != "string" or not isinstance(enum, list) or not all(isinstance(v, str) for v in enum)
    ):
        found.append(f"{where}: enum other than strings of type string")
    if "nullable" in node and not isinstance(node["nullable"], bool):
        found.append(f"{where}: nullable is not a boolean")
    props = node.get("properties")
    if props is not None and not isinstance(props, dict):
        found.append(f"{where}: properties is not an object")
        props = {}
    required = node.get("required", [])
    if not isinstance(required, list) or any(r not in (props or {}) for r in required):
        found.append(f"{where}: required names something that is not a property")
    for name, sub in (props or {}).items():
        _check(sub, f"{at}/properties/{name}", found)
    if "items" in node:
        _check(node["items"], f"{at}/items", found)
    branches = node.get("anyOf")
    if branches is not None and not isinstance(branches, list):
        found.append(f"{where}: anyOf is not a list")
    for i, branch in enumerate(branches if isinstance(branches, list) else []):
        _check(branch, f"{at}/anyOf/{i}", found)
