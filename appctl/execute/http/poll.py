"""A long-running operation followed to its end: the first answer → the final result.

Given the answer to a call whose action has ``long_running`` facts (``contract/longrunning.py``),
``follow`` finds the status URL (the documented headers, in order; else the operation route
filled from the answer's body), polls it with GET, and returns the final resource (read where
``final_state_via`` says), a failure whose category comes from the operation's own error, or,
when the total wait is spent, a ``timeout`` result whose ``operation`` carries a sealed
handle that ``appctl_poll`` takes to keep waiting (``resume``).

What polls may do: GET only, only on the origin of the original request (a status URL on
another origin is reported, never followed: credentials go to the API's own origin only),
never the original write again. Between polls: the answer's ``Retry-After`` (seconds or an
HTTP date), else exponential backoff with jitter; every wait and every request within the
total ``wait``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from appctl.contract.longrunning import FinalVia, LongRunning
from appctl.execute.http.lroerrors import failed
from appctl.execute.http.request import Request
from appctl.execute.http.send import send
from appctl.execute.http.transport import Answer, Transport
from appctl.execute.result import ErrorCategory, ToolResult

FIRST_DELAY = 0.5  # seconds before the first poll when the answer names no Retry-After
MAX_DELAY = 8.0  # backoff stops growing here
MAX_RETRY_AFTER = 60.0  # a longer Retry-After is cut to this (and to the wait left)
MIN_POLL_TIMEOUT = 0.2  # no poll is started with less of the wait left
# a poll answered so (or not at all: network, timeout) is tried again while the wait lasts
TRANSIENT = frozenset((429, 502, 503, 504))
# where Azure's result is when final-state-via is not said (none after a DELETE)
AZURE_FINAL: dict[str, FinalVia] = {
    "PUT": "original-uri",
    "PATCH": "original-uri",
    "POST": "location",
}
MONITOR_HEADERS = ("operation-location", "azure-asyncoperation")  # a status monitor to read


@dataclass(frozen=True, slots=True)
class Polling:
    """What polling needs besides the operation: ``credentials`` is a GET request carrying
    only the action's credentials; its URL is the action's base URL (routes are under it,
    and polls stay on its origin)."""

    tool: str
    spec: LongRunning
    credentials: Request
    transport: Transport | None
    timeout: float  # seconds per poll request at most
    wait: float  # seconds of polling in all
    seal: Callable[[Mapping[str, Any]], str]  # state → handle
    progress: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """A running operation, as a handle holds it."""

    tool: str
    status_url: str
    final_url: str | None = None  # where the result is read once done (final-state-via)
    method: str = "POST"  # of the original request

    def state(self) -> dict[str, Any]:
        out = {"tool": self.tool, "status": self.status_url, "method": self.method}
        return {**out, "final": self.final_url} if self.final_url else out

    @classmethod
    def of(cls, state: Mapping[str, Any]) -> Operation | None:
        tool, status = state.get("tool"), state.get("status")
        final, method = state.get("final"), state.get("method", "POST")
        if not (isinstance(tool, str) and isinstance(status, str) and isinstance(method, str)):
            return None
        return cls(tool, status, final if isinstance(final, str) else None, method)


class Recording(Transport):
    """A transport that keeps the last answer it read (send() returns only the result)."""

    def __init__(self, inner: Transport | None) -> None:
        from appctl.execute.http.send import shared_transport

        self.inner = inner or shared_transport()
        self.last: Answer | None = None

    def exchange(self, *args: Any, **kwargs: Any) -> Answer:
        self.last = self.inner.exchange(*args, **kwargs)
        return self.last


def send_and_follow(
    request: Request, *, idempotent: bool, timeout: float | None, polling: Polling
) -> ToolResult:
    """Send the original request once, then follow the operation it started."""
    recording = Recording(polling.transport)
    first = send(polling.tool, request, idempotent=idempotent, transport=recording, timeout=timeout)
    if not first.ok or recording.last is None:
        return first
    return follow(first, recording.last, request, polling)


def follow(first: ToolResult, answer: Answer, request: Request, polling: Polling) -> ToolResult:
    """The final result of the operation ``first`` (the original answer) started."""
    spec = polling.spec
    verdict = judge(spec, first, answer)
    if verdict is not None and verdict[0] != "running":
        operation = Operation(polling.tool, request.url, _final_url(spec, answer, request))
        return _finish(verdict, first, operation, polling, polls=0, waited=0.0)
    monitored = any(h in answer.headers for h in MONITOR_HEADERS)
    if verdict is None and answer.status != 202 and not monitored:
        return first  # done at once (a 201 with a Location is the resource made, not a job)
    url = status_url(spec, answer, first.data, polling.credentials.url, started=_own_url(request))
    if url is None:
        note = "the operation was accepted, but the answer says nowhere to follow its status"
        return _with(first, {"state": "accepted"}, note)
    if not same_origin(url, polling.credentials.url):
        note = (
            f"the operation's status URL {url} is on another origin than the API and was not "
            "followed (credentials go only to the API's own origin); check it there"
        )
        shown = polling.credentials.redactor.text(url)
        return _with(first, {"state": "not_followed", "status_url": shown}, note)
    operation = Operation(polling.tool, url, _final_url(spec, answer, request), request.method)
    return run(operation, polling, first_delay=retry_after(answer), last=first)


def resume(operation: Operation, polling: Polling) -> ToolResult:
    """Keep waiting on an operation a handle named (``appctl_poll``)."""
    if not same_origin(operation.status_url, polling.credentials.url):
        message = f"the operation's status URL {operation.status_url} is not on the API's origin"
        return ToolResult.failure(polling.tool, ErrorCategory.VALIDATION, message)
    return run(operation, polling, first_delay=0.0, last=None, resumed=True)


def run(
    operation: Operation,
    polling: Polling,
    *,
    first_delay: float | None,
    last: ToolResult | None,
    resumed: bool = False,
) -> ToolResult:
    """Poll until the operation ends or the wait is spent; ``resumed``: read the status
    once at once, whatever the wait (the caller asked for it)."""
    started = time.monotonic()
    deadline = started + polling.wait
    delay = FIRST_DELAY if first_delay is None else first_delay
    polls, said = 0, "running"
    while True:
        left = deadline - time.monotonic()
        at_once = resumed and polls == 0
        if not at_once and (delay >= left or left < MIN_POLL_TIMEOUT):
            return _timed_out(operation, polling, polls, time.monotonic() - started, said, last)
        time.sleep(delay)
        until = time.monotonic() + polling.timeout if at_once else deadline
        result, answer = _poll(operation.status_url, polling, until)
        polls += 1
        waited = time.monotonic() - started
        if not result.ok and answer is not None and result.status not in TRANSIENT:
            return _with(result, {"state": "unknown", "polls": polls}, _lost(operation))
        verdict = judge(polling.spec, result, answer) if answer and result.ok else None
        if verdict is None and result.ok:  # a plain answer at the status URL: the result
            verdict = "succeeded", result.data
        if verdict is not None and verdict[0] != "running":
            return _finish(verdict, result, operation, polling, polls=polls, waited=waited)
        said = verdict[1] if verdict is not None else _unanswered(result)
        last = result if result.ok else last
        if polling.progress is not None:
            polling.progress(f"{polling.tool}: {said} (poll {polls}, {waited:.0f} s)")
        after = retry_after(answer)
        delay = after if after is not None else _backoff(polls)


def _poll(url: str, polling: Polling, deadline: float) -> tuple[ToolResult, Answer | None]:
    recording = Recording(polling.transport)
    timeout = max(MIN_POLL_TIMEOUT, min(polling.timeout, deadline - time.monotonic()))
    request = replace(polling.credentials, method="GET", url=url)
    result = send(polling.tool, request, idempotent=True, transport=recording, timeout=timeout)
    return result, recording.last


def judge(spec: LongRunning, result: ToolResult, answer: Answer) -> tuple[str, Any] | None:
    """("running", what it says) | ("succeeded", body) | ("failed", body), or None when the
    answer says nothing about an operation."""
    body = result.data
    if spec.done_field is not None and isinstance(body, dict) and spec.done_field in body:
        if body.get(spec.done_field) is not True:
            return "running", _said(body) or "running"
        if spec.error_field and body.get(spec.error_field):
            return "failed", body
        return "succeeded", body
    status = body.get(spec.status_field) if isinstance(body, dict) and spec.status_field else None
    if isinstance(status, str):
        if status.lower() in {v.lower() for v in spec.done_values}:
            return "succeeded", body
        if status.lower() in {v.lower() for v in spec.failed_values}:
            return "failed", body
        return "running", status
    if answer.status == 202:
        return "running", "accepted"
    return None


def _said(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata")
    found = meta.get("state") or meta.get("status") if isinstance(meta, dict) else None
    return found if isinstance(found, str) else ""


def _finish(
    verdict: tuple[str, Any],
    result: ToolResult,
    operation: Operation,
    polling: Polling,
    *,
    polls: int,
    waited: float,
) -> ToolResult:
    state, body = verdict
    info = {"state": state, "polls": polls, "waited": round(waited, 1)}
    if state == "failed":
        failure = failed(polling.tool, polling.spec, body, result.status)
        return failure.model_copy(update={"data": body, "operation": info})
    if polling.progress is not None and polls:
        polling.progress(f"{polling.tool}: {state} (poll {polls}, {waited:.0f} s)")
    final = _final(polling, operation, result, body)
    note = f"long-running operation followed to its end: {polls} poll(s) in {waited:.1f} s"
    return _with(final, info, note if polls else "")


def _final(polling: Polling, operation: Operation, result: ToolResult, body: Any) -> ToolResult:
    """The final resource: the operation's ``result_field``, the resource at ``final_url``,
    or the last answer."""
    spec = polling.spec
    if spec.result_field and isinstance(body, dict) and spec.result_field in body:
        return result.model_copy(update={"data": body[spec.result_field]})
    if operation.final_url is None or operation.final_url == operation.status_url:
        return result
    if not same_origin(operation.final_url, polling.credentials.url):
        note = f"the result is at {operation.final_url}, on another origin: not read"
        return _with(result, None, note)
    deadline = time.monotonic() + max(polling.timeout, MIN_POLL_TIMEOUT)
    return _poll(operation.final_url, polling, deadline)[0]


def _final_url(spec: LongRunning, answer: Answer, request: Request) -> str | None:
    """Where the result is read once the operation is done (final-state-via; for Azure's
    default, the original URL of a PUT or PATCH, the Location of a POST, nothing after a
    DELETE)."""
    via = spec.final_state_via
    if via is None and spec.pattern == "azure":
        via = AZURE_FINAL.get(request.method)
    if via == "original-uri":
        return _own_url(request)
    if via == "location" and answer.headers.get("location"):
        return urljoin(answer.url, answer.headers["location"])
    return None


def _own_url(request: Request) -> str:
    """The URL a request was sent to with its arguments' query (Azure's ``api-version``),
    without credentials (polls add their own)."""
    return f"{request.url}?{'&'.join(request.query)}" if request.query else request.url


def status_url(
    spec: LongRunning, answer: Answer, body: Any, base: str, *, started: str
) -> str | None:
    """The status URL: the first documented header the answer has, else the operation
    route filled from the body's ``id_field`` under the base URL, else (a route without an
    id) the URL the operation was ``started`` at."""
    for name in spec.status_headers:
        value = answer.headers.get(name)
        if value:
            return urljoin(answer.url, value.strip())
    if spec.operation_path and spec.id_field is None:
        return started
    if spec.operation_path and spec.id_field and isinstance(body, dict):
        found = body.get(spec.id_field)
        if isinstance(found, str | int) and str(found):
            return _route_url(spec.operation_path, str(found), base)
    return None


def _route_url(template: str, value: str, base: str) -> str:
    """``template``'s one placeholder filled with ``value``, under the base URL: a whole
    name (``operations/1``) fills a ``{name}`` as it is (each segment escaped); under an
    ``…/operations/{id}`` route its ``operations/`` prefix is dropped."""
    head, _, rest = template.partition("{")
    tail = rest.partition("}")[2]
    if head.endswith("/operations/") and value.startswith("operations/"):
        value = value[len("operations/") :]
    filled = "/".join(quote(part, safe="") for part in value.split("/") if part not in ("", ".."))
    return base.rstrip("/") + head + filled + tail


def retry_after(answer: Answer | None) -> float | None:
    """Seconds the answer asks to wait (Retry-After: seconds or an HTTP date), or None."""
    text = answer.headers.get("retry-after", "").strip() if answer is not None else ""
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _backoff(polls: int) -> float:
    base: float = min(FIRST_DELAY * 2**polls, MAX_DELAY)
    return base * (0.5 + random.random() / 2)


def same_origin(a: str, b: str) -> bool:
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme.lower(), x.netloc.lower()) == (y.scheme.lower(), y.netloc.lower())


def _timed_out(
    operation: Operation,
    polling: Polling,
    polls: int,
    waited: float,
    said: str,
    last: ToolResult | None,
) -> ToolResult:
    handle = polling.seal(operation.state())
    message = (
        f"{polling.tool}'s operation was still {said} after {polls} poll(s) in {waited:.1f} s "
        f"(its wait is {polling.wait:g} s)"
    )
    hint = (
        f'To keep waiting, call appctl_poll with {{"operation": "{handle}"}}; the original '
        "request is not sent again (calling the tool again would start the work again)."
    )
    result = ToolResult.failure(polling.tool, ErrorCategory.TIMEOUT, message)
    assert result.error is not None  # the usual hint ("narrow it") does not apply here
    result.error.suggestions = [hint]
    info = {"state": "running", "status": said, "polls": polls, "handle": handle}
    data = last.data if last is not None else None
    return result.model_copy(update={"operation": info, "data": data, "status": None})


def _unanswered(result: ToolResult) -> str:
    """What a poll that failed for now says (tried again while the wait lasts)."""
    if result.status is not None:
        return f"unknown (the status answered HTTP {result.status})"
    category = result.error.category.value if result.error else "no answer"
    return f"unknown (the status could not be read: {category})"


def _lost(operation: Operation) -> str:
    return (
        f"polling {operation.status_url} failed, so the operation's outcome is unknown; "
        "it may still be running or have ended (the original request is not sent again)"
    )


def _with(result: ToolResult, operation: dict[str, Any] | None, note: str) -> ToolResult:
    update: dict[str, Any] = {}
    if operation is not None:
        update["operation"] = {**(result.operation or {}), **operation}
    if note:
        update["notes"] = [*result.notes, note]
    return result.model_copy(update=update) if update else result
