"""Helpers the format adapters share: description limits and per-request tool-count limits."""

from __future__ import annotations

from typing import Any

from appctl.generate.text import cap


def limit_description(text: str, limit: int) -> str:
    return cap(text, limit)


def count_warning(provider: str, count: int, limit: int) -> list[str]:
    if count <= limit:
        return []
    return [
        f"{count} tools is over {provider}'s limit of {limit} per request: filter with "
        "--include/--exclude/--read-only, or let `appctl run` switch to its catalogue tools"
    ]


def merge_all_of(
    node: dict[str, Any], defs: dict[str, Any] | None = None, depth: int = 0
) -> dict[str, Any]:
    """Fold ``allOf`` parts into one schema: properties and required united, first value wins.

    Parts that are ``#/$defs/`` references are looked up in ``defs`` (and their own allOf
    folded in turn, a bounded number of levels deep).
    """
    parts = node.get("allOf")
    if not isinstance(parts, list) or depth > 8:
        return node
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    for raw in parts:
        part = _deref(raw, defs or {})
        if not isinstance(part, dict):
            continue
        part = merge_all_of(part, defs, depth + 1)
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def _deref(part: Any, defs: dict[str, Any]) -> Any:
    ref = part.get("$ref") if isinstance(part, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs:
        return {**defs[ref[8:]], **{k: v for k, v in part.items() if k != "$ref"}}
    return part
