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
from appctl.execute.memo import IdentityMemo
from appctl.execute.nulls import NullRule, null_rule, without_strict_nulls


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


@dataclass(frozen=True, slots=True)
class _Compiled:
    names: frozenset[str]
    fixed: dict[str, Any]
    fast: Any  # a jsonschema_rs validator (compiled Rust), or None if it refused the schema
    exact: Any  # a jsonschema validator: the reference, and the source of error messages
    nulls: NullRule  # which nulls mean "not given" (strict mode's), left out before validation


_compiled: IdentityMemo[_Compiled] = IdentityMemo()


def _validator(action: Action, definitions: dict[str, JsonSchema]) -> _Compiled:
    return _compiled.get((action, definitions), lambda: _compile(action, definitions))


def _compile(action: Action, definitions: dict[str, JsonSchema]) -> _Compiled:
    import jsonschema
    import jsonschema_rs

    schema = arguments_schema(action, definitions)
    try:
        fast = jsonschema_rs.Draft202012Validator(schema)
    except (ValueError, jsonschema_rs.ValidationError):  # e.g. a pattern Rust cannot compile
        fast = None
    return _Compiled(
        names=frozenset(f.name for f in action.parameters if not f.hidden),
        fixed=_fixed(action),
        fast=fast,
        exact=jsonschema.Draft202012Validator(schema),
        nulls=null_rule(action, definitions),
    )


def check_arguments(
    action: Action, definitions: dict[str, JsonSchema], given: dict[str, Any]
) -> Checked:
    """Valid arguments pass the compiled Rust validator in about a microsecond; anything it
    rejects (or could not compile) is checked again by ``jsonschema``, which names the
    problems. First, the nulls a strict schema made the caller send for what it left out are
    left out (``nulls``)."""
    compiled = _validator(action, definitions)
    given = without_strict_nulls(compiled.nulls, given)
    names = compiled.names
    problems = [
        f"unknown argument {key!r}.{did_you_mean(key, sorted(names))}"
        for key in given
        if key not in names
    ]
    known = {k: v for k, v in given.items() if k in names} if problems else dict(given)
    if compiled.fast is None or not compiled.fast.is_valid(known):
        errors = sorted(compiled.exact.iter_errors(known), key=lambda e: list(e.absolute_path))
        problems += [_describe(error) for error in errors]
        if not errors and compiled.fast is not None:  # the two disagree: report Rust's view
            problems += [_describe_fast(error) for error in compiled.fast.iter_errors(known)]
    return Checked(arguments={**known, **compiled.fixed}, problems=tuple(problems))


def _describe_fast(error: Any) -> str:
    path = ".".join(str(p) for p in error.instance_path)
    where = f"argument {path!r}" if path else "arguments"
    return f"{where}: {error.message}"


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
