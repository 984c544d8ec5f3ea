"""Fit a result into a size budget a model can take, saying what was left out and how to page.

Takes any JSON value and a budget in characters of compact JSON; returns the value cut to fit
(the longest list loses its tail; a long text is cut) and a note, or the value untouched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appctl.contract.models import Action

DEFAULT_BUDGET = 24_000


# how fit's notes begin (a note of a cut list, of a cut text): what a caller checks for a cut
CUT_NOTES = ("showing ", "cut to ")
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)  # made once, not per call


def size(value: Any) -> int:
    return len(_COMPACT.encode(value))


def _page_hint(params: Sequence[str]) -> str:
    if params:
        return f"ask for fewer items or the next page ({', '.join(params)})"
    return "ask for fewer items (narrower filters)"


def page_hint(action: Action) -> str:
    """How to see what a cut left out, in the operation's own paging arguments (wherever they
    go: query or request body) and its continuation when its responses give one."""
    paging = action.pagination
    params = paging.params if paging else []
    if paging is not None and paging.next is not None and not params:
        return "ask for fewer items, or pass next's cursor for the next page"
    return _page_hint(params)


def _longest_list(value: Any) -> tuple[list[Any], str] | None:
    """The largest list at the top, or one level inside an object (``{"data": [...]}``)."""
    if isinstance(value, list):
        return value, ""
    if isinstance(value, dict):
        lists = [(k, v) for k, v in value.items() if isinstance(v, list)]
        if lists:
            key, items = max(lists, key=lambda kv: size(kv[1]))
            return items, key
    return None


def fit(
    value: Any, budget: int, *, page_params: Sequence[str] = (), hint: str | None = None
) -> tuple[Any, str | None]:
    """``value`` cut to ``budget`` and a note saying what was left out and how to see it
    (``hint``, else one naming ``page_params``), or ``value`` and None when it fits."""
    hint = hint or _page_hint(page_params)
    if budget <= 0 or size(value) <= budget:
        return value, None
    found = _longest_list(value)
    if found is not None:
        items, key = found
        keep = _keep(value, items, key, budget)
        cut = _with(value, items[:keep], key)
        where = f" of {key!r}" if key else ""
        return cut, (
            f"showing {keep} of {len(items)} items{where} "
            f"({len(items) - keep} left out to fit {budget:,} characters); "
            f"{hint}"
        )
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:budget], (f"cut to {budget:,} of {len(text):,} characters; {hint}")


def _with(value: Any, items: list[Any], key: str) -> Any:
    return items if not key else {**value, key: items}


def _keep(value: Any, items: list[Any], key: str, budget: int) -> int:
    """The most leading items that fit (binary search on the serialized size)."""
    low, high = 0, len(items)
    while low < high:
        mid = (low + high + 1) // 2
        if size(_with(value, items[:mid], key)) <= budget:
            low = mid
        else:
            high = mid - 1
    return low
