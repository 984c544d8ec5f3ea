"""The trail's queries on every history database (SQLite, PostgreSQL, MariaDB): globs with
LIKE's own wildcards escaped, the time range on the ``at`` text, newest first."""

from __future__ import annotations

from appctl.execute.audit.history import Entry, History
from appctl.serve.console.trail import Filters, rows


def _history(url: str) -> History:
    history = History(url)
    for n, (tool, outcome) in enumerate(
        [("list_pets", "ok"), ("list_pe%s", "ok"), ("list_pe_s", "failed"), ("get_pet", "ok")]
    ):
        at = f"2026-12-0{n + 1}T10:00:00.000+00:00"
        history.record(Entry(at, f"s{n % 2}", tool, "{}", "", 200, 1.0, outcome))
    return history


def test_trail_filters_on_every_database(fresh_db: str) -> None:
    history = _history(fresh_db)
    try:

        def tools(**given: str) -> list[str]:
            return [r["tool"] for r in rows(history, Filters(**given))]

        assert tools() == ["get_pet", "list_pe_s", "list_pe%s", "list_pets"]
        assert tools(tool="list_pe%s") == ["list_pe%s"]  # exact: % is no wildcard
        assert tools(tool="list_pe_*") == ["list_pe_s"]  # _ is no wildcard either
        assert tools(tool="list_pe?s") == ["list_pe_s", "list_pe%s", "list_pets"]
        assert tools(outcome="failed") == ["list_pe_s"]
        assert tools(session="s1") == ["get_pet", "list_pe%s"]
        assert tools(since="2026-12-03") == ["get_pet", "list_pe_s"]
        assert tools(until="2026-12-02") == ["list_pe%s", "list_pets"]  # the whole day
        assert tools(since="2026-12-02T11:00+01:00", until="2026-12-02T10:00Z") == ["list_pe%s"]
        newest = rows(history, Filters(), limit=2)
        assert [r["tool"] for r in rows(history, Filters(), before=newest[-1]["id"])] == [
            "list_pe%s",
            "list_pets",
        ]
    finally:
        history.close()
