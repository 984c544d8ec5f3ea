"""Follow a list's pages within the size budget: ``appctl call --pages N``, ``max_pages``.

Takes a function running one call (each page is a whole call: validated, gated, recorded) and
the caller's arguments; returns one result whose list holds the items of every page read, a
note saying how many pages were read and why it stopped, and the ``next`` of the last page
read (so the caller can go on from there). A database list goes on by its ``next_cursor``
(without the ``offset`` the first page may have been asked for: a cursor replaces it). A
page that would take the merged list past the budget is not merged: ``next`` still leads to
it. A page that failed, or was itself cut to the budget, ends the run (what a cut page left
out is not skipped silently).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from appctl.execute.budget import CUT_NOTES, size
from appctl.execute.continuation import CURSOR_ARG
from appctl.execute.result import ToolResult

Call = Callable[[Mapping[str, Any]], ToolResult]


def call_pages(call: Call, given: Mapping[str, Any], *, max_pages: int, budget: int) -> ToolResult:
    first = call(given)
    last, data, read, why = first, first.data, 1, ""
    while read < max_pages:
        cursor, carry = _continuation(last, given)
        if not (last.ok and isinstance(cursor, str)):
            why = "" if last.ok else "it failed"
            break
        if _cut(last):
            why = f"page {read} was cut to the budget"
            break
        page = call({**carry, CURSOR_ARG: cursor})
        if not page.ok:
            message = page.error.message if page.error else "failed"
            why = f"page {read + 1} failed ({message}); next still leads to it"
            break
        merged = merge(data, page.data)
        if merged is None:
            why = f"page {read + 1} is not a list of the same shape; next still leads to it"
            break
        if budget > 0 and size(merged) > budget:
            why = f"page {read + 1} did not fit the {budget:,}-character budget; next leads to it"
            break
        last, data, read = page, merged, read + 1
    if read == 1 and not why:
        return first
    note = f"read {read} page{'s' if read != 1 else ''}" + (f"; stopped: {why}" if why else "")
    if read == max_pages and not why and last.next:
        note += "; next leads to the page after"
    notes = [*last.notes, note] if last is not first else [*first.notes, note]
    return last.model_copy(update={"data": data, "notes": notes})


def _continuation(result: ToolResult, given: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The cursor that leads on from ``result`` and the arguments it goes with: the
    envelope's ``next`` (HTTP), or a database list's ``next_cursor``."""
    if result.next is not None:
        return result.next.get(CURSOR_ARG), dict(given)
    data = result.data
    if isinstance(data, dict) and isinstance(data.get("rows"), list) and "next_cursor" in data:
        return data["next_cursor"], {k: v for k, v in given.items() if k != "offset"}
    return None, dict(given)


def _cut(result: ToolResult) -> bool:
    return any(n.startswith(CUT_NOTES) for n in result.notes)


def merge(data: Any, more: Any) -> Any:
    """The two pages' items in one list (the top-level list, or the list field the pages
    share, other fields from the later page), or None when their shapes differ."""
    if isinstance(data, list) and isinstance(more, list):
        return data + more
    if isinstance(data, dict) and isinstance(more, dict):
        shared = [
            k for k, v in more.items() if isinstance(v, list) and isinstance(data.get(k), list)
        ]
        if shared:
            key = max(shared, key=lambda k: len(data[k]) + len(more[k]))
            return {**more, key: data[key] + more[key]}
    return None
