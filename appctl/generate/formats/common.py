"""Helpers the format adapters share: description limits and per-request tool-count limits."""

from __future__ import annotations

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
