"""Warnings about text written in overrides.yaml that a tool does not carry whole.

An override's summary or description is the user's own words: if the emitted description
does not hold it in full (``--descriptions short``, a provider's length limit, or markup the
condenser removed), the user is told which tool and why, never left to find out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from appctl.generate.text import covers

if TYPE_CHECKING:
    from appctl.contract.models import Contract
    from appctl.contract.overrides import Overrides
    from appctl.generate.toolspec import Descriptions, ToolSpec


def override_texts(overrides: Overrides) -> dict[str, tuple[str, str]]:
    """Tool name → (summary, description) as written in overrides.yaml ("" where unset)."""
    out: dict[str, tuple[str, str]] = {}
    for key, edit in overrides.actions.items():
        if edit.summary is not None or edit.description is not None:
            out[edit.name or key] = (edit.summary or "", edit.description or "")
    return out


def overrides_not_carried(
    overrides: Overrides,
    schema: Contract,
    *,
    fmt: str | None = None,
    descriptions: Descriptions = "full",
    specs: list[ToolSpec] | None = None,
) -> list[str]:
    """Tools whose summary or description from ``overrides`` is not carried whole in ``fmt``
    (``tools.json``'s neutral format when None); ``specs``: the tools already built."""
    from appctl.generate.formats.common import fit_descriptions
    from appctl.generate.toolspec import build_tool_specs

    texts = override_texts(overrides)
    if not texts:
        return []
    if specs is None:
        specs = build_tool_specs(schema, include=sorted(texts), descriptions=descriptions)
    fitted, cut = fit_descriptions(fmt or "jsonschema", specs)
    reason = "--descriptions short" if descriptions == "short" else "markup or links condensed"
    return shortened_overrides(texts, fitted, reason=reason, cut=cut)


def _flat(text: str) -> str:
    return " ".join(text.split())


def kept_whole(written: str, emitted: str, *, summary: bool) -> bool:
    """Whether ``emitted`` says all of ``written``: verbatim (spacing aside), or for a
    summary, every one of its words (the description may open by saying it)."""
    if _flat(written) in _flat(emitted):
        return True
    return summary and covers(emitted, written)


def shortened_overrides(
    texts: Mapping[str, tuple[str, str]],
    emitted: Iterable[ToolSpec],
    *,
    reason: str,
    cut: Iterable[str] = (),
) -> list[str]:
    """One warning per tool whose description from overrides.yaml is not carried whole."""
    cut_names = set(cut)
    warnings = []
    for spec in emitted:
        if spec.name not in texts:
            continue
        summary, description = texts[spec.name]
        lost = [
            what
            for what, text, is_summary in (
                ("summary", summary, True),
                ("description", description, False),
            )
            if text.strip() and not kept_whole(text, spec.description, summary=is_summary)
        ]
        if lost:
            why = "cut at the provider's length limit" if spec.name in cut_names else reason
            warnings.append(
                f"{spec.name}: the {' and '.join(lost)} from overrides.yaml is not carried "
                f"whole ({why})"
            )
    return warnings
