"""The approval queue page: the calls waiting for a person (tool, arguments, the exact
request, who asked, time left) and recent decisions with who made them; an approver
approves (a destructive call by typing the tool's name) or denies with a reason.

Written against the queue of ``appctl/session/queue.py`` (``ServeState.queue``): it
checks the typed name and records the decision with the approver's identity; a refusal
(unknown id, already decided, a mistyped name) is an ``AppctlError`` whose message the
page shows.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, Protocol

from appctl.errors import AppctlError
from appctl.execute.caller import Caller
from appctl.serve.console.app import Ask, Console, Forbidden

if TYPE_CHECKING:
    from starlette.responses import Response

RECENT = 50
MAX_REASON = 2000


class Queue(Protocol):
    def pending(self) -> list[Any]: ...

    def decide(
        self, id: str, *, approve: bool, by: Caller, reason: str = "", typed: str = ""
    ) -> Any: ...

    def recent(self, *, limit: int = 50) -> list[Any]: ...

    def decided(self, id: str) -> Any: ...


class ApprovalPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def queue(self) -> Queue:
        found = self.console.state.queue
        if found is None:
            raise Forbidden(
                "this server has no approval queue: add approval: to a policy rule", status=404
            )
        return found

    async def page(
        self, ask: Ask, *, notice: str = "", problem: str = "", status: int = 200
    ) -> Response:
        import anyio

        queue = self.queue()
        pending = await anyio.to_thread.run_sync(queue.pending)
        recent = await anyio.to_thread.run_sync(lambda: queue.recent(limit=RECENT))
        now = time.time()
        return self.console.render(
            ask,
            "approvals.html.j2",
            status=status,
            pending=[_pending_view(p, now) for p in pending],
            recent=[_decided_view(d) for d in recent],
            notice=notice,
            problem=problem,
        )

    async def show(self, ask: Ask) -> Response:
        """The queue; after a decision (``?decided=ID``) saying what became of that call."""
        import anyio

        decided_id = ask.request.query_params.get("decided", "")[:64]
        notice = ""
        if decided_id:
            queue = self.queue()
            decided = await anyio.to_thread.run_sync(lambda: queue.decided(decided_id))
            if decided is not None:
                verb = "approved" if decided.approved else "denied"
                notice = f"{decided.tool} {verb} by {decided.by}"
        return await self.page(ask, notice=notice)

    async def decide(self, ask: Ask) -> Response:
        import anyio

        queue = self.queue()
        call_id = ask.request.path_params["id"]
        decision = ask.form.get("decision", "")
        if decision not in ("approve", "deny"):
            raise Forbidden("decision must be approve or deny", status=400)
        reason = ask.form.get("reason", "").strip()[:MAX_REASON]
        typed = ask.form.get("typed", "").strip()
        caller = ask.caller

        def decide() -> Any:
            return queue.decide(
                call_id, approve=decision == "approve", by=caller, reason=reason, typed=typed
            )

        from starlette.responses import RedirectResponse

        try:
            decided = await anyio.to_thread.run_sync(decide)
        except AppctlError as exc:
            return await self.page(ask, problem=exc.message, status=409)
        # after the POST, a GET (reloading the page never decides again)
        base = ask.request.scope.get("root_path", "")
        target = f"{base}/approvals?{urllib.parse.urlencode({'decided': decided.id})}"
        return self.console.finish(RedirectResponse(target, 303), ask.visitor, ask.fresh)


def _pending_view(pending: Any, now: float) -> dict[str, Any]:
    return {
        "id": pending.id,
        "tool": pending.tool,
        "arguments": json.dumps(pending.arguments, ensure_ascii=False, indent=2, default=str),
        "request": pending.request,
        "caller": pending.caller,
        "safety": pending.safety,
        "destructive": pending.destructive,
        "front_end": pending.front_end,
        "left": max(0, int(pending.deadline - now)),
    }


def _decided_view(decided: Any) -> dict[str, Any]:
    return {
        "tool": decided.tool,
        "approved": decided.approved,
        "by": decided.by,
        "reason": decided.reason,
        "caller": decided.caller,
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(decided.decided)),
    }
