"""Documented response schemas → the shape a result's ``data`` is promised to have.

Takes an action's ``responses`` and the contract's definitions; returns the JSON Schema of
``data`` for the tool's ``outputSchema`` (MCP), or None where nothing can be promised.

What the outputSchema promises is a *loosened* view of the contract's schemas: every value
the contract's schema accepts is accepted, after what may happen to a result on its way out:

- ``required`` lists (and ``dependentRequired``, ``minProperties``) are dropped: a ``fields``
  projection keeps an object's nesting but leaves members out; the contract keeps them,
  and ``execute.conform`` checks a response against the contract's own schema;
- ``minItems``/``contains``: a result cut to the size budget keeps the leading items only;
- string constraints (``pattern``, lengths, ``format``): a secret the server echoed is
  redacted to a marker; ``format`` is also a keyword some validators refuse to compile;
- ``oneOf`` becomes ``anyOf`` (branches told apart by their required members may all match
  once those are gone); ``not``/``if``/``then``/``else`` are dropped (they only forbid);
- descriptions, titles, examples and defaults are left out: a client sends tools/list to
  its model whole, and the tool's description already says what it returns.

Kept: types (and nullability), enums and consts, properties, items, ``additionalProperties``
and ``anyOf``/``allOf`` structure, numeric bounds. Each keyword is dropped from a conjunction
of constraints, never from under a negation, so the view only ever accepts more.

Size: a client may hold tools/list whole (GitHub's 926 tools with a JSON body). Definitions
reached by ``$ref`` come along in ``$defs`` (refs rewritten to ``#/$defs/``), breadth first
within ``DEFS_NODE_BUDGET`` nodes; a reference past it becomes ``{}`` (any value: looser, so
still sound), as ``toolspec`` stubs input schemas past its budget; and past ``LEVELS`` levels
of nesting a value is described by its type alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appctl.contract.responses import Response, is_json
from appctl.generate.toolspec import size_of

JsonSchema = dict[str, Any]
CONTRACT_PREFIX = "#/definitions/"
OUTPUT_PREFIX = "#/$defs/"
DEFS_NODE_BUDGET = 300  # nodes of loosened definitions per tool (GitHub: 1.7 MB in all)
LEVELS = 2  # levels of nesting said in full; deeper values by their type alone
# Keywords whose value is one schema, a list of schemas, or a map of name → schema.
_ONE = frozenset(("items", "additionalProperties", "propertyNames"))
_LIST = frozenset(("anyOf", "allOf", "prefixItems"))
_MAP = frozenset(("properties", "patternProperties"))
_VALUE = frozenset(
    (
        "type",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "maxItems",
        "uniqueItems",
        "maxProperties",
    )
)


class OutputShapes:
    """The contract's definitions, loosened once each and shared by every tool's schema."""

    def __init__(self, definitions: dict[str, JsonSchema]) -> None:
        self.definitions = definitions
        self._loose: dict[str, JsonSchema] = {}
        self._refs: dict[str, list[str]] = {}
        self._sizes: dict[str, int] = {}

    def data_schema(self, responses: Sequence[Response]) -> JsonSchema | None:
        """``data``'s schema: any documented JSON success body (``anyOf`` when there are
        several shapes), with its ``$defs``; None when there is no JSON body, or one whose
        shape is not documented (nothing could be promised about it)."""
        bodies = [s for r in responses for m, s in r.content.items() if is_json(m)]
        if not bodies or any(not s for s in bodies):
            return None
        shapes = list({_key(s): loosen(s) for s in bodies}.values())
        top = shapes[0] if len(shapes) == 1 else {"anyOf": shapes}
        keep = self._reach(_refs(top))
        out: JsonSchema = _stub_missing(top, keep)
        if keep:
            out = {**out, "$defs": {n: _stub_missing(self.loose(n), keep) for n in keep}}
        return out

    def loose(self, name: str) -> JsonSchema:
        if name not in self._loose:
            self._loose[name] = loosen(self.definitions.get(name, {}))
        return self._loose[name]

    def _reach(self, frontier: list[str]) -> list[str]:
        """Definitions reachable from ``frontier``, breadth first, while within the budget."""
        included: list[str] = []
        seen: set[str] = set()
        spent = 0
        while frontier:
            following: list[str] = []
            for name in frontier:
                if name in seen or name not in self.definitions:
                    continue
                seen.add(name)
                if name not in self._sizes:
                    self._sizes[name] = size_of(self.loose(name))
                if spent + self._sizes[name] > DEFS_NODE_BUDGET:
                    continue
                spent += self._sizes[name]
                included.append(name)
                if name not in self._refs:
                    self._refs[name] = _refs(self.loose(name))
                following.extend(self._refs[name])
            frontier = following
        return sorted(included)


def loosen(node: Any, depth: int = 0) -> Any:
    """The loosened view of a contract schema (see the module docstring); past ``LEVELS``
    levels of nesting only a value's type is said."""
    if not isinstance(node, dict):
        return node  # a boolean schema
    if depth > LEVELS:
        kind = node.get("type")
        return {"type": kind} if isinstance(kind, str | list) else {}
    out: JsonSchema = {}
    deeper = depth + 1
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(CONTRACT_PREFIX):
            out[key] = OUTPUT_PREFIX + value[len(CONTRACT_PREFIX) :]
        elif key in _VALUE:
            out[key] = value
        elif key in _ONE:
            out[key] = loosen(value, deeper)
        elif key in _MAP and isinstance(value, dict):
            out[key] = {name: loosen(sub, deeper) for name, sub in value.items()}
        elif key in _LIST and isinstance(value, list):
            out[key] = [loosen(sub, depth) for sub in value]
    branches = node.get("oneOf")
    if isinstance(branches, list):  # as anyOf; beside an anyOf of its own both must hold
        loose = [loosen(sub, depth) for sub in branches]
        if "anyOf" in out:
            out["allOf"] = [*out.get("allOf", []), {"anyOf": loose}]
        else:
            out["anyOf"] = loose
    return out


def _refs(node: Any) -> list[str]:
    """Output ``$defs`` names referred to in a loosened schema, each once, in order."""
    found: dict[str, None] = {}
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(OUTPUT_PREFIX):
                found.setdefault(ref[len(OUTPUT_PREFIX) :], None)
            for key, value in item.items():
                if key in _MAP and isinstance(value, dict):
                    stack.extend(value.values())
                elif key not in _VALUE:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return list(found)


def _stub_missing(node: Any, keep: list[str]) -> Any:
    """References to definitions left out (past the budget, or missing) made ``{}``."""
    kept = set(keep)

    def walk(item: Any) -> Any:
        if isinstance(item, list):
            return [walk(v) for v in item]
        if not isinstance(item, dict):
            return item
        ref = item.get("$ref")
        if isinstance(ref, str) and ref[len(OUTPUT_PREFIX) :] not in kept:
            item = {k: v for k, v in item.items() if k != "$ref"}
        return {
            k: v if k in _VALUE else {p: walk(s) for p, s in v.items()} if k in _MAP else walk(v)
            for k, v in item.items()
        }

    return walk(node)


def _key(schema: JsonSchema) -> str:
    import json

    return json.dumps(schema, sort_keys=True, default=str)


def returned_fields(responses: Sequence[Response], definitions: dict[str, JsonSchema]) -> Any:
    """(kind, names) of the first documented JSON success body: ``"object"`` and its
    top-level property names, ``"list"`` and those of its items, or None when it is
    neither (or undocumented). allOf parts are merged; refs followed (bounded)."""
    bodies = [s for r in responses for m, s in r.content.items() if is_json(m) and s]
    if not bodies:
        return None
    top = _follow(bodies[0], definitions)
    if top.get("type") == "array" or (top.get("items") and "properties" not in top):
        names = _names(_follow(top.get("items", {}), definitions), definitions)
        return ("list", names) if names else None
    names = _names(top, definitions)
    return ("object", names) if names else None


def _follow(node: Any, definitions: dict[str, JsonSchema]) -> JsonSchema:
    for _ in range(16):
        if not isinstance(node, dict):
            return {}
        ref = node.get("$ref")
        if not (isinstance(ref, str) and ref.startswith(CONTRACT_PREFIX)):
            return node
        node = definitions.get(ref[len(CONTRACT_PREFIX) :], {})
    return {}


def _names(node: JsonSchema, definitions: dict[str, JsonSchema], depth: int = 0) -> list[str]:
    names: list[str] = []
    for part in node.get("allOf", []) if depth < 8 else []:
        names += [n for n in _names(_follow(part, definitions), definitions, depth + 1)]
    props = node.get("properties")
    if isinstance(props, dict):
        names += [str(n) for n, p in props.items() if not _write_only(p, definitions)]
    return list(dict.fromkeys(names))


def _write_only(node: Any, definitions: dict[str, JsonSchema]) -> bool:
    """A property a server never sends back (a password on a user object)."""
    return bool(_follow(node, definitions).get("writeOnly")) or (
        isinstance(node, dict) and node.get("writeOnly") is True
    )
