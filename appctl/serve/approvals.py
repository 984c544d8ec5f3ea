"""``appctl serve``'s approval queue as JSON, for operators without a browser (the console
under ``/ui`` renders the same queue as pages):

    GET  /approvals         {"pending": [...], "recent": [...]} (the last 50 decisions)
    POST /approvals/{id}    {"approve": true|false, "reason": "...", "typed": "..."} → the decision

Both sit behind serve's authentication. Deciding takes the approver role: a caller whose
``Caller.name`` matches a glob of ``console.approvers`` in config.yaml, or one of whose groups
matches a ``group:GLOB`` entry; with no ``console:`` section, any caller serve lets in. An
approval of a destructive tool needs its name ``typed``. Answers: 200 the decision; 400 a
malformed body or a mistyped name; 403 not an approver; 404 no such entry (or no queue);
409 already decided or expired, or approved by the caller who asked (nobody approves their
own call).
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from appctl.execute.caller import ANONYMOUS, Caller
from appctl.session.queue import ApprovalQueue, QueueError

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from appctl.config import Config

STATUS = {
    "unknown": 404,
    "decided": 409,
    "expired": 409,
    "self": 409,
    "mistyped": 400,
    "full": 503,
}
Handler = Callable[["Request"], Awaitable["Response"]]


def request_caller() -> Caller:
    """The current request's caller (``appctl.serve.inbound.current_caller``), else
    anonymous where the server has no inbound authentication."""
    try:
        inbound = importlib.import_module("appctl.serve.inbound")
    except ImportError:
        return ANONYMOUS
    caller: Caller = inbound.current_caller()
    return caller


def approvers(config: Config) -> list[str] | None:
    """``console.approvers`` from config.yaml, or None when it names none (anyone let in)."""
    console = getattr(config, "console", None)
    found = getattr(console, "approvers", None)
    return list(found) if found is not None else None


def may_approve(caller: Caller, globs: list[str] | None) -> bool:
    if globs is None:
        return True
    for glob in globs:
        if glob.startswith("group:"):
            if any(fnmatch.fnmatchcase(g, glob[6:]) for g in caller.groups):
                return True
        elif fnmatch.fnmatchcase(caller.name, glob):
            return True
    return False


def decision_of(body: Any) -> tuple[bool, str, str] | str:
    """``(approve, reason, typed)`` from a request body, or what is wrong with it."""
    if not isinstance(body, dict) or not isinstance(body.get("approve"), bool):
        return 'the body must be {"approve": true|false, "reason": "...", "typed": "..."}'
    reason, typed = body.get("reason", ""), body.get("typed", "")
    if not isinstance(reason, str) or not isinstance(typed, str):
        return "reason and typed must be strings"
    if len(reason) > 2000:
        return "reason is over 2,000 characters"
    return body["approve"], reason, typed


def approval_routes(
    queue: ApprovalQueue | None,
    config: Config,
    *,
    guarded: Callable[[Handler], Handler],
    reply: Callable[..., Response],
    read_body: Callable[[Request], Awaitable[Any]],
) -> list[Route]:
    """The two routes, with serve's ``guarded`` (authentication), ``reply`` (a JSON answer)
    and ``read_body`` (the bounded JSON body)."""
    import anyio
    from starlette.routing import Route

    def refused(status: int, message: str, suggestion: str = "") -> Response:
        error = {"message": message, **({"suggestion": suggestion} if suggestion else {})}
        return reply({"error": error}, status)

    async def listing(request: Request) -> Response:
        if queue is None:
            return refused(404, "this server has no approval queue")
        pending = await anyio.to_thread.run_sync(queue.pending)
        recent = await anyio.to_thread.run_sync(lambda: queue.recent(limit=50))
        return reply(
            {"pending": [asdict(p) for p in pending], "recent": [asdict(d) for d in recent]}
        )

    async def decide(request: Request) -> Response:
        if queue is None:
            return refused(404, "this server has no approval queue")
        caller = request_caller()
        if not may_approve(caller, approvers(config)):
            return refused(403, f"{caller.name} may not approve calls (console.approvers)")
        wanted = decision_of(await read_body(request))
        if isinstance(wanted, str):
            return refused(400, wanted)
        approve, reason, typed = wanted
        entry = request.path_params["id"]
        try:
            decided = await anyio.to_thread.run_sync(
                lambda: queue.decide(entry, approve=approve, by=caller, reason=reason, typed=typed)
            )
        except QueueError as exc:
            return refused(STATUS.get(exc.kind, 400), exc.message, exc.suggestion)
        return reply(asdict(decided))

    return [
        Route("/approvals", guarded(listing), methods=["GET"]),
        Route("/approvals/{id}", guarded(decide), methods=["POST"]),
    ]
