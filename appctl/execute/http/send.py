"""The HTTP edge: send a prepared ``Request`` and turn the answer into a result.

One set of pooled connections per process (``execute.transport``, on httpcore). One total
deadline per call (the call's timeout, else ``DEFAULT_TIMEOUT``) bounds connecting, sending,
every read of headers and body, retries and their waits; a connect timeout per attempt
besides. Redirects of GET and HEAD followed only within the request's origin (any other is
reported, not followed); bounded retries with backoff and jitter for idempotent methods
only, on connection errors, 429 and 502/503/504, honouring Retry-After while the deadline
allows; a cap on the (decoded) response size.
"""

from __future__ import annotations

import codecs
import json
import random
import time
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from appctl import __version__
from appctl.execute.http.bodies import json_text
from appctl.execute.http.paging import kept_headers
from appctl.execute.http.request import Request
from appctl.execute.http.transport import (
    Answer,
    Timeouts,
    Transport,
    TransportFailure,
    TransportRefused,
    TransportTimeout,
)
from appctl.execute.result import ErrorCategory, ToolResult

MAX_RETRIES = 2
MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
MAX_RETRY_AFTER = 10.0
RETRY_STATUSES = frozenset((429, 502, 503, 504))
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
DEFAULT_TIMEOUT = 30.0  # seconds for a whole call (all attempts) without a timeout of its own
CONNECT_TIMEOUT = 10.0  # seconds per attempt to connect, within the deadline
DEADLINE_SLACK = 0.05  # a socket timeout may fire this much before the clock says so
USER_AGENT = f"appctl/{__version__}"
STATUS_CATEGORIES = {
    401: ErrorCategory.AUTH,
    403: ErrorCategory.PERMISSION,
    404: ErrorCategory.NOT_FOUND,
    410: ErrorCategory.NOT_FOUND,
    409: ErrorCategory.CONFLICT,
    412: ErrorCategory.CONFLICT,
    429: ErrorCategory.RATE_LIMITED,
    408: ErrorCategory.TIMEOUT,
    # the route does not take this method, body or content type: the contract's problem, not
    # the arguments' (a model told to "fix the arguments" would retry for nothing)
    405: ErrorCategory.UNSUPPORTED,
    406: ErrorCategory.UNSUPPORTED,
    415: ErrorCategory.UNSUPPORTED,
    501: ErrorCategory.UNSUPPORTED,
}

_transport: Transport | None = None


def shared_transport() -> Transport:
    """The process's connection pools (kept alive between calls)."""
    global _transport
    if _transport is None:
        _transport = Transport()
    return _transport


def _delay(attempt: int, answer: Answer | None) -> float:
    after = answer.headers.get("retry-after") if answer is not None else None
    if after is not None and after.strip().isdigit():
        return min(float(after), MAX_RETRY_AFTER)
    backoff: float = min(0.25 * 2**attempt, 2.0)
    return backoff * (0.5 + random.random() / 2)


def _same_origin(a: str, b: str) -> bool:
    return (urlsplit(a).scheme, urlsplit(a).netloc) == (urlsplit(b).scheme, urlsplit(b).netloc)


def wire_request(request: Request) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
    """The request's headers and body as bytes, encoded as httpx would: JSON compact UTF-8,
    forms urlencoded, multipart through httpx's encoder. The request's headers replace the
    defaults (Accept, User-Agent); a JSON, form or multipart body sets its own Content-Type."""
    body: bytes | None = None
    kind: str | None = None
    if request.files is not None:
        import httpx  # only multipart needs its encoder

        data: dict[str, list[str]] = {}
        for key, value in request.form or []:
            data.setdefault(key, []).append(value)
        encoded = httpx.Request("POST", "http://multipart.invalid/", data=data, files=request.files)
        body, kind = encoded.read(), encoded.headers["Content-Type"]
    elif request.form is not None:
        body, kind = urlencode(request.form).encode("ascii"), "application/x-www-form-urlencoded"
    elif request.json_body is not None:
        body = json_text(request.json_body).encode("utf-8")
        declared = {k.lower(): v for k, v in request.headers.items()}.get("content-type", "")
        kind = None if "json" in declared.lower() else "application/json"
    elif request.content is not None:
        body = request.content
    merged = {"accept": ("Accept", "*/*"), "user-agent": ("User-Agent", USER_AGENT)}
    for name, value in request.headers.items():
        merged[name.lower()] = (name, value)
    if kind is not None:
        merged["content-type"] = ("Content-Type", kind)
    if request.cookies:
        given = request.cookies
        items = given.items() if isinstance(given, dict) else given
        jar = "; ".join(f"{k}={v}" for k, v in items)
        header = merged.get("cookie")
        merged["cookie"] = ("Cookie", f"{header[1]}; {jar}" if header else jar)
    headers = [(k.encode("ascii"), v.encode("utf-8")) for k, v in merged.values()]
    return headers, body


def _once(transport: Transport, request: Request, timeouts: Timeouts, deadline: float) -> Answer:
    """One exchange, following same-origin redirects of GET and HEAD."""
    headers, body = wire_request(request)
    url = request.full_url()
    for _ in range(MAX_REDIRECTS + 1):
        answer = transport.exchange(
            request.method, url, headers, body, timeouts, MAX_RESPONSE_BYTES, deadline
        )
        location = answer.headers.get("location")
        if answer.status in REDIRECT_STATUSES and location and request.method in ("GET", "HEAD"):
            target = urljoin(url, location)
            if _same_origin(target, request.url):
                url = target
                continue
        return answer
    raise _RedirectLoop(f"more than {MAX_REDIRECTS} redirects, the last to {url}: not followed")


class _RedirectLoop(Exception):
    pass


def send(
    tool: str,
    request: Request,
    *,
    idempotent: bool,
    transport: Transport | None = None,
    timeout: float | None = None,
    documented: frozenset[str] = frozenset(),
) -> ToolResult:
    """Send with retries, all within ``timeout`` seconds (default ``DEFAULT_TIMEOUT``);
    ``documented``: response headers the operation documents, passed on besides the usual."""
    transport = transport or shared_transport()
    total = timeout or DEFAULT_TIMEOUT
    deadline = time.monotonic() + total
    attempt = 0
    while True:
        answer: Answer | None = None
        left = deadline - time.monotonic()
        timeouts = Timeouts(connect=min(CONNECT_TIMEOUT, left), read=left)
        try:
            answer = _once(transport, request, timeouts, deadline)
            result = to_result(tool, answer, request.url, documented)
            retryable = answer.status in RETRY_STATUSES
        except TransportTimeout as exc:
            result = _timed_out(tool, exc, total, deadline)
            retryable = True
        except TransportRefused as exc:  # nothing to retry: the request itself is at fault
            return ToolResult.failure(tool, ErrorCategory.VALIDATION, str(exc))
        except _RedirectLoop as exc:
            return ToolResult.failure(tool, ErrorCategory.REDIRECT, str(exc))
        except TransportFailure as exc:
            result = ToolResult.failure(tool, ErrorCategory.NETWORK, str(exc))
            retryable = True
        if not (retryable and idempotent and attempt < MAX_RETRIES):
            return result
        delay = _delay(attempt, answer)
        if time.monotonic() + delay >= deadline:  # no time for the wait and another attempt
            note = f"not retried: the wait ({delay:.1f} s) would pass the {total:g} s deadline"
            return result.model_copy(update={"notes": [*result.notes, note]})
        time.sleep(delay)
        attempt += 1


def _timed_out(tool: str, exc: TransportTimeout, total: float, deadline: float) -> ToolResult:
    if time.monotonic() >= deadline - DEADLINE_SLACK:
        message = (
            f"the call did not complete within its deadline of {total:g} s (total time: "
            "connecting, sending, reading the answer and any retries)"
        )
    else:
        message = f"timed out: {exc}"
    return ToolResult.failure(tool, ErrorCategory.TIMEOUT, message)


def _data(answer: Answer) -> Any:
    kind, body, truncated = answer.content_type, answer.body, answer.truncated
    if not body:
        return None
    if ("json" in kind or not kind) and not truncated:
        try:
            return json.loads(body)
        except ValueError:
            pass
    if kind.startswith("text/") or "json" in kind or "xml" in kind or not kind:
        text = body.decode(_codec(answer.charset), "replace")
        note = f" [cut at {MAX_RESPONSE_BYTES:,} bytes]" if truncated else ""
        return text + note
    return binary_summary(answer)


def is_binary(answer: Answer) -> bool:
    """Whether an answer's body is bytes rather than text or JSON (``_data``'s last case)."""
    kind = answer.content_type
    textual = not kind or kind.startswith("text/") or "json" in kind or "xml" in kind
    return bool(answer.body) and not textual


def binary_summary(answer: Answer) -> dict[str, Any]:
    """What a model is told of a binary body: its type, size and digest, never its bytes
    (they travel beside the result, ``ToolResult.payload``, for a front end to save)."""
    import hashlib

    body = answer.body
    summary: dict[str, Any] = {
        "content_type": answer.content_type,
        "bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "note": "binary content not shown",
    }
    if answer.truncated:
        summary["note"] += f"; only its first {MAX_RESPONSE_BYTES:,} bytes were read"
    return summary


def _codec(charset: str) -> str:
    try:
        return codecs.lookup(charset).name
    except LookupError:  # a charset Python does not know: read it as UTF-8
        return "utf-8"


def to_result(
    tool: str, answer: Answer, origin: str | None = None, documented: frozenset[str] = frozenset()
) -> ToolResult:
    """The result of a final answer; ``origin`` is the URL the call was made to (to say why
    a redirect was not followed)."""
    result = _answer_result(tool, answer, origin)
    headers = kept_headers(answer.headers, documented)
    return result.model_copy(update={"headers": headers}) if headers else result


def _answer_result(tool: str, answer: Answer, origin: str | None) -> ToolResult:
    status = answer.status
    data = _data(answer)
    if 200 <= status < 300:
        result = ToolResult(ok=True, tool=tool, status=status, data=data)
        return result.with_payload(answer.body) if is_binary(answer) else result
    if status == 304:
        note = (
            "304 Not Modified: the resource has not changed since the version the request's "
            "If-None-Match / If-Modified-Since named; the server sent no new copy"
        )
        return ToolResult(ok=True, tool=tool, status=status, data=data, notes=[note])
    detail = data if isinstance(data, str) else json.dumps(data)[:500] if data else ""
    category = STATUS_CATEGORIES.get(status)
    if 300 <= status < 400:
        category, detail = ErrorCategory.REDIRECT, _unfollowed(answer, origin or answer.url)
    elif category is None:  # (a 1xx never gets here: h11 skips it, or it is a protocol error)
        category = ErrorCategory.VALIDATION if 400 <= status < 500 else ErrorCategory.SERVER
    result = ToolResult.failure(tool, category, f"HTTP {status}: {detail}".strip(), status=status)
    return result.model_copy(update={"data": data})


def _unfollowed(answer: Answer, origin: str) -> str:
    """Why a 3xx answer was not followed, and where it pointed."""
    location = answer.headers.get("location")
    if not location:
        return "a redirect with no Location to follow"
    target = urljoin(answer.url, location)
    if not _same_origin(target, origin):
        return (
            f"redirected to {target}, which was not followed: it is on another origin "
            "than the API (credentials are only sent to the API's own)"
        )
    if answer.status not in REDIRECT_STATUSES:
        return f"points to {target}; appctl does not follow status {answer.status}"
    return (
        f"redirected to {target}, which was not followed: only GET and HEAD are sent again "
        "(a change must not be sent twice)"
    )
