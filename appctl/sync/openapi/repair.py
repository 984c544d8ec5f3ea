"""Known real-world schema mistakes → valid JSON Schema 2020-12, and the metaschema check.

Used by the converter (``jsonschema``) only. ``keyword`` repairs one keyword's value
(``type: int``, ``minimum: "5"``, ``uniqueItems: "true"``, a pattern that does not compile,
...) and says what it did; the converter turns that into a warning naming the JSON pointer.
``loosen`` then checks each converted schema against the 2020-12 metaschema and replaces every
subschema that is still invalid by a permissive one (its description kept), so nothing invalid
is ever written. The check is Rust's (``jsonschema_rs``, microseconds per schema); only an
invalid schema is walked again with Python's ``jsonschema`` to locate each error.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

JsonSchema = dict[str, Any]
# what a repair gives back: (keep the keyword?, its new value, a message or None)
Fix = tuple[bool, Any, str | None]

_INTEGER = ("int", "int8", "int16", "int32", "int64", "integer32", "integer64", "long", "short")
_NUMBER = ("float", "float32", "float64", "double", "decimal", "real", "numeric", "num")
_ALIASES: dict[str, str] = {
    **dict.fromkeys(_INTEGER, "integer"),
    **dict.fromkeys(("uint", "uint32", "uint64", "bigint", "biginteger", "smallint"), "integer"),
    **dict.fromkeys(_NUMBER, "number"),
    **dict.fromkeys(("bool",), "boolean"),
    **dict.fromkeys(("dict", "map", "hash", "hashmap", "obj"), "object"),
    **dict.fromkeys(("list", "tuple", "set", "collection"), "array"),
    **dict.fromkeys(("str", "text", "char", "varchar"), "string"),
    **dict.fromkeys(("none", "nil"), "null"),
}
_FORMATS = {"date": "date", "datetime": "date-time", "date-time": "date-time", "uuid": "uuid"}
TYPES = frozenset(("string", "number", "integer", "boolean", "object", "array", "null"))
NUMBER_KEYS = frozenset(
    ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
)
COUNT_KEYS = frozenset(
    (
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minContains",
        "maxContains",
    )
)
FLAG_KEYS = frozenset(("uniqueItems", "readOnly", "writeOnly", "deprecated"))
TEXT_KEYS = frozenset(("title", "description", "format"))


# --------------------------------------------------------------------------- type names


def type_fragment(value: Any) -> tuple[JsonSchema, str | None]:
    """``type``'s value → the schema keywords it stands for, and what was repaired (or None).

    A name that cannot be read is kept as it is: the metaschema check loosens that schema.
    """
    if isinstance(value, str):
        fragment = _one_type(value)
        if fragment is None:
            return {"type": value}, None
        return fragment, None if fragment == {"type": value} else _said(value, fragment)
    if isinstance(value, list):
        kinds: list[Any] = []
        for item in value:
            one = _one_type(item) if isinstance(item, str) else None
            found = one.get("type", []) if one is not None else item
            for kind in found if isinstance(found, list) else [found]:
                if kind not in kinds:
                    kinds.append(kind)
        fragment = {"type": kinds}
        return fragment, None if kinds == value else _said(value, fragment)
    return {"type": value}, None


def _said(value: Any, fragment: JsonSchema) -> str:
    if value == "file":
        return "type 'file' is Swagger 2.0 form data's only; read as a binary string"
    shown = ", ".join(f"{k}: {v!r}" for k, v in fragment.items()) or "no type (any value)"
    return f"type {value!r} is not a JSON Schema type; read as {shown}"


def _one_type(name: str) -> JsonSchema | None:
    """One type name → keywords; None when it means nothing known."""
    if name in TYPES:
        return {"type": name}
    if name == "file":  # Swagger 2.0 form data, where it is legal, is converted before this
        return {"type": "string", "format": "binary"}
    text = name.strip().lower()
    if text.endswith("?"):
        inner = _one_type(text[:-1])
        if inner is None or "type" not in inner:
            return inner
        return {**inner, "type": [inner["type"], "null"]}
    if text.endswith("[]"):
        items = _one_type(text[:-2])
        return None if items is None else {"type": "array", "items": items}
    if text in ("any", "anytype"):
        return {}
    if text in TYPES:
        return {"type": text}
    if text in _FORMATS:
        return {"type": "string", "format": _FORMATS[text]}
    kind = _ALIASES.get(text)
    return None if kind is None else {"type": kind}


# --------------------------------------------------------------------------- other keywords


def keyword(key: str, value: Any) -> Fix:
    """A keyword's value made valid, or dropped; the message says which (None: untouched)."""
    if key in NUMBER_KEYS:
        return _number(key, value, count=False)
    if key in COUNT_KEYS:
        return _number(key, value, count=True)
    if key in FLAG_KEYS:
        return _flag(key, value)
    if key in TEXT_KEYS and not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool) and key != "format":
            return True, str(value), f"{key} {value!r} is not a string; read as {str(value)!r}"
        return False, None, f"{key} {value!r} is not a string; dropped"
    if key == "pattern":
        return _pattern(value)
    if key == "enum" and not isinstance(value, list):
        return True, [value], f"enum {value!r} is not a list; read as [{value!r}]"
    if key == "examples" and not isinstance(value, list):
        return True, [value], "examples is not a list; read as a list of that one value"
    return True, value, None


def _number(key: str, value: Any, *, count: bool) -> Fix:
    number = value
    if isinstance(value, str):
        number = _parse_number(value)
    if isinstance(number, bool) or not isinstance(number, int | float):
        return False, None, f"{key} {value!r} is not a number; dropped"
    if count and number == int(number):
        number = int(number)
    if count and (not isinstance(number, int) or number < 0):
        return False, None, f"{key} {value!r} is not a count (an integer >= 0); dropped"
    if key == "multipleOf" and number <= 0:
        return False, None, f"multipleOf {value!r} is not above 0; dropped"
    if number is value:
        return True, value, None
    return True, number, f"{key} {value!r} is not a number; read as {number!r}"


def _parse_number(text: str) -> int | float | None:
    try:
        return int(text.strip())
    except ValueError:
        pass
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _flag(key: str, value: Any) -> Fix:
    if isinstance(value, bool):
        return True, value, None
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return True, text == "true", f"{key} {value!r} is not a boolean; read as {text}"
    return False, None, f"{key} {value!r} is not a boolean; dropped"


def _pattern(value: Any) -> Fix:
    if not isinstance(value, str):
        return False, None, f"pattern {value!r} is not a string; dropped"
    problem = regex_problem(value)
    if problem:
        return False, None, f"pattern {value!r} is not a regular expression ({problem}); dropped"
    return True, value, None


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` compiles neither as a Python ``re`` nor in the Rust validator (an
    ECMA-262 dialect: ``\\p{L}`` is valid there and not in Python), or None when one takes it.
    The executor validates with Rust first and Python second, so either is enough."""
    try:
        with warnings.catch_warnings():  # "possible nested set" and the like: still valid
            warnings.simplefilter("ignore")
            re.compile(pattern)
        return None
    except (re.error, OverflowError, RecursionError) as exc:
        problem = str(exc)
    import jsonschema_rs

    try:
        jsonschema_rs.Draft202012Validator({"pattern": pattern})
    except (ValueError, jsonschema_rs.ValidationError):
        return problem
    return None


# --------------------------------------------------------------------------- the metaschema

# the 2020-12 keywords whose values are subschemas: a map of them, a list of them, or one
# (the converter adds the older ``definitions`` and ``additionalItems`` it reads)
SCHEMA_MAP = frozenset(("properties", "patternProperties", "dependentSchemas", "$defs"))
SCHEMA_LIST = frozenset(("allOf", "anyOf", "oneOf", "prefixItems"))
SCHEMA_ONE = frozenset(
    (
        "additionalProperties",
        "not",
        "contains",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "if",
        "then",
        "else",
        "contentSchema",
        "items",
    )
)
MAX_LOOSENED = 256  # per converted schema; past that the whole schema is loosened


def is_valid(schema: Any) -> bool:
    """True when ``schema`` passes the JSON Schema 2020-12 metaschema."""
    import jsonschema_rs

    return bool(jsonschema_rs.meta.is_valid(schema))


def loosen(schema: JsonSchema, warn: Callable[[str, Sequence[str | int]], None]) -> JsonSchema:
    """``schema`` with each subschema the metaschema rejects replaced by a permissive one.

    ``warn(message, path)`` is told about each, with the path inside ``schema``.
    """
    if is_valid(schema):
        return schema
    import jsonschema

    meta = jsonschema.Draft202012Validator(
        jsonschema.Draft202012Validator.META_SCHEMA,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    for _ in range(MAX_LOOSENED):
        error = next(iter(meta.iter_errors(schema)), None)
        if error is None:
            return schema
        path = _schema_position(schema, list(error.absolute_path))
        reason = error.message if len(error.message) <= 120 else error.message[:117] + "..."
        warn(f"not a valid JSON Schema ({reason}); loosened to accept any value", path)
        if not path:
            return _permissive(schema)
        parent = _at(schema, path[:-1])
        parent[path[-1]] = _permissive(parent[path[-1]])
    warn("too many invalid parts; the whole schema is loosened to accept any value", [])
    return _permissive(schema)


def _permissive(node: Any) -> JsonSchema:
    text = node.get("description") if isinstance(node, dict) else None
    return {"description": text} if isinstance(text, str) and text else {}


def _schema_position(schema: Any, path: list[str | int]) -> list[str | int]:
    """The longest prefix of ``path`` (an instance path into ``schema``) that is a subschema."""
    node, at, best = schema, 0, 0
    while at < len(path) and isinstance(node, dict):
        key = path[at]
        value = node.get(key) if isinstance(key, str) else None
        if key in SCHEMA_ONE and key in node:
            node, at = value, at + 1
        elif key in SCHEMA_MAP | SCHEMA_LIST and at + 1 < len(path):
            try:
                node, at = value[path[at + 1]], at + 2  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                break
        else:
            break
        best = at
    return path[:best]


def _at(schema: Any, path: Sequence[str | int]) -> Any:
    for segment in path:
        schema = schema[segment]
    return schema
