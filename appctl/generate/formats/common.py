"""Helpers the format adapters share: description limits and per-request tool-count limits."""

from __future__ import annotations

import dataclasses
from typing import Any

from appctl.generate.text import clip
from appctl.generate.toolspec import ToolSpec

# A tool description is cut only where a provider documents (or enforces) a limit, with a
# visible "…" and a warning naming the tools. Researched 2026-12:
# - OpenAI (Chat Completions and Responses function tools): 1,024 characters. The API
#   answers longer ones with 400 "string_above_max_length: Invalid
#   'tools[N].function.description': string too long. Expected a string with maximum length
#   1024" (reported in getsentry/sentry-mcp#106, rusiaaman/wcgw#51, OpenHands/OpenHands#4838;
#   run-llama/llama_index#18784 notes newer models accept more, but not all do).
# - Anthropic Messages API tools: the `description` field documents no maximum length.
# - Gemini FunctionDeclaration: only the name is limited (64 characters); the description
#   has no documented limit (google-gemini/generative-ai-js FunctionDeclaration reference).
# - MCP Tool (`tools/list`): the specification sets no limit on `description`.
# - The neutral format (tools.json, JSON Schema) has none.
DESCRIPTION_LIMITS: dict[str, tuple[str, int]] = {
    "openai": ("OpenAI", 1024),
    "openai-responses": ("OpenAI", 1024),
}
NAMES_SHOWN = 10


def fit_descriptions(fmt: str, specs: list[ToolSpec]) -> tuple[list[ToolSpec], list[str]]:
    """The specs with each description within ``fmt``'s documented limit (cut with "…"), and
    the names of the tools that were cut."""
    if fmt not in DESCRIPTION_LIMITS:
        return specs, []
    limit = DESCRIPTION_LIMITS[fmt][1]
    cut = [s.name for s in specs if len(s.description) > limit]
    if not cut:
        return specs, []
    fitted = [
        dataclasses.replace(s, description=clip(s.description, limit))
        if len(s.description) > limit
        else s
        for s in specs
    ]
    return fitted, cut


def cut_warning(fmt: str, cut: list[str]) -> list[str]:
    if not cut:
        return []
    provider, limit = DESCRIPTION_LIMITS[fmt]
    more = len(cut) - NAMES_SHOWN
    shown = ", ".join(cut[:NAMES_SHOWN]) + (f" (+{more} more)" if more > 0 else "")
    return [
        f"{len(cut)} tool description{'s' if len(cut) != 1 else ''} cut at {provider}'s "
        f"limit of {limit:,} characters (marked …): {shown}; "
        "`appctl tools --stats` lists them all"
    ]


def count_warning(provider: str, count: int, limit: int) -> list[str]:
    if count <= limit:
        return []
    return [
        f"{count} tools is over {provider}'s limit of {limit} per request: filter with "
        "--include/--exclude/--read-only, or let `appctl run` switch to its catalogue tools"
    ]


UPPER_BOUNDS = frozenset(("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"))
LOWER_BOUNDS = frozenset(("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"))


def merge_all_of(
    node: dict[str, Any], defs: dict[str, Any] | None = None, depth: int = 0
) -> dict[str, Any]:
    """Fold ``allOf`` parts into one schema that means the same: properties united (a property
    constrained on both sides keeps both, as its own allOf), required united, bounds tightened,
    enums intersected; otherwise the node's own keywords win over its parts'.

    Parts that are ``#/$defs/`` references are looked up in ``defs`` (and their own allOf
    folded in turn, a bounded number of levels deep).
    """
    parts = node.get("allOf")
    if not isinstance(parts, list) or depth > 8:
        return node
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    for raw in parts:
        part = _deref(raw, defs or {})
        if isinstance(part, dict):
            _fold(merged, merge_all_of(part, defs, depth + 1))
    return merged


def _fold(merged: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if key not in merged:
            merged[key] = value
        elif key == "properties" and isinstance(value, dict):
            props = dict(merged[key])
            for name, schema in value.items():
                same = name not in props or props[name] == schema
                props[name] = (
                    schema
                    if name not in props
                    else (props[name] if same else {"allOf": [props[name], schema]})
                )
            merged[key] = props
        elif key == "required" and isinstance(value, list):
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        elif key in UPPER_BOUNDS and _numbers(merged[key], value):
            merged[key] = min(merged[key], value)
        elif key in LOWER_BOUNDS and _numbers(merged[key], value):
            merged[key] = max(merged[key], value)
        elif key == "enum" and isinstance(value, list) and isinstance(merged[key], list):
            merged[key] = [v for v in merged[key] if v in value]


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))


def allows_null(node: Any) -> bool:
    """Whether a schema already accepts null (so making it nullable changes nothing)."""
    if not isinstance(node, dict):
        return node is True
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "const" in node and node["const"] is None:
        return True
    if isinstance(node.get("enum"), list) and None in node["enum"]:
        return True
    return any(allows_null(branch) for branch in node.get("anyOf", []) or [])


def _deref(part: Any, defs: dict[str, Any]) -> Any:
    ref = part.get("$ref") if isinstance(part, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs:
        return {**defs[ref[8:]], **{k: v for k, v in part.items() if k != "$ref"}}
    return part


def add_notes(description: str, notes: list[str]) -> str:
    """Append notes to a description as whole sentences."""
    if not notes:
        return description
    text = description.strip()
    if text and text[-1] not in ".!?":
        text += "."
    return " ".join([text, *notes]) if text else " ".join(notes)
