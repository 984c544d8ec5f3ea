"""OpenAPI schema objects → JSON Schema (2020-12 vocabulary), in one place.

Takes schema objects from any OpenAPI version (2.0 and 3.0 dialects are normalized:
``nullable``/``x-nullable`` → type arrays, boolean ``exclusiveMaximum`` → numeric,
``example`` → ``examples``). Known mistakes (``type: int``, ``minimum: "5"``, ``required:
true`` on a property, ...) are repaired by ``repair`` with a warning, and each converted schema
is checked against the 2020-12 metaschema: what is still invalid is loosened, never written
as it is (``--strict`` makes these warnings errors). Every ``$ref`` becomes
``#/definitions/<Name>``; each referenced schema is converted once, through a work list,
so circular references are kept as named definitions and never recurse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from appctl.errors import REPAIR, Diagnostic
from appctl.sync.openapi import repair
from appctl.sync.openapi.refs import RefProblem, Resolver, join_pointer, split_pointer

# A JSON pointer built lazily: a string, or (parent, segment). Rendered only for warnings.
Pointer = str | tuple["Pointer", str | int]


def render_pointer(pointer: Pointer) -> str:
    segments: list[str | int] = []
    while isinstance(pointer, tuple):
        pointer, segment = pointer
        segments.append(segment)
    return join_pointer(pointer, *reversed(segments))


JsonSchema = dict[str, Any]
MAX_DEPTH = 128
DEF_PREFIX = "#/definitions/"
UNRESOLVED = "x-appctl-unresolved-ref"

_SCHEMA_MAP = repair.SCHEMA_MAP | {"definitions"}
_SCHEMA_ONE = repair.SCHEMA_ONE | {"additionalItems"}
_SCHEMA_LIST = repair.SCHEMA_LIST
_KEEP = frozenset(
    (
        "type",
        "format",
        "enum",
        "const",
        "default",
        "examples",
        "title",
        "description",
        "minimum",
        "maximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "required",
        "readOnly",
        "writeOnly",
        "deprecated",
        "dependentRequired",
        "contentMediaType",
        "contentEncoding",
        "maxContains",
        "minContains",
        "exclusiveMinimum",
        "exclusiveMaximum",
    )
)
_REF_SIBLINGS = (
    "description",
    "title",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
)
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Converter:
    resolver: Resolver
    diagnostics: list[Diagnostic] = field(default_factory=list)
    definitions: dict[str, JsonSchema] = field(default_factory=dict)
    _names: dict[tuple[str, str], str] = field(default_factory=dict)
    _pending: list[tuple[str, Any, str, str]] = field(default_factory=list)

    # -- public -------------------------------------------------------------------------
    def convert(self, schema: Any, *, doc: str, pointer: str) -> JsonSchema:
        result = self._convert(schema, doc, pointer, 0)
        out = result if isinstance(result, dict) else ({} if result else {"not": {}})
        return repair.loosen(out, lambda message, path: self._warn(message, _extend(pointer, path)))

    def finish(self) -> None:
        """Convert every definition registered so far (and those they reference)."""
        while self._pending:
            name, value, doc, pointer = self._pending.pop()
            self.definitions[name] = self.convert(value, doc=doc, pointer=pointer)

    def definition(self, ref: str) -> JsonSchema | None:
        """The converted definition behind ``#/definitions/<Name>``, converting it if needed."""
        if not ref.startswith(DEF_PREFIX):
            return None
        name = ref[len(DEF_PREFIX) :]
        if name not in self.definitions:
            self.finish()
        return self.definitions.get(name)

    def resolve_local(self, schema: JsonSchema) -> JsonSchema:
        """Follow converted ``$ref``s (bounded) to the schema they name."""
        for _ in range(32):
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                return schema
            target = self.definition(ref)
            if target is None:
                return schema
            schema = target
        return schema

    # -- conversion ---------------------------------------------------------------------
    def _warn(self, message: str, pointer: Pointer) -> None:
        self.diagnostics.append(Diagnostic(message, render_pointer(pointer), kind=REPAIR))

    def _convert(self, node: Any, doc: str, pointer: Pointer, depth: int) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            self._warn(f"schema is a {type(node).__name__}, not an object; treated as any", pointer)
            return {}
        if depth > MAX_DEPTH:
            self._warn(f"schema nests deeper than {MAX_DEPTH} levels; cut here", pointer)
            return {"description": "(nested schema cut: too deep)"}
        if "$ref" in node:
            return self._convert_ref(node, doc, pointer, depth)
        out: JsonSchema = {}
        for key, value in node.items():
            self._convert_key(out, key, value, doc, (pointer, key), depth)
        self._fold_property_required(node, out)
        _fold_exclusive(node, out)
        return _apply_nullable(node, out)

    def _convert_key(
        self, out: JsonSchema, key: str, value: Any, doc: str, ptr: Pointer, depth: int
    ) -> None:
        sub: Callable[[Any, Pointer], Any] = lambda v, p: self._convert(v, doc, p, depth + 1)  # noqa: E731
        if key in _SCHEMA_MAP:
            if isinstance(value, dict) and key not in ("$defs", "definitions"):
                out[key] = {k: sub(v, (ptr, k)) for k, v in value.items()}
        elif isinstance(value, list) and not value and key in (*_SCHEMA_LIST, "items"):
            self._warn(f"{key} is an empty list (it needs at least one schema); dropped", ptr)
        elif key in _SCHEMA_ONE:
            if key == "items" and isinstance(value, list):
                out["prefixItems"] = [sub(v, (ptr, i)) for i, v in enumerate(value)]
            else:
                out[key] = sub(value, ptr)
        elif key in _SCHEMA_LIST:
            if isinstance(value, list):
                out[key] = [sub(v, (ptr, i)) for i, v in enumerate(value)]
        elif key == "type":
            self._convert_type(out, value, ptr)
        elif key == "example":
            out.setdefault("examples", [value])
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            pass  # OpenAPI 3.0 boolean form: folded into the bound by _fold_exclusive
        elif key == "required":
            self._convert_required(out, value, ptr)
        elif key in _KEEP:
            keep, value, message = repair.keyword(key, value)
            if message:
                self._warn(message, ptr)
            if keep:
                out[key] = value

    def _convert_type(self, out: JsonSchema, value: Any, ptr: Pointer) -> None:
        fragment, message = repair.type_fragment(value)
        if message:
            self._warn(message, ptr)
        for key, part in fragment.items():
            if key == "type":
                out[key] = part
            else:
                out.setdefault(key, part)  # the node's own format/items, if any, win

    def _convert_required(self, out: JsonSchema, value: Any, ptr: Pointer) -> None:
        if isinstance(value, bool):
            self._warn(
                f"required: {str(value).lower()} is not JSON Schema; dropped (on a property, "
                "true moves it into its object's required list)",
                ptr,
            )
        elif isinstance(value, list):
            names = [r for r in value if isinstance(r, str)]
            names = list(dict.fromkeys(names))
            if len(names) != len(value):
                self._warn("required lists a name twice or a non-string; those left out", ptr)
            if names:
                out["required"] = names
        else:
            self._warn(f"required {value!r} is not a list of names; dropped", ptr)

    def _fold_property_required(self, node: JsonSchema, out: JsonSchema) -> None:
        """``required: true`` on a property (a common 3.0 mistake) means the parent requires it."""
        props = node.get("properties")
        if not isinstance(props, dict):
            return
        extra = [k for k, v in props.items() if isinstance(v, dict) and v.get("required") is True]
        if extra:
            required = list(out.get("required", []))
            out["required"] = required + [k for k in extra if k not in required]

    def _convert_ref(self, node: JsonSchema, doc: str, pointer: Pointer, depth: int) -> Any:
        try:
            target = self.resolver.lookup(node["$ref"], doc)
        except RefProblem as exc:
            self._warn(str(exc), pointer)
            return {UNRESOLVED: str(node["$ref"])}  # any value; tools leave the marker out
        name = self._register(target.value, target.doc, target.pointer)
        out: JsonSchema = {"$ref": DEF_PREFIX + name}
        for key in _REF_SIBLINGS:
            if key in node:
                keep, value, message = repair.keyword(key, node[key])
                if message:
                    self._warn(message, (pointer, key))
                if keep:
                    out[key] = value
        if "example" in node and "examples" not in out:
            out["examples"] = [node["example"]]
        if node.get("nullable") is True or node.get("x-nullable") is True:
            return {"anyOf": [out, {"type": "null"}]}
        return out

    def _register(self, value: Any, doc: str, pointer: str) -> str:
        key = (doc, pointer)
        name = self._names.get(key)
        if name is None:
            name = self._fresh_name(pointer)
            self._names[key] = name
            self._pending.append((name, value, doc, pointer))
        return name

    def _fresh_name(self, pointer: str) -> str:
        segments = split_pointer(pointer) if pointer else []
        base = _NAME_CHARS.sub("_", segments[-1] if segments else "root").strip("_") or "schema"
        taken = set(self._names.values())
        name, counter = base, 2
        while name in taken:
            name, counter = f"{base}_{counter}", counter + 1
        return name


def _extend(pointer: Pointer, path: Sequence[str | int]) -> Pointer:
    for segment in path:
        pointer = (pointer, segment)
    return pointer


def _fold_exclusive(node: JsonSchema, out: JsonSchema) -> None:
    """3.0 ``exclusiveMinimum: true`` + ``minimum: 5`` → 2020-12 ``exclusiveMinimum: 5``."""
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(flag) is True and bound in out:
            out[flag] = out.pop(bound)


def _apply_nullable(node: JsonSchema, out: JsonSchema) -> JsonSchema:
    if node.get("nullable") is not True and node.get("x-nullable") is not True:
        return out
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"] if kind != "null" else "null"
    elif isinstance(kind, list):
        if "null" not in kind:
            out["type"] = [*kind, "null"]
    else:
        return {"anyOf": [out, {"type": "null"}]} if out else out
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out
