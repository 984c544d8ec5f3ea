"""The HTTP edge: send a prepared ``Request`` with httpx and turn the answer into a result.

One client per process (connection reuse). Timeouts on connect and read; redirects followed
only within the request's origin; bounded retries with backoff and jitter for idempotent
methods only, on connection errors, 429 and 502/503/504, honouring Retry-After; a cap on the
response size.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from appctl.execute.request import Request
from appctl.execute.result import ErrorCategory, ToolResult

MAX_RETRIES = 2
MAX_REDIRECTS = 5
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
MAX_RETRY_AFTER = 10.0
RETRY_STATUSES = frozenset((429, 502, 503, 504))
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
TOTAL_TIMEOUT = 90.0  # all attempts of one call together
STATUS_CATEGORIES = {
    401: ErrorCategory.AUTH,
    403: ErrorCategory.PERMISSION,
    404: ErrorCategory.NOT_FOUND,
    410: ErrorCategory.NOT_FOUND,
    409: ErrorCategory.CONFLICT,
    412: ErrorCategory.CONFLICT,
    429: ErrorCategory.RATE_LIMITED,
    408: ErrorCategory.TIMEOUT,
}

_client: httpx.Client | None = None


def shared_client() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    return _client


def _delay(attempt: int, response: httpx.Response | None) -> float:
    after = response.headers.get("Retry-After") if response is not None else None
    if after is not None and after.strip().isdigit():
        return min(float(after), MAX_RETRY_AFTER)
    backoff: float = min(0.25 * 2**attempt, 2.0)
    return backoff * (0.5 + random.random() / 2)


def _same_origin(a: str, b: str) -> bool:
    return (urlsplit(a).scheme, urlsplit(a).netloc) == (urlsplit(b).scheme, urlsplit(b).netloc)


def _once(
    client: httpx.Client, request: Request, url: str, timeout: httpx.Timeout
) -> tuple[httpx.Response, bytes]:
    """One exchange, following same-origin redirects; the body read up to the size cap."""
    body_args = _body_args(request)
    headers = {**request.headers, **body_args.pop("headers", {})}
    for _ in range(MAX_REDIRECTS + 1):
        params = httpx.QueryParams(urlencode(request.params)) if url == request.url else None
        with client.stream(
            request.method,
            url,
            params=params,
            headers=headers,
            cookies=request.cookies,
            timeout=timeout,
            **body_args,
        ) as response:
            location = response.headers.get("Location")
            if response.is_redirect and location and request.method in ("GET", "HEAD"):
                target = urljoin(str(response.url), location)
                if _same_origin(target, request.url):
                    url = target
                    continue
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    break
            return response, bytes(body)
    raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")


def _body_args(request: Request) -> dict[str, Any]:
    if request.files is not None:
        data: dict[str, list[str]] = {}
        for key, value in request.form or []:
            data.setdefault(key, []).append(value)
        return {"data": data, "files": request.files}
    if request.form is not None:
        return {
            "content": urlencode(request.form).encode("ascii"),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        }
    if request.json_body is not None:
        return {"json": request.json_body}
    if request.content is not None:
        return {"content": request.content}
    return {}


def send(
    tool: str,
    request: Request,
    *,
    idempotent: bool,
    client: httpx.Client | None = None,
    timeout: float | None = None,
) -> ToolResult:
    client = client or shared_client()
    limits = httpx.Timeout(timeout, connect=min(timeout, 10.0)) if timeout else TIMEOUT
    deadline = time.monotonic() + TOTAL_TIMEOUT  # retries never run past this
    attempt = 0
    while True:
        response: httpx.Response | None = None
        try:
            response, body = _once(client, request, request.url, limits)
            result = to_result(tool, response, body)
            retryable = response.status_code in RETRY_STATUSES
        except httpx.TimeoutException as exc:
            result = ToolResult.failure(tool, ErrorCategory.TIMEOUT, f"timed out: {exc}")
            retryable = True
        except httpx.TransportError as exc:
            message = f"{type(exc).__name__}: {exc}"
            result = ToolResult.failure(tool, ErrorCategory.NETWORK, message)
            retryable = True
        if not (retryable and idempotent and attempt < MAX_RETRIES):
            return result
        delay = _delay(attempt, response)
        if time.monotonic() + delay >= deadline:
            return result
        time.sleep(delay)
        attempt += 1


def _data(response: httpx.Response, body: bytes) -> Any:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    truncated = len(body) > MAX_RESPONSE_BYTES
    if truncated:
        body = body[:MAX_RESPONSE_BYTES]
    if not body:
        return None
    if ("json" in kind or not kind) and not truncated:
        try:
            return json.loads(body)
        except ValueError:
            pass
    if kind.startswith("text/") or "json" in kind or "xml" in kind or not kind:
        text = body.decode(response.encoding or "utf-8", "replace")
        note = f" [cut at {MAX_RESPONSE_BYTES:,} bytes]" if truncated else ""
        return text + note
    return {"content_type": kind, "bytes": len(body), "note": "binary content not shown"}


def to_result(tool: str, response: httpx.Response, body: bytes) -> ToolResult:
    status = response.status_code
    data = _data(response, body)
    if 200 <= status < 300:
        return ToolResult(ok=True, tool=tool, status=status, data=data)
    category = STATUS_CATEGORIES.get(status)
    if category is None:
        category = ErrorCategory.SERVER if status >= 500 else ErrorCategory.VALIDATION
    detail = data if isinstance(data, str) else json.dumps(data)[:500] if data else ""
    result = ToolResult.failure(tool, category, f"HTTP {status}: {detail}".strip(), status=status)
    return result.model_copy(update={"data": data})
