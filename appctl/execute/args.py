"""Tool arguments → validated, complete arguments, before any I/O.

Takes an action, the contract's definitions and the arguments a caller gave; returns the
arguments with hidden fixed values filled in, or the problems found, each naming the
field, what was expected and what was given, with the closest valid name for a typo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appctl.contract.models import Action, JsonSchema
from appctl.errors import did_you_mean


@dataclass(frozen=True, slots=True)
class Checked:
    arguments: dict[str, Any]
    problems: tuple[str, ...]


def arguments_schema(action: Action, definitions: dict[str, JsonSchema]) -> JsonSchema:
    """One JSON Schema for all of an action's arguments; contract refs resolve inside it."""
    visible = [f for f in action.parameters if not f.hidden]
    return {
        "type": "object",
        "properties": {f.name: f.schema_ for f in visible},
        "required": [f.name for f in visible if f.required],
        "additionalProperties": False,
        "definitions": definitions,
    }


def _fixed(action: Action) -> dict[str, Any]:
    """Hidden arguments take their const or default value."""
    out: dict[str, Any] = {}
    for f in action.parameters:
        if f.hidden and ("const" in f.schema_ or "default" in f.schema_):
            out[f.name] = f.schema_.get("const", f.schema_.get("default"))
    return out


# (action, definitions) → (names, validator); the objects are kept to check identity
_compiled: dict[tuple[int, int], tuple[Action, dict[str, JsonSchema], list[str], Any]] = {}


def _validator(action: Action, definitions: dict[str, JsonSchema]) -> tuple[list[str], Any]:
    key = (id(action), id(definitions))
    hit = _compiled.get(key)
    if hit is not None and hit[0] is action and hit[1] is definitions:
        return hit[2], hit[3]
    import jsonschema

    names = [f.name for f in action.parameters if not f.hidden]
    validator = jsonschema.Draft202012Validator(arguments_schema(action, definitions))
    if len(_compiled) > 4096:
        _compiled.clear()
    _compiled[key] = (action, definitions, names, validator)
    return names, validator


def check_arguments(
    action: Action, definitions: dict[str, JsonSchema], given: dict[str, Any]
) -> Checked:
    names, validator = _validator(action, definitions)
    problems = [
        f"unknown argument {key!r}.{did_you_mean(key, names)}" for key in given if key not in names
    ]
    known = {k: v for k, v in given.items() if k in names}
    if not validator.is_valid(known):
        errors = sorted(validator.iter_errors(known), key=lambda e: list(e.absolute_path))
        problems += [_describe(error) for error in errors]
    return Checked(arguments={**known, **_fixed(action)}, problems=tuple(problems))


def _describe(error: Any) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    where = f"argument {path!r}" if path else "arguments"
    if error.validator == "required":
        return f"{where}: {error.message}"
    given = repr(error.instance)
    if len(given) > 80:
        given = given[:77] + "..."
    expected = error.schema.get(error.validator) if isinstance(error.schema, dict) else None
    detail = f"expected {error.validator} {expected!r}" if expected is not None else error.message
    return f"{where}: {detail}, got {given}"
