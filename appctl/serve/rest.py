"""``appctl serve``: the contract's tools over plain HTTP (Starlette, run by uvicorn).

    GET  /health                      liveness (no auth)
    GET  /tools?format=NAME           tool definitions (jsonschema, openai, anthropic, gemini, mcp)
    GET  /schema                      the contract
    POST /tools/{name}/call           {"arguments": {...}} → the result envelope
    POST /run                         {"prompt": "..."} → one agent turn (needs a provider)
    GET  /history?last=&tool=&session=&caller= the audit trail (caller: a glob)
    GET  /openapi.json                this API, one path per tool
    GET  /approvals, POST /approvals/{id}  the approval queue (``serve/approvals.py``)
    GET  /ui/...                      the operator console (``serve/console``: its own sign-in)

Every call goes through the session (``appctl.session.core.Session.call``) with its gates;
there is no terminal to ask, so a tool that changes data runs only where the policy in
``config.yaml`` allows it, or where a rule's ``approval:`` queues it and a person approves
it (``serve/approvals.py``), and a refusal says which rule to add. The HTTP status of a call
comes from the one outcome table (``appctl.session.outcomes``): 200 ran and succeeded; 400
invalid arguments; 404 no such tool, or no such row in the application; 403 refused by a gate;
422 the application refused the arguments; 424 the application rejected appctl's credentials
or the contract's route; 429 over a per-tool concurrency or rate limit, or every worker this
tool may use is busy (``serve.workers``: calls run on a bounded pool with a share per tool,
and a call never outlives its deadline); 502 the application (or database) failed or could
not be reached; 504 it did not answer by the call's deadline. The body is always the envelope
(a body that is not JSON, or nested too deeply, is a 400 one; a call still running when the
server stops at its grace limit a 503 one). Every other answer, an unknown route included, is
a JSON ``{"error": {"message": ...}}``; a ``/run`` field of the wrong type or out of range is
a 400 one, never a silent default. ``InboundAuth`` (``serve/inbound/``) guards everything but
``/health``: a static bearer token (``--token-env`` or ``inbound.tokens``) or an OAuth access
token (``inbound.oauth``), one of which is required whenever the server binds beyond loopback;
each call and agent turn runs as the caller the request authenticated as.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from appctl.contract.models import Contract
from appctl.errors import AppctlError
from appctl.execute.args import MAX_DEPTH
from appctl.execute.caller import Caller
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.serve.inbound import current_caller
from appctl.serve.openapi import FORMATS, openapi_document
from appctl.serve.workers import RETRY_AFTER, Workers
from appctl.session.core import Session
from appctl.session.outcomes import answer

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from appctl.agent.loop import TurnResult
    from appctl.execute.caller import Caller
    from appctl.serve.inbound.verify import Verifier
    from appctl.session.queue import ApprovalQueue

MAX_BODY = 1_000_000  # bytes of request body
SESSION_CHARS = re.compile(r"[^A-Za-z0-9._:-]")
MAX_STEPS = 100  # the most model calls one /run may ask for


@dataclass
class ServeState:
    session: Session  # contract, gates, history, approver (policy only) and default id
    token: str | None = None  # --token-env: a static token whose caller is "token"
    verifier: Verifier | None = None  # inbound.tokens / inbound.oauth (and the token)
    max_body: int = MAX_BODY
    # builds and runs one agent turn for POST /run: (prompt, settings, the request's caller)
    # → (summary, result)
    run_turn: Callable[[str, dict[str, Any], Caller], tuple[dict[str, Any], TurnResult]] | None = (
        None
    )
    workers: Workers = field(default_factory=Workers)  # threads for tool calls
    _documents: dict[str, bytes] = field(default_factory=dict)  # rendered, by format and "openapi"
    busy: Busy = field(default_factory=lambda: Busy())  # calls and turns running in threads
    queue: ApprovalQueue | None = None  # calls waiting for a person (session/queue.py)

    @property
    def schema(self) -> Contract:
        return self.session.schema


class Busy:
    """How many worker threads run a call or a turn: at shutdown, the ones a stopping server
    leaves behind (their tasks were cancelled at the grace limit; the threads cannot be)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def run(self, work: Callable[[], Any]) -> Callable[[], Any]:
        def counted() -> Any:
            with self._lock:
                self.count += 1
            try:
                return work()
            finally:
                with self._lock:
                    self.count -= 1

        return counted


class _Refusal(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def http_status(result: ToolResult) -> int:
    """The HTTP status that says what happened to a call (``appctl.session.outcomes``)."""
    return answer(result).http_status


def create_app(state: ServeState) -> Starlette:
    _one_verifier(state)
    import anyio
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    def json_response(
        data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        # a lone surrogate (in an application's answer) becomes its JSON escape
        body = json.dumps(data, ensure_ascii=False, default=str)
        raw = body.encode("utf-8", "backslashreplace")
        return Response(raw, status, headers=headers, media_type="application/json")

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except _Refusal as exc:
                return json_response(
                    {"error": {"message": exc.message}}, exc.status, headers=exc.headers
                )

        return endpoint

    async def health(request: Request) -> Response:
        return json_response({"ok": True, "tools": len(state.schema.actions())})

    async def tools(request: Request) -> Response:
        fmt = request.query_params.get("format", "jsonschema")
        if fmt not in FORMATS:
            raise _Refusal(400, f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}")
        if fmt not in state._documents:
            state._documents[fmt] = _render(state.schema, fmt)
        return Response(state._documents[fmt], media_type="application/json")

    async def schema(request: Request) -> Response:
        from appctl.contract.io import dump_schema

        return Response(dump_schema(state.schema), media_type="application/json")

    async def call_tool(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            arguments = _arguments(await _json_body(state, request))
        except _Refusal as exc:  # still the envelope, as for arguments the executor refuses
            result = ToolResult.failure(name, ErrorCategory.VALIDATION, exc.message)
            return json_response(result.model_dump(mode="json", exclude_none=True), exc.status)
        session = _session(request.headers.get("x-appctl-session")) or state.session.id
        caller = current_caller()  # InboundAuth's, for this request
        work = state.busy.run(
            lambda: state.session.call(name, arguments, session=session, caller=caller)
        )
        try:  # at the grace limit of a shutdown the task is cancelled, and the thread left
            result = await state.workers.run(name, work, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            return json_response(_stopped(name), 503)  # best effort: the server is going
        status = http_status(result)
        headers = {"Retry-After": str(RETRY_AFTER)} if status == 429 else None
        envelope = result.model_dump(mode="json", exclude_none=True)
        return json_response(envelope, status, headers=headers)

    async def run(request: Request) -> Response:
        if state.run_turn is None:
            raise _Refusal(501, "no LLM provider is configured: run appctl init first")
        body = await _json_body(state, request)
        prompt = body.get("prompt") if isinstance(body, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            raise _Refusal(400, 'the body must be {"prompt": "..."}')
        settings = run_settings(body)
        caller = current_caller()  # InboundAuth's: its tool calls' caller
        turn = state.run_turn
        work = state.busy.run(lambda: turn(prompt, settings, caller))
        try:
            summary, result = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            message = "appctl serve stopped before the turn finished (its grace limit passed)"
            return json_response({"error": {"message": message}}, 503)
        except AppctlError as exc:  # no such provider, no key...
            raise _Refusal(400, f"{exc.message} ({exc.suggestion})") from None
        status = 200 if result.stopped == "answer" else 502
        return json_response(summary, status)

    async def history(request: Request) -> Response:
        if state.session.history is None:
            return json_response([])
        params = request.query_params
        try:
            last = max(1, min(int(params.get("last", "20")), 1000))
        except ValueError:
            raise _Refusal(400, "last must be a number") from None
        recorder = state.session.history
        entries = await anyio.to_thread.run_sync(
            lambda: recorder.entries(
                last=last,
                tool=params.get("tool"),
                session=params.get("session"),
                caller=params.get("caller"),
            )
        )
        return json_response([e.as_dict() for e in entries])

    async def openapi(request: Request) -> Response:
        if "openapi" not in state._documents:  # the contract does not change while serving
            state._documents["openapi"] = json.dumps(openapi_document(state.schema)).encode()
        return Response(state._documents["openapi"], media_type="application/json")

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/tools", guarded(tools), methods=["GET"]),
        Route("/schema", guarded(schema), methods=["GET"]),
        Route("/tools/{name}/call", guarded(call_tool), methods=["POST"]),
        Route("/run", guarded(run), methods=["POST"]),
        Route("/history", guarded(history), methods=["GET"]),
        Route("/openapi.json", guarded(openapi), methods=["GET"]),
        _console(state),
    ]
    routes += _approval_routes(state, guarded, json_response)

    async def no_route(request: Request, exc: Exception) -> Response:
        """Starlette's own answers (no such route, a method the route does not take) as
        JSON, like every other answer."""
        from starlette.exceptions import HTTPException

        status = exc.status_code if isinstance(exc, HTTPException) else 500
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
        if status == 404:
            message = f"no route {request.url.path}: see GET /openapi.json for this API's routes"
        elif status == 405:
            allowed = (headers or {}).get("allow", "")
            message = f"{request.url.path} does not take {request.method} (allowed: {allowed})"
        else:
            message = str(getattr(exc, "detail", "")) or "the request failed"
        return json_response({"error": {"message": message}}, status, headers=headers)

    app = Starlette(routes=routes, exception_handlers={404: no_route, 405: no_route})
    _guard(app, state)
    return app


def _one_verifier(state: ServeState) -> None:
    """The one verifier every request and the console's sign-in ask: the one the server
    was started with, else one from config.yaml's ``inbound:`` and the bare ``token`` the
    state was made with (caller "token"), as ``appctl serve`` makes it."""
    from appctl.serve.inbound.verify import Verifier

    if state.verifier is not None:
        return
    session = state.session
    extra = {"token": state.token} if state.token is not None else {}
    if extra or session.config.inbound.configured:
        state.verifier = Verifier(session.config.inbound, session.environ, extra=extra)


def _guard(app: Starlette, state: ServeState) -> None:
    """Every request through ``InboundAuth`` (``/health`` open to all)."""
    from appctl.contract.auth import wanted_headers
    from appctl.serve.console import is_console_path
    from appctl.serve.inbound.middleware import InboundAuth

    wanted = wanted_headers(state.session.config.auth)
    app.add_middleware(
        InboundAuth,
        verifier=state.verifier,
        wanted=wanted,
        public=("/health",),
        signs_in_itself=is_console_path,  # its cookie sign-in (serve/console/auth.py)
    )


def _approval_routes(state: ServeState, guarded: Any, json_response: Any) -> list[Any]:
    from appctl.serve.approvals import approval_routes

    async def read_body(request: Request) -> Any:
        return await _json_body(state, request)

    config = state.session.config
    return approval_routes(
        state.queue, config, guarded=guarded, reply=json_response, read_body=read_body
    )


def _console(state: ServeState) -> BaseRoute:
    """The operator console under ``/ui`` (``serve/console``: its own sign-in and cookie)."""
    from appctl.serve.console import console_mount

    return console_mount(state)


def run_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The settings a ``/run`` body may give, each checked: a wrong type or a value out of
    range is a 400, never replaced by a default."""
    kinds: dict[str, tuple[type, str]] = {
        "provider": (str, "a provider name"),
        "model": (str, "a model name"),
        "read_only": (bool, "true or false"),
        "dry_run": (bool, "true or false"),
    }
    settings: dict[str, Any] = {}
    for key, (kind, what) in kinds.items():
        if key in body:
            if not isinstance(body[key], kind):
                raise _Refusal(400, f"{key} must be {what}, got {json.dumps(body[key])}")
            settings[key] = body[key]
    if "max_steps" in body:
        steps = body["max_steps"]
        if type(steps) is not int or not 0 < steps <= MAX_STEPS:
            raise _Refusal(
                400,
                f"max_steps must be a whole number from 1 to {MAX_STEPS}, got {json.dumps(steps)}",
            )
        settings["max_steps"] = steps
    return settings


def _arguments(body: Any) -> dict[str, Any]:
    arguments = body.get("arguments", {}) if isinstance(body, dict) else None
    if not isinstance(arguments, dict):
        raise _Refusal(400, 'the body must be {"arguments": {...}} with an object')
    return arguments


def _stopped(name: str) -> dict[str, Any]:
    """The answer to a call still running when the server stopped at its grace limit."""
    message = (
        f"appctl serve stopped before {name} finished (its shutdown grace limit passed); "
        "a call that changes data is recorded as cancelled, and may have reached the "
        "application"
    )
    hint = "Check GET /history (or appctl history) before calling again."
    result = ToolResult.failure(name, ErrorCategory.SERVER, message, hint)
    return result.model_dump(mode="json", exclude_none=True)


def _session(given: str | None) -> str:
    """A caller's session id as the history keeps it: at most 64 of [A-Za-z0-9._:-]."""
    if not given:
        return ""
    return SESSION_CHARS.sub("", given)[:64]


async def _json_body(state: ServeState, request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > state.max_body:
        raise _Refusal(413, f"the body is over {state.max_body:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > state.max_body:
            raise _Refusal(413, f"the body is over {state.max_body:,} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:  # not UTF-8 (a UnicodeDecodeError) or not JSON
        raise _Refusal(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise _Refusal(
            400, f"the body is nested too deeply (arguments may nest {MAX_DEPTH} levels)"
        ) from None


def _render(schema: Contract, fmt: str) -> bytes:
    from appctl.contract.io import dump_json
    from appctl.generate.formats import render
    from appctl.generate.toolspec import build_tool_specs

    return dump_json(render(fmt, build_tool_specs(schema)).document)
