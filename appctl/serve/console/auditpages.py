"""The audit trail pages: filtered rows (newest first, a page at a time), one entry in
full, and the filtered rows exported as CSV or JSON (at most ``trail.EXPORT_MAX``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from appctl.serve.console.app import Ask, Console, Forbidden
from appctl.serve.console.trail import (
    EXPORT_MAX,
    OUTCOMES,
    PAGE,
    FilterError,
    Filters,
    as_csv,
    as_json,
    has_caller,
    row,
    rows,
)

if TYPE_CHECKING:
    from starlette.responses import Response

    from appctl.execute.audit.history import History


class AuditPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def history(self) -> History:
        found = self.console.state.session.history
        if found is None:
            raise Forbidden("this server keeps no history", status=404)
        return found

    async def trail(self, ask: Ask) -> Response:
        import anyio

        history = self.history()
        params = ask.request.query_params
        filters = Filters.of(params)
        before = _int(params.get("before"))
        problem = ""
        try:
            found = await anyio.to_thread.run_sync(
                lambda: rows(history, filters, limit=PAGE, before=before)
            )
        except FilterError as exc:
            found, problem = [], str(exc)
        older = found[-1]["id"] if len(found) == PAGE else None
        return self.console.render(
            ask,
            "history.html.j2",
            status=400 if problem else 200,
            rows=found,
            filters=filters,
            query=filters.query(),
            outcomes=OUTCOMES,
            problem=problem,
            older=older,
            with_caller=has_caller(history),
        )

    async def entry(self, ask: Ask) -> Response:
        import anyio

        history = self.history()
        entry_id = _int(ask.request.path_params["id"])
        found = None
        if entry_id is not None:
            found = await anyio.to_thread.run_sync(lambda: row(history, entry_id))
        if found is None:
            raise Forbidden(f"no history entry {ask.request.path_params['id']}", status=404)
        return self.console.render(ask, "entry.html.j2", entry=found, pretty=_pretty(found))

    async def export(self, ask: Ask) -> Response:
        import anyio
        from starlette.responses import Response

        history = self.history()
        kind = ask.request.path_params["kind"]
        if kind not in ("csv", "json"):
            raise Forbidden(f"no export as {kind!r}: history.csv or history.json", status=404)
        filters = Filters.of(ask.request.query_params)
        try:
            found = await anyio.to_thread.run_sync(lambda: rows(history, filters, limit=EXPORT_MAX))
        except FilterError as exc:
            raise Forbidden(str(exc), status=400) from None
        if kind == "csv":
            body, media = as_csv(found), "text/csv; charset=utf-8"
        else:
            body, media = as_json(found), "application/json"
        response = Response(body, media_type=media)
        response.headers["Content-Disposition"] = f'attachment; filename="appctl-history.{kind}"'
        return self.console.finish(response, ask.visitor, ask.fresh)


def _pretty(entry: dict[str, Any]) -> dict[str, str]:
    """The arguments and request of an entry, indented when they are JSON."""
    out = {}
    for key in ("arguments", "request"):
        text = entry.get(key) or ""
        try:
            out[key] = json.dumps(json.loads(text), ensure_ascii=False, indent=2)
        except ValueError:
            out[key] = text
    return out


def _int(text: str | None) -> int | None:
    if text is None or not text.strip().isdigit():
        return None
    return int(text)
