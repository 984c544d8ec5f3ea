"""A tool's input schema → the inputs of an HTML form, and a submitted form → arguments.

Pure functions. Each top-level property becomes one input: a string a text box, a number
or integer a number box, a boolean a select (blank, true, false: blank means "not given"),
an enum a select of its values, and anything else (objects, arrays, unions, a schema it
cannot tell) a JSON text area; where such a schema admits a string, text that is not JSON
is taken as that string. A ``$ref`` to the schema's own ``$defs`` is followed to pick
the input; the value is checked by the executor against the whole schema, as for any
caller. A blank input is left out of the arguments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

InputKind = Literal["text", "number", "integer", "boolean", "select", "json"]
FIELD_PREFIX = "arg:"  # a form field named arg:<argument> holds that argument
_SLUG = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_REFS = 16  # $refs followed to find what one property is


@dataclass(frozen=True, slots=True)
class Input:
    name: str  # the argument's name
    id: str  # the element id (``arg-<name>``, safe characters only)
    kind: InputKind
    required: bool
    description: str = ""
    choices: tuple[str, ...] = ()  # select: the options' texts (JSON for non-strings)
    placeholder: str = ""  # json: an example of the shape
    value: str = ""  # the text shown (a default, or what was submitted)
    values: tuple[Any, ...] = ()  # select: the enum's values, one per choice
    text_ok: bool = False  # json: the schema admits a string, so text not JSON is one

    @property
    def field(self) -> str:
        return FIELD_PREFIX + self.name


def inputs_of(schema: Mapping[str, Any], *, given: Mapping[str, str] | None = None) -> list[Input]:
    """One input per property of an object schema (required ones first, as declared)."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return []
    required = schema.get("required")
    wanted = set(required) if isinstance(required, list) else set()
    names = sorted(properties, key=lambda n: n not in wanted)
    inputs: list[Input] = []
    ids: set[str] = set()
    for name in names:
        ident = _unique("arg-" + (_SLUG.sub("_", str(name)) or "_"), ids)
        prop = _resolved(schema, properties[name])
        made = _input(str(name), ident, prop, required=name in wanted)
        if given is not None:
            made = _with_value(made, given.get(made.field, ""))
        inputs.append(made)
    return inputs


def _unique(ident: str, taken: set[str]) -> str:
    candidate, n = ident, 2
    while candidate in taken:
        candidate, n = f"{ident}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _resolved(root: Mapping[str, Any], prop: Any) -> Mapping[str, Any]:
    """A property's schema with local ``$ref``s followed (a bounded number of times)."""
    for _ in range(_MAX_REFS):
        if not isinstance(prop, Mapping):
            return {}
        ref = prop.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return prop
        target: Any = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, Mapping) else None
        prop = target
    return {}


def _input(name: str, ident: str, prop: Mapping[str, Any], *, required: bool) -> Input:
    description = prop.get("description")
    text = description if isinstance(description, str) else ""
    kind, values = _kind(prop)
    choices = _choices(values)
    default = prop.get("default")
    value = "" if default is None else _shown(default, kind)
    if kind == "select":  # the option that holds the default (1 and True are not alike)
        same = [c for c, v in zip(choices, values, strict=True) if _same(v, default)]
        value = same[0] if same else ""
    placeholder = _placeholder(prop) if kind == "json" else ""
    text_ok = kind == "json" and _admits_string(prop)
    return Input(name, ident, kind, required, text, choices, placeholder, value, values, text_ok)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _choices(values: tuple[Any, ...]) -> tuple[str, ...]:
    """An option's text: a string as itself, else its JSON; a string that reads like another
    value's JSON (``"1"`` beside ``1``) as its own JSON, so that no two options look alike."""
    others = {json.dumps(v) for v in values if not isinstance(v, str)}
    return tuple(
        (json.dumps(v) if v in others else v) if isinstance(v, str) else json.dumps(v)
        for v in values
    )


def _admits_string(prop: Mapping[str, Any]) -> bool:
    """Whether a union (``oneOf``/``anyOf``, or a list of types) has a plain string branch."""
    kind = prop.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return True
    branches = [b for key in ("oneOf", "anyOf") for b in prop.get(key) or ()]
    return any(isinstance(b, Mapping) and _admits_string(b) for b in branches)


def _kind(prop: Mapping[str, Any]) -> tuple[InputKind, tuple[Any, ...]]:
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        return "select", tuple(enum)
    kind = prop.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the one type besides null
        others = [k for k in kind if k != "null"]
        kind = others[0] if len(others) == 1 else None
    if kind == "string":
        return "text", ()
    if kind in ("number", "integer"):
        return kind, ()
    if kind == "boolean":
        return "boolean", ()
    return "json", ()


def _shown(value: Any, kind: InputKind) -> str:
    if kind in ("text", "select") and isinstance(value, str):
        return value
    if kind == "boolean":
        return "true" if value is True else "false" if value is False else ""
    return json.dumps(value)


def _placeholder(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    return "[...]" if kind == "array" else "{...}" if kind == "object" else "JSON"


def _with_value(made: Input, text: str) -> Input:
    from dataclasses import replace

    return replace(made, value=text)


def arguments_of(inputs: list[Input], form: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The arguments a submitted form gives, and what is wrong with it (one line each)."""
    arguments: dict[str, Any] = {}
    problems: list[str] = []
    for made in inputs:
        text = form.get(made.field, "")
        if not text.strip():
            continue
        try:
            arguments[made.name] = _value(made, text)
        except ValueError as exc:
            problems.append(f"{made.name}: {exc}")
    return arguments, problems


def _value(made: Input, text: str) -> Any:
    if made.kind == "text":
        return text
    if made.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("choose true or false")
        return text == "true"
    if made.kind == "select":
        if text not in made.choices:
            raise ValueError("choose one of the listed values")
        return made.values[made.choices.index(text)]
    if made.kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if made.kind == "number":
        return _number(text.strip())
    try:
        return json.loads(text)
    except ValueError as exc:
        if made.text_ok:  # "It broke" for a string-or-integer title
            return text
        raise ValueError(f"not valid JSON ({exc})") from None


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    return value
