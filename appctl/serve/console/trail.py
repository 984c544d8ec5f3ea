"""The audit trail as the console shows it: filtered pages of history rows, and exports.

Filters: tool and caller (globs), outcome and session (exact), a time range (ISO 8601
dates or times; a time without a zone is UTC). Pages run newest first, ``before`` an id,
``PAGE`` rows at a time; an export holds at most ``EXPORT_MAX`` rows. The query reads the
history table directly (``History.table``), so a column another part adds (``caller``)
is shown and filtered when the table has it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appctl.execute.audit.history import History

PAGE = 100
EXPORT_MAX = 10_000
OUTCOMES = (
    "ok",
    "failed",
    "refused",
    "invalid",
    "dry_run",
    "started",
    "polling",
    "cancelled",
    "undelivered",
)


class FilterError(ValueError):
    """A filter the trail cannot apply; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Filters:
    tool: str = ""
    outcome: str = ""
    session: str = ""
    caller: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def of(cls, params: Mapping[str, str]) -> Filters:
        return cls(**{f.name: params.get(f.name, "").strip()[:200] for f in fields(cls)})

    def query(self) -> dict[str, str]:
        """The filters that are set, as query parameters."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def rows(
    history: History, filters: Filters, *, limit: int = PAGE, before: int | None = None
) -> list[dict[str, Any]]:
    """The newest ``limit`` rows that pass the filters (ids below ``before``), newest first."""
    import sqlalchemy as sa

    table = history.table
    columns = [c for c in table.c if c.name != "uid"]
    query = sa.select(*columns).order_by(table.c.id.desc()).limit(limit)
    for condition in _conditions(table, filters, history.engine.dialect.name):
        query = query.where(condition)
    if before is not None:
        query = query.where(table.c.id < before)
    history.fold()
    with history.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def row(history: History, entry_id: int) -> dict[str, Any] | None:
    import sqlalchemy as sa

    table = history.table
    columns = [c for c in table.c if c.name != "uid"]
    history.fold()
    with history.engine.connect() as conn:
        found = conn.execute(sa.select(*columns).where(table.c.id == entry_id)).mappings().first()
    return dict(found) if found else None


def has_caller(history: History) -> bool:
    return "caller" in history.table.c


def _conditions(table: Any, filters: Filters, dialect: str) -> list[Any]:
    conditions = []
    if filters.tool:
        conditions.append(_caller_glob(table.c.tool, filters.tool, dialect))
    if filters.caller:
        if "caller" not in table.c:
            raise FilterError("this history has no caller column yet (filter by session)")
        conditions.append(_caller_glob(table.c.caller, filters.caller, dialect))
    if filters.outcome:
        if filters.outcome not in OUTCOMES:
            raise FilterError(f"outcome must be one of {', '.join(OUTCOMES)}")
        conditions.append(table.c.outcome == filters.outcome)
    if filters.session:
        conditions.append(table.c.session == filters.session)
    if filters.since:
        conditions.append(table.c.at >= _instant(filters.since, "since"))
    if filters.until:
        conditions.append(table.c.at <= _instant(filters.until, "until", end=True))
    return conditions


def _caller_glob(column: Any, pattern: str, dialect: str) -> Any:
    """A glob as ``appctl history --caller`` reads it (``audit/callers.py``: the same
    case-sensitive match on every database) where that module is; else as ``_glob``."""
    import importlib

    try:
        callers = importlib.import_module("appctl.execute.audit.callers")
    except ImportError:
        return _glob(column, pattern)
    return callers.caller_clause(column, pattern, dialect=dialect)


def _glob(column: Any, pattern: str) -> Any:
    """A glob (``*``, ``?``) as a LIKE with ``\\`` escaping LIKE's own wildcards."""
    if not any(c in pattern for c in "*?"):
        return column == pattern
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped.replace("*", "%").replace("?", "_"), escape="\\")


def _instant(text: str, name: str, *, end: bool = False) -> str:
    """An ISO date or time as the history's ``at`` text (UTC, milliseconds): a bare date
    ``until`` means the end of that day."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{name} must be an ISO date or time, e.g. 2026-12-05T09:30") from None
    if end and len(text) <= 10:
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999_000)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def as_csv(found: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if not found:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(found[0]), lineterminator="\r\n")
    writer.writeheader()
    for entry in found:
        writer.writerow({k: _cell(v) for k, v in entry.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting with = + - @ gets a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def as_json(found: list[dict[str, Any]]) -> str:
    return json.dumps(found, ensure_ascii=False, indent=1, default=str) + "\n"
