"""The nulls a strict tool schema makes a model send → left out, before validation (pure).

OpenAI strict mode needs every property of every object listed as required, so
``appctl tools --strict`` makes each optional property required *and nullable*, at every
level (arguments, nested objects, array items, ``anyOf`` branches, definitions); a strict
model then sends ``null`` for everything it leaves out. The Agents SDK's converter lists every
property as required too, and a strict model sends ``null`` wherever that schema allows it.
Taken literally, those nulls refuse reads and clear columns nobody asked to change.

Two rules, for a ``null`` given to a property the contract does not require:

1. If the contract's own schema for it does not accept null, the null can only be strict
   mode's "not given": it is left out, in every call. (Such a null was always refused, so no
   call that worked before changes meaning.)
2. If the contract's schema accepts null (a nullable column, OpenAPI ``nullable: true``), the
   null is ambiguous. A *strict call* gives every argument of the tool, as strict schemas
   demand and other callers hardly ever do; there the null means "not given" too, at every
   level. In any other call it stays a value, as before (``null`` sets NULL). SQL update tools
   also take ``set_null``, a list of columns to set to NULL, which means the same in both.

Nulls inside arrays, in required properties and under ``additionalProperties`` are values,
never touched: strict mode does not put nulls there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from appctl.contract.models import Action, JsonSchema

CONTRACT_PREFIX = "#/definitions/"
MAX_DEPTH = 64  # deeper values are left as they are (validation has its own limit)
MAX_PARTS = 64  # schemas one value is read against (refs, allOf/anyOf/oneOf branches)


@dataclass(frozen=True, slots=True)
class NullRule:
    """What one action's arguments are read against; built once per action."""

    top: JsonSchema  # the arguments object: properties and required
    names: frozenset[str]  # every argument a strict call gives
    definitions: dict[str, JsonSchema]
    # id of a schema → (the schema, kept so the id stays its own; whether it accepts null)
    _accepts: dict[int, tuple[JsonSchema, bool]] = field(default_factory=dict)

    def accepts_null(self, schema: Any) -> bool:
        if not isinstance(schema, dict):
            return schema is True
        hit = self._accepts.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        answer = _accepts_null(schema, self.definitions)
        self._accepts[id(schema)] = (schema, answer)
        return answer


def null_rule(action: Action, definitions: dict[str, JsonSchema]) -> NullRule:
    visible = [f for f in action.parameters if not f.hidden]
    top: JsonSchema = {
        "properties": {f.name: f.schema_ for f in visible},
        "required": [f.name for f in visible if f.required],
    }
    return NullRule(top, frozenset(f.name for f in visible), definitions)


def strict_call(rule: NullRule, given: dict[str, Any]) -> bool:
    """Whether a call gives every argument of its tool, as a strict schema makes it."""
    return bool(rule.names) and rule.names <= given.keys()


def without_strict_nulls(rule: NullRule, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` without the nulls that mean "not given" (the same dict if there are none)."""
    if not _has_null(given):
        return given
    return _clean_object(rule, given, [rule.top], strict_call(rule, given), 0)


def _has_null(value: dict[str, Any]) -> bool:
    """Whether there is a null anywhere in ``value`` (or text that reads ``null``: then the
    walk finds none). orjson writes a call's arguments in about 0.2 µs, far less than
    walking them in Python."""
    try:
        return b"null" in orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):  # not plain JSON, or too deep: walk it
        return True


def _clean(rule: NullRule, value: Any, schemas: list[Any], strict: bool, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return _clean_object(rule, value, schemas, strict, depth)
    if isinstance(value, list):
        items = [p["items"] for p in _parts(rule, schemas) if isinstance(p.get("items"), dict)]
        return [_clean(rule, v, items, strict, depth + 1) for v in value] if items else value
    return value


def _clean_object(
    rule: NullRule, value: dict[str, Any], schemas: list[Any], strict: bool, depth: int
) -> dict[str, Any]:
    declared: dict[str, list[Any]] = {}
    required: set[str] = set()
    for part in _parts(rule, schemas):
        properties = part.get("properties")
        if isinstance(properties, dict):
            for name, schema in properties.items():
                declared.setdefault(name, []).append(schema)
        if isinstance(part.get("required"), list):
            required.update(r for r in part["required"] if isinstance(r, str))
    out: dict[str, Any] = {}
    for name, item in value.items():
        found = declared.get(name)
        if found is None:  # undeclared: validation says so, or additionalProperties allows it
            out[name] = item
        elif item is None:
            optional = name not in required
            if not (optional and (strict or not any(map(rule.accepts_null, found)))):
                out[name] = None
        else:
            out[name] = _clean(rule, item, found, strict, depth + 1)
    return out


def _parts(rule: NullRule, schemas: Iterable[Any]) -> list[JsonSchema]:
    """The schemas a value is read against: these, what their refs point at, and their
    allOf/anyOf/oneOf branches (a bounded number)."""
    out: list[JsonSchema] = []
    pending = list(schemas)
    while pending and len(out) < MAX_PARTS:
        schema = pending.pop(0)
        if not isinstance(schema, dict):
            continue
        out.append(schema)
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(CONTRACT_PREFIX):
            target = rule.definitions.get(ref[len(CONTRACT_PREFIX) :])
            if target is not None:
                pending.append(target)
        for key in ("allOf", "anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list):
                pending.extend(branches)
    return out


def _accepts_null(schema: JsonSchema, definitions: dict[str, JsonSchema]) -> bool:
    """Whether the contract's schema itself accepts null: asked of the JSON Schema validator,
    so refs, ``anyOf``, ``enum`` with null and schemas with no type all count rightly."""
    import jsonschema

    try:
        return bool(
            jsonschema.Draft202012Validator({**schema, "definitions": definitions}).is_valid(None)
        )
    except Exception:  # a schema the validator cannot read: validation will refuse it anyway
        return False
