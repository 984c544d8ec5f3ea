"""Gemini ``functionDeclarations``: its ``parameters`` take an OpenAPI 3.0 subset only.

No ``$ref`` (definitions are inlined; a recursive or too-deep one becomes a described
object), no ``oneOf`` (→ ``anyOf``), no ``allOf`` (merged), no ``additionalProperties``, no
type arrays (→ one type plus ``nullable``), enums of strings only, and the few formats it
knows. What cannot be expressed is said in the description instead of silently dropped
(``uniqueItems``, ``multipleOf``...; "Further rules apply (not)." for the schema-valued ones);
``generate.check`` checks the result against Gemini's subset at sync time.
"""

from __future__ import annotations

from typing import Any

from appctl.generate.formats.common import add_notes, count_warning, merge_all_of
from appctl.generate.toolspec import TOOL_PREFIX, ToolSpec, json_type

TOOL_LIMIT = 64
MAX_REF_DEPTH = 6
KEEP = frozenset(
    (
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "anyOf",
        "default",
        "items",
        "minimum",
        "maximum",
    )
)
# Constraints its subset lacks, said in the description instead.
NOTED = {
    "uniqueItems": "Items must be unique.",
    "multipleOf": "A multiple of {}.",
    "minContains": "At least {} matching items.",
    "maxContains": "At most {} matching items.",
    "dependentRequired": "Properties required together: {}.",
}
# Constraints on which values are valid that no description can spell out briefly.
UNSAID = frozenset(
    (
        "not",
        "if",
        "contains",
        "patternProperties",
        "propertyNames",
        "dependentSchemas",
        "unevaluatedProperties",
        "unevaluatedItems",
    )
)
FORMATS = {
    "string": {"enum", "date-time"},
    "integer": {"int32", "int64"},
    "number": {"float", "double"},
}


class _Inliner:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs

    def convert(self, node: Any, stack: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(node, dict):
            return {}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(TOOL_PREFIX):
            name = ref[len(TOOL_PREFIX) :]
            if name in stack or len(stack) >= MAX_REF_DEPTH or name not in self.defs:
                return {"type": "object", "description": f"A {name} object (nested; not expanded)."}
            target = self.convert(self.defs[name], (*stack, name))
            if "description" in node:
                target["description"] = node["description"]
            return target
        if isinstance(node.get("allOf"), list):
            # expand each part first (refs on the stack), so recursion through allOf ends
            parts = [self.convert(part, stack) for part in node["allOf"]]
            node = merge_all_of({**node, "allOf": parts})
        out: dict[str, Any] = {}
        notes: list[str] = []
        self._types(node, out)
        for key, value in node.items():
            self._key(key, value, out, notes, stack)
        _enum(node, out, notes)
        _open_object(node, out, notes)
        if notes:
            out["description"] = add_notes(str(out.get("description", "")), notes)
        return out

    def _branches(self, value: list[Any], out: dict[str, Any], stack: tuple[str, ...]) -> None:
        """anyOf/oneOf → anyOf; a null branch becomes ``nullable``; one branch left is inlined."""
        branches = [self.convert(v, stack) for v in value if not _is_null(v)]
        if len(branches) < len(value):
            out["nullable"] = True
        if len(branches) == 1:
            for key, item in branches[0].items():
                out.setdefault(key, item)
        elif branches:
            out["anyOf"] = branches

    def _key(
        self, key: str, value: Any, out: dict[str, Any], notes: list[str], stack: tuple[str, ...]
    ) -> None:
        if key == "properties" and isinstance(value, dict):
            out[key] = {k: self.convert(v, stack) for k, v in value.items()}
        elif key == "items":
            out[key] = self.convert(value, stack)
        elif key in ("anyOf", "oneOf") and isinstance(value, list):
            self._branches(value, out, stack)
        elif key == "prefixItems" and isinstance(value, list) and value:
            items = [self.convert(v, stack) for v in value]
            distinct = [x for i, x in enumerate(items) if x not in items[:i]]
            out["items"] = distinct[0] if len(distinct) == 1 else {"anyOf": distinct}
            out["minItems"] = out["maxItems"] = len(items)
            notes.append(f"A tuple of {len(items)} items, in order.")
        elif key == "format":
            kind = out.get("type")
            if isinstance(kind, str) and value in FORMATS.get(kind, ()):
                out[key] = value
            else:
                notes.append(f"Format: {value}.")
        elif key == "contentEncoding":  # binary values: base64
            notes.append(f"Given as {value} text.")
        elif key == "required" and isinstance(value, list):
            out[key] = [r for r in value if isinstance(r, str)]
        elif key == "exclusiveMinimum":
            out["minimum"] = value
            notes.append(f"Greater than {value}.")
        elif key == "exclusiveMaximum":
            out["maximum"] = value
            notes.append(f"Less than {value}.")
        elif key == "examples" and isinstance(value, list) and value:
            out["example"] = value[0]
        elif key in KEEP and key not in ("type", "enum", "nullable"):
            out[key] = value
        elif key == "patternProperties" and isinstance(value, dict) and value:
            notes.append("Keys match " + " or ".join(f"/{k}/" for k in value) + ".")
        elif key in NOTED and value is not False:
            notes.append(NOTED[key].format(value))
        elif key in UNSAID:
            notes.append(f"Further rules apply ({key}).")

    @staticmethod
    def _types(node: dict[str, Any], out: dict[str, Any]) -> None:
        kind = node.get("type")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            if len(real) == 1:
                out["type"] = real[0]
            elif real and "anyOf" not in node and "oneOf" not in node:
                out["anyOf"] = [{"type": k} for k in real]
            if "null" in kind:
                out["nullable"] = True
        elif isinstance(kind, str) and kind != "null":
            out["type"] = kind


def _enum(node: dict[str, Any], out: dict[str, Any], notes: list[str]) -> None:
    values = node.get("enum")
    if "const" in node:
        values = [node["const"]]
    if not isinstance(values, list):
        return
    if "null" in (node.get("type") or []) or None in values:
        out["nullable"] = True
    real = [v for v in values if v is not None]
    if real and all(isinstance(v, str) for v in real) and out.get("type", "string") == "string":
        out["type"] = "string"
        out["enum"] = real
    elif real:
        notes.append("One of: " + ", ".join(str(v) for v in real) + ".")
        kinds = {json_type(v) for v in real}
        if "type" not in out and len(kinds) == 1:
            out["type"] = kinds.pop()


def _is_null(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") == "null" and len(node) == 1


def _open_object(node: dict[str, Any], out: dict[str, Any], notes: list[str]) -> None:
    """Gemini has no additionalProperties: say what a map's values are instead."""
    extra = node.get("additionalProperties")
    if out.get("type") == "object" and not out.get("properties") and extra is not False:
        kind = extra.get("type") if isinstance(extra, dict) else None
        notes.append(
            f"A JSON object whose values are {kind}s."
            if isinstance(kind, str)
            else "A JSON object with any keys."
        )


def _finish_required(schema: dict[str, Any]) -> dict[str, Any]:
    """Gemini rejects ``required`` names that are not properties of the same object."""
    props = schema.get("properties")
    if "required" in schema:
        keep = [r for r in schema["required"] if isinstance(props, dict) and r in props]
        if keep:
            schema["required"] = keep
        else:
            del schema["required"]
    for value in (props or {}).values():
        _finish_required(value)
    if isinstance(schema.get("items"), dict):
        _finish_required(schema["items"])
    for option in schema.get("anyOf", []):
        _finish_required(option)
    return schema


def declaration(spec: ToolSpec, *, expand: bool = True) -> dict[str, Any]:
    """The tool's function declaration; ``expand=False`` leaves each reference as the
    placeholder a reference too deep becomes (for ``generate.check``, which converts each
    definition once by itself instead of inside every tool that uses it)."""
    inliner = _Inliner(spec.input_schema.get("$defs", {}) if expand else {})
    body: dict[str, Any] = {"name": spec.name, "description": spec.description}
    params = _finish_required(inliner.convert(spec.input_schema, ()))
    if params.get("properties"):
        body["parameters"] = params
    return body


def converted(schema: dict[str, Any]) -> dict[str, Any]:
    """One schema as a declaration carries it, its references left as placeholders."""
    return _finish_required(_Inliner({}).convert(schema, ()))


def render(specs: list[ToolSpec], strict: bool) -> tuple[Any, list[Any], list[str]]:
    declarations = [declaration(s) for s in specs]
    warnings = count_warning("Gemini", len(specs), TOOL_LIMIT)
    return {"functionDeclarations": declarations}, declarations, warnings
