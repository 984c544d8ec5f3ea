"""The page decision alone: rows, next cursor/offset and has_more chosen after the envelope
fits (tests/db/test_paging_property.py checks it end to end on real databases)."""

from __future__ import annotations

from appctl.execute.budget import size
from appctl.execute.sql.page import PageShape, fit_page

ROWS = [{"id": n, "body": "x" * 50} for n in range(10)]


def _shape(more: bool = False) -> PageShape:
    return PageShape(more=more, offset=20, by_offset=True, cursor_after=lambda i: f"after-{i}")


def test_the_whole_envelope_fits_and_the_cursor_follows_the_last_row_shown() -> None:
    for budget in range(150, 700, 7):
        data, notes = fit_page(ROWS, _shape(), budget=budget, fetch_hint="")
        shown = len(data["rows"])
        assert size(data) <= budget and 1 <= shown < len(ROWS) and notes
        assert data["has_more"] and data["next_offset"] == 20 + shown
        assert data["next_cursor"] == f"after-{shown - 1}"


def test_a_page_that_fits_is_untouched() -> None:
    data, notes = fit_page(ROWS, _shape(more=True), budget=0, fetch_hint="")
    assert data["rows"] == ROWS and data["next_cursor"] == "after-9" and not notes
    data, notes = fit_page(ROWS[:2], _shape(), budget=10_000, fetch_hint="")
    assert data == {"rows": ROWS[:2], "has_more": False} and not notes


def test_a_row_over_the_budget_is_cut_and_marked() -> None:
    tags = [f"tag {n}" for n in range(400)]
    rows = [
        {"id": 1, "body": "é" * 5000, "doc": {"a": list(range(900))}, "tags": tags, "n": 7},
        ROWS[0],
    ]
    data, notes = fit_page(rows, _shape(), budget=1200, fetch_hint="Use get.")
    assert size(data) <= 1200 and data["has_more"] and data["next_cursor"] == "after-0"
    [row] = data["rows"]
    assert row["id"] == 1 and row["n"] == 7 and "é" * len(row["body"]) == row["body"]
    marks = {m["column"]: m for m in data["cut"]}
    assert marks["body"] == {
        "column": "body",
        "length": 5000,
        "shown": len(row["body"]),
        "left_out": 5000 - len(row["body"]),
    }
    assert isinstance(row["doc"], str) and marks["doc"]["shown"] == len(row["doc"])
    assert row["tags"] == tags[: len(row["tags"])] and 0 < len(row["tags"]) < 400
    assert marks["tags"]["shown"] == size(row["tags"])  # characters of the JSON text
    assert "Use get." in notes[0] and "body" in notes[0]
