"""One decision for a page of rows: which rows it holds, where the next page starts, and
whether there is one, taken after the envelope is known to fit the result budget.

Takes the rows a list fetched (already JSON), whether the database has more, the page's
offset and a way to make the cursor after a given row; returns the envelope
(``rows``, ``has_more``, ``next_offset``/``next_cursor``) and notes. The envelope is
measured whole, cursor included, so no later cut can drop a row the cursor has passed:
every row of a result is on exactly one page. A page holds at least one row; a row larger
than the budget alone comes with its largest values cut, each listed in ``cut`` (column,
full length, characters shown, characters left out), never skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appctl.execute.budget import size
from appctl.execute.sql.plan import SqlPlan


@dataclass(frozen=True, slots=True)
class PageShape:
    more: bool  # the database holds rows past the fetched ones
    offset: int  # the page's offset (offset paging)
    by_offset: bool  # next_offset is given (not when the page was asked for by cursor)
    cursor_after: Callable[[int], str] | None  # the cursor after fetched row i, if keyset


def envelope(rows: list[dict[str, Any]], k: int, shape: PageShape) -> dict[str, Any]:
    has_more = shape.more or k < len(rows)
    data: dict[str, Any] = {"rows": rows[:k], "has_more": has_more}
    if has_more and k:
        if shape.by_offset:
            data["next_offset"] = shape.offset + k
        if shape.cursor_after is not None:
            data["next_cursor"] = shape.cursor_after(k - 1)
    return data


def fit_page(
    rows: list[dict[str, Any]], shape: PageShape, *, budget: int, fetch_hint: str
) -> tuple[dict[str, Any], list[str]]:
    """The envelope with as many leading rows as fit ``budget`` characters (at least one)."""
    whole = envelope(rows, len(rows), shape)
    if budget <= 0 or not rows or size(whole) <= budget:
        return whole, []
    low, high = 0, len(rows)  # the most leading rows whose envelope fits (binary search)
    while low < high:
        mid = (low + high + 1) // 2
        if size(envelope(rows, mid, shape)) <= budget:
            low = mid
        else:
            high = mid - 1
    if low:
        data = envelope(rows, low, shape)
        note = (
            f"showing {low} of {len(rows)} rows to fit {budget:,} characters; "
            "the next page starts after the last row shown"
        )
        return data, [note]
    data = envelope(rows, 1, shape)
    row, cuts = cut_row(rows[0], lambda r, c: size({**data, "rows": [r], "cut": c}), budget)
    data = {**data, "rows": [row], "cut": cuts}
    return data, [_cut_note(cuts, budget, fetch_hint, where="listed in cut; ")]


def fit_row(
    row: dict[str, Any], *, budget: int, fetch_hint: str
) -> tuple[dict[str, Any], list[str]]:
    """One row (a get) within the budget: its longest values cut, each named in the note."""
    if budget <= 0 or size(row) <= budget:
        return row, []
    cut, marks = cut_row(row, lambda r, _: size(r), budget)
    return cut, [_cut_note(marks, budget, fetch_hint, where="")]


def _mark(column: str, length: int, shown: int) -> dict[str, Any]:
    return {"column": column, "length": length, "shown": shown, "left_out": length - shown}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return _json(value)
    return None  # numbers, booleans, null: small, never cut


Marks = list[dict[str, Any]]


def _cut(value: Any, text: str, cap: int) -> tuple[Any, int]:
    """A value cut to ``cap`` characters, and how many it shows: text and objects as the
    leading characters (of their JSON text); arrays as their leading items, still an array,
    so a typed array column keeps its type."""
    if not isinstance(value, list):
        return text[:cap], cap
    kept: list[Any] = []
    used = 2  # the brackets
    for item in value:
        more = len(_json(item)) + (1 if kept else 0)
        if used + more > cap:
            break
        kept.append(item)
        used += more
    return kept, used


def cut_row(
    row: dict[str, Any], measure: Callable[[dict[str, Any], Marks], int], budget: int
) -> tuple[dict[str, Any], Marks]:
    """The row with every value longer than one cap cut to it, and a mark per cut value; the
    cap the largest for which ``measure`` (of the row and its marks) stays within ``budget``
    (0 when nothing does: the smallest the row can be)."""
    texts = {c: t for c, v in row.items() if (t := _text(v)) is not None}

    def capped(cap: int) -> tuple[dict[str, Any], Marks]:
        out, marks = dict(row), []
        for c, text in texts.items():
            if len(text) > cap:
                out[c], shown = _cut(row[c], text, cap)
                marks.append(_mark(c, len(text), shown))
        return out, marks

    low, high = 0, max((len(t) for t in texts.values()), default=0)
    while low < high:
        mid = (low + high + 1) // 2
        if measure(*capped(mid)) <= budget:
            low = mid
        else:
            high = mid - 1
    return capped(low)


def _cut_note(cuts: Marks, budget: int, fetch_hint: str, *, where: str) -> str:
    parts = ", ".join(
        f"{m['column']} to {m['shown']:,} of {m['length']:,} characters "
        f"({m['left_out']:,} left out)"
        for m in cuts
    )
    return (
        f"this row alone is larger than {budget:,} characters, so it is shown with values cut "
        f"({where}objects as cut JSON text, arrays as their leading items): {parts}. "
        f"{fetch_hint}"
    )


def fetch_hint(plan: SqlPlan, rows: list[dict[str, Any]], *, get: bool = False) -> str:
    """How to read a cut value whole (no tool returns one value alone: say what works)."""
    full = "appctl call with --full (no size budget)"
    if get:
        return f"To read the row whole, call this tool through {full}."
    if not rows or not plan.table.primary_key:
        return f"To read it whole, call this tool through {full}."
    key = ", ".join(
        f"{plan.args.get(c, c)}={rows[0].get(plan.args.get(c, c))!r}"
        for c in plan.table.primary_key
    )
    return (
        "The next page continues after this row. To read the row whole, call this table's "
        f"get tool with {key} through {full}."
    )
