"""OpenAI's documented Structured Outputs subset ("Supported schemas"), as a check.

``problems(parameters)`` lists where a schema leaves the subset; ``openai`` emits a tool
``strict: true`` only when the list is empty (otherwise ``strict: false`` and a warning naming
the tool and the first problem). The rules, from OpenAI's guide (2026-12):

- the root is an object, not ``anyOf``; every object lists all its properties in ``required``
  and has ``additionalProperties: false``;
- types string, number, integer, boolean, object, array, null (and enum, const, anyOf);
  keywords: pattern and format (date-time, time, date, duration, email, hostname, ipv4, ipv6,
  uuid) for strings; minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf for
  numbers; minItems, maxItems for arrays; ``$defs`` and ``$ref`` (``#`` or ``#/$defs/...``);
- not supported: allOf, not, dependentRequired, dependentSchemas, if/then/else, and every other
  keyword (patternProperties, propertyNames, minLength, uniqueItems, contains...);
- at most 5,000 object properties and 10 levels of object nesting; at most 120,000 characters
  of property names, definition names, enum and const values together; at most 1,000 enum
  values; a string enum of more than 250 values at most 15,000 characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TYPES = frozenset(("string", "number", "integer", "boolean", "object", "array", "null"))
FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
)
KEYWORDS = frozenset(
    (
        "type",
        "description",
        "title",
        "enum",
        "const",
        "anyOf",
        "$ref",
        "$defs",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    )
)
MAX_PROPERTIES = 5000
MAX_NESTING = 10
MAX_CHARS = 120_000
MAX_ENUM_VALUES = 1000
LARGE_ENUM = 250
LARGE_ENUM_CHARS = 15_000


@dataclass
class _Tally:
    properties: int = 0
    chars: int = 0
    enum_values: int = 0
    found: list[str] = field(default_factory=list)


def problems(parameters: Any) -> list[str]:
    """Where ``parameters`` leaves OpenAI's strict subset (JSON pointers), empty if nowhere."""
    tally = _Tally()
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        return ["the root is not an object schema"]
    if "anyOf" in parameters:
        return ["the root is an anyOf"]
    defs = parameters.get("$defs", {})
    for name, body in (defs if isinstance(defs, dict) else {}).items():
        tally.chars += len(name)
        _check(body, f"/$defs/{name}", 1, tally, defs)
    _check({k: v for k, v in parameters.items() if k != "$defs"}, "", 1, tally, defs)
    if tally.properties > MAX_PROPERTIES:
        tally.found.append(f"{tally.properties} object properties (at most {MAX_PROPERTIES})")
    if tally.chars > MAX_CHARS:
        tally.found.append(f"{tally.chars:,} characters of names and values (at most 120,000)")
    if tally.enum_values > MAX_ENUM_VALUES:
        tally.found.append(f"{tally.enum_values} enum values (at most {MAX_ENUM_VALUES})")
    return tally.found


def _check(node: Any, at: str, level: int, tally: _Tally, defs: Any) -> None:
    if not isinstance(node, dict):
        tally.found.append(f"{at or '/'}: a boolean schema")
        return
    unsupported = sorted(node.keys() - KEYWORDS)
    if unsupported:
        tally.found.append(f"{at or '/'}: unsupported {', '.join(unsupported)}")
    _check_values(node, at, tally)
    ref = node.get("$ref")
    if ref is not None and not _local(ref, defs):
        tally.found.append(f"{at or '/'}: $ref {ref!r} is not # or #/$defs/NAME")
    if "properties" in node or node.get("type") == "object" or "object" in _types(node):
        _check_object(node, at, level, tally, defs)
    if "items" in node:
        _check(node["items"], f"{at}/items", level, tally, defs)
    for i, branch in enumerate(node.get("anyOf") or []):
        _check(branch, f"{at}/anyOf/{i}", level, tally, defs)


def _check_object(node: dict[str, Any], at: str, level: int, tally: _Tally, defs: Any) -> None:
    where = at or "/"
    if level > MAX_NESTING:
        tally.found.append(f"{where}: objects nested deeper than {MAX_NESTING} levels")
    props = node.get("properties") or {}
    if node.get("additionalProperties") is not False:
        tally.found.append(f"{where}: an object without additionalProperties: false")
    if sorted(node.get("required") or []) != sorted(props):
        tally.found.append(f"{where}: not every property is required")
    tally.properties += len(props)
    for name, sub in props.items():
        tally.chars += len(name)
        _check(sub, f"{at}/properties/{name}", level + 1, tally, defs)


def _check_values(node: dict[str, Any], at: str, tally: _Tally) -> None:
    where = at or "/"
    bad = [t for t in _types(node) if not isinstance(t, str) or t not in TYPES]
    if bad or ("type" in node and not _types(node)):
        tally.found.append(f"{where}: type {node['type']!r}")
    if "format" in node and (not isinstance(node["format"], str) or node["format"] not in FORMATS):
        tally.found.append(f"{where}: format {node['format']!r}")
    values = node.get("enum")
    if isinstance(values, list):
        tally.enum_values += len(values)
        strings = [v for v in values if isinstance(v, str)]
        size = sum(map(len, strings))
        tally.chars += size
        if len(strings) > LARGE_ENUM and size > LARGE_ENUM_CHARS:
            tally.found.append(f"{where}: {len(strings)} enum values of {size:,} characters")
    if isinstance(node.get("const"), str):
        tally.chars += len(node["const"])


def _types(node: dict[str, Any]) -> list[Any]:
    kind = node.get("type")
    return [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []


def _local(ref: Any, defs: Any) -> bool:
    if ref == "#":
        return True
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return False
    return isinstance(defs, dict) and ref[len("#/$defs/") :].split("/")[0] in defs
