"""One small adapter per target format; each applies that provider's documented limits.

``render(name, specs, strict=...)`` returns the document to write (a JSON value) and the
warnings the adapter raised (for example a tool count over a provider's per-request limit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appctl.errors import UsageError, did_you_mean
from appctl.generate.formats import anthropic, gemini, mcp, neutral, openai
from appctl.generate.formats.common import cut_warning, fit_descriptions
from appctl.generate.toolspec import ToolSpec


@dataclass(frozen=True, slots=True)
class Rendered:
    document: Any
    entries: list[Any]  # one per tool, for --stats
    warnings: list[str]
    cut: tuple[str, ...] = ()  # tools whose description was cut at the provider's limit


# (specs, strict) → (document, one entry per tool, warnings)
Adapter = Callable[[list[ToolSpec], bool], tuple[Any, list[Any], list[str]]]

FORMATS: dict[str, Adapter] = {
    "openai": openai.render_chat,
    "openai-responses": openai.render_responses,
    "anthropic": anthropic.render,
    "gemini": gemini.render,
    "mcp": mcp.render,
    "jsonschema": neutral.render,
}


def render(name: str, specs: list[ToolSpec], *, strict: bool = False) -> Rendered:
    try:
        adapter = FORMATS[name]
    except KeyError:
        raise UsageError(
            f"unknown tool format {name!r}.{did_you_mean(name, FORMATS)}",
            suggestion="Choose one of: " + ", ".join(FORMATS) + ".",
        ) from None
    specs, cut = fit_descriptions(name, specs)
    document, entries, warnings = adapter(specs, strict)
    return Rendered(
        document=document,
        entries=entries,
        warnings=[*cut_warning(name, cut), *warnings],
        cut=tuple(cut),
    )
