"""A scripted fake LLM server speaking the real wire protocols of OpenAI chat completions,
Anthropic messages and Gemini ``generateContent``, so that the official SDK clients run
against it unchanged.

One :class:`FakeLLM` serves all three protocols on ``127.0.0.1`` (dispatch by path); each
request consumes the next :class:`Step` of the script (or asks a callable), and is recorded
as a :class:`Seen`::

    with FakeLLM([Step(tool_calls=[ToolCallStep("get", {"id": 1})]), Step(text="done")]) as llm:
        client = openai.OpenAI(base_url=llm.base_url("openai"), api_key="test-key")
        ...
        assert llm.requests[1].body["messages"][-1]["role"] == "tool"

Streaming answers are real SSE in each provider's format (chunked transfer encoding, text
and tool-call arguments split over several deltas). ``Step(broken=...)`` answers 200 and then
fails the way real servers do: ``silent`` (a stream with no event at all, what
llama-cpp-python's server sends when it fails after its 200; not streamed: no choices, no
content, no candidates), ``truncated`` (the events up to, not including, the finish marker:
OpenAI's ``finish_reason`` chunk, usage and ``[DONE]``; Anthropic's ``message_delta`` and
``message_stop``; Gemini's ``finishReason``; the stream then ends cleanly) and ``dropped``
(the same events, then the connection is closed mid-body). Error steps answer the provider's own
error JSON; an exhausted script or a failing callable answers 500 with ``x-should-retry:
false`` so that the OpenAI and Anthropic SDKs do not retry it.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import re
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

KINDS = ("openai", "anthropic", "gemini")
AZURE_PATH = re.compile(r"^/openai/deployments/[^/]+/chat/completions$")
GEMINI_PATH = re.compile(
    r"^/(v1|v1beta|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)$"
)
FRAGMENTS = 3  # text and tool arguments are split into about this many stream deltas
BROKEN = ("", "silent", "truncated", "dropped")


@dataclass
class ToolCallStep:
    name: str
    arguments: dict[str, Any]
    id: str | None = None  # auto: "call_<n>" (OpenAI), "toolu_<n>" (Anthropic); Gemini: none


@dataclass
class Step:
    text: str = ""
    tool_calls: list[ToolCallStep] = field(default_factory=list)
    input_tokens: int = 11
    output_tokens: int = 7
    status: int = 200  # non-200: answer this HTTP error instead (the step is consumed)
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    delay: float = 0.0  # seconds to sleep before answering
    broken: str = ""  # "" | silent | truncated | dropped: see the module docstring


@dataclass
class Seen:
    kind: str  # "openai" | "anthropic" | "gemini"
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased keys
    body: Any  # parsed JSON (the raw text when it is not JSON, None when empty)
    stream: bool

    @property
    def model(self) -> str:
        """The model asked for: from the body (OpenAI, Anthropic) or the path (Gemini)."""
        if self.kind == "gemini":
            match = GEMINI_PATH.match(self.path)
            return match.group(2) if match else ""
        return str(self.body.get("model", "")) if isinstance(self.body, dict) else ""


Script = list[Step] | Callable[[Seen], Step]


class _Scripted(Exception):
    """Answer this HTTP error (script ran out, the callable failed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _split(text: str, parts: int = FRAGMENTS) -> list[str]:
    """``text`` in ``parts`` (or fewer, never empty) consecutive pieces."""
    if not text:
        return []
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- error bodies -------------------------------------------------------------------------

_OPENAI_ERRORS = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "permission_denied"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_body(kind: str, status: int, message: str) -> dict[str, Any]:
    """The provider's own error JSON for an HTTP ``status``."""
    if kind == "openai":
        kind_type, code = _OPENAI_ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )
        return {"error": {"message": message, "type": kind_type, "param": None, "code": code}}
    if kind == "anthropic":
        kind_type = _ANTHROPIC_ERRORS.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return {
            "type": "error",
            "error": {"type": kind_type, "message": message},
            "request_id": f"req_fake{uuid.uuid4().hex[:16]}",
        }
    status_name = _GEMINI_STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": status, "message": message, "status": status_name}}


# --- the server ---------------------------------------------------------------------------


class FakeLLM:
    """Scripted LLM server; a context manager (``__enter__`` starts it, ``__exit__`` stops it)."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._steps: list[Step] = list(script) if isinstance(script, list) else []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Seen] = []
        self.url = ""

    # -- lifecycle --

    def __enter__(self) -> FakeLLM:
        handler = type("FakeLLMHandler", (_Handler,), {"fake": self})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.01,), name="fakellm", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:  # end idle keep-alive connections, so their threads finish
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- public --

    def init_app(self, project: Path, *, force: bool = False) -> None:
        """``appctl init`` in ``project``: an openai profile (model "m") aimed at this
        server, as ``appctl run``/``chat`` and ``serve``'s ``/run`` use it."""
        from tests import runner

        args = [
            "init",
            "--kind",
            "openai",
            "--model",
            "m",
            "--provider-url",
            self.base_url("openai"),
        ]
        runner.invoke(*args, *(["--force"] if force else []), cwd=project)

    def base_url(self, kind: str) -> str:
        """What to pass as the SDK's ``base_url`` for ``kind`` (openai, anthropic, gemini)."""
        if kind == "openai":
            return self.url + "/v1"
        if kind in ("anthropic", "gemini"):
            return self.url
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")

    @property
    def remaining(self) -> int:
        """Steps not yet consumed (always 0 for a callable script)."""
        with self._lock:
            return len(self._steps)

    # -- used by the handler --

    def _next_step(self, seen: Seen) -> Step:
        with self._lock:
            self.requests.append(seen)
            number = len(self.requests)
            if isinstance(self._script, list):
                if not self._steps:
                    raise _Scripted(
                        500,
                        f"fakellm: the script ran out: no step left for request #{number} "
                        f"({seen.method} {seen.path}); the script had {len(self._script)} step(s)",
                    )
                return self._steps.pop(0)
        try:
            step = self._script(seen)
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            raise _Scripted(500, f"fakellm: the script callable failed: {detail}") from exc
        if not isinstance(step, Step):
            raise _Scripted(500, f"fakellm: the script callable returned {step!r}, not a Step")
        return step

    def _tool_id(self, prefix: str, call: ToolCallStep) -> str:
        return call.id if call.id is not None else f"{prefix}{next(self._ids)}"


class _Handler(http.server.BaseHTTPRequestHandler):
    fake: FakeLLM
    protocol_version = "HTTP/1.1"
    server_version = "fakellm/1"
    timeout = 30  # an idle keep-alive connection is dropped after this
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._sockets.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing --

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _send_sse(
        self, events: Iterator[str], headers: dict[str, str], *, end: bool = True
    ) -> None:
        """``events`` (each a complete SSE event, blank line included), chunk by chunk; without
        ``end`` the body is left unfinished and the connection closed (a dropped stream)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        for event in events:
            data = event.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        if not end:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- dispatch --

    def do_GET(self) -> None:
        self._read_body()
        self._send_json(404, {"error": {"message": f"fakellm: no route GET {self.path}"}}, {})

    def do_POST(self) -> None:
        try:
            self._post()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (e.g. its timeout)

    def _post(self) -> None:
        split = urlsplit(self.path)
        path = split.path
        raw = self._read_body()
        gemini = GEMINI_PATH.match(path)
        if path == "/v1/chat/completions" or AZURE_PATH.match(path):
            kind = "openai"  # Azure OpenAI: /openai/deployments/{deployment}/chat/completions
        elif path == "/v1/messages":
            kind = "anthropic"
        elif gemini:
            kind = "gemini"
        else:
            message = f"fakellm: no route POST {path} (serving {', '.join(KINDS)})"
            self._send_json(404, {"error": {"message": message}}, {})
            return
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        if kind == "gemini":
            assert gemini is not None
            stream = gemini.group(3) == "streamGenerateContent"
        else:
            stream = isinstance(body, dict) and body.get("stream") is True
        seen = Seen(
            kind=kind,
            method=self.command,
            path=path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            stream=stream,
        )
        try:
            step = self.fake._next_step(seen)
        except _Scripted as failure:
            self._send_json(
                failure.status,
                error_body(kind, failure.status, failure.message),
                {"x-should-retry": "false"},
            )
            return
        if step.delay and self.fake._stopping.wait(step.delay):
            self.close_connection = True
            return
        if step.status != 200:
            message = f"fakellm: scripted HTTP {step.status}"
            self._send_json(step.status, error_body(kind, step.status, message), step.headers)
            return
        answer = {"openai": _OpenAI, "anthropic": _Anthropic, "gemini": _Gemini}[kind](
            self.fake, seen, step
        )
        headers = answer.headers() | step.headers
        if step.broken not in BROKEN:
            raise ValueError(f"Step.broken is one of {BROKEN}, not {step.broken!r}")
        if stream:
            if step.broken == "silent":
                events: Iterator[str] = iter(())
            else:
                events = answer.events(finish=not step.broken)
            self._send_sse(events, headers, end=step.broken != "dropped")
        elif step.broken:
            self._send_json(200, answer.empty(), headers)
        else:
            self._send_json(200, answer.message(), headers)


# --- the three protocols ------------------------------------------------------------------


class _Answer:
    def __init__(self, fake: FakeLLM, seen: Seen, step: Step) -> None:
        self.fake = fake
        self.seen = seen
        self.step = step
        self.model = seen.model or "fake-model"
        self.created = int(time.time())

    def headers(self) -> dict[str, str]:
        return {}

    def message(self) -> dict[str, Any]:
        raise NotImplementedError

    def empty(self) -> dict[str, Any]:
        """A whole (not streamed) answer with nothing in it: no choice, content or candidate."""
        raise NotImplementedError

    def events(self, *, finish: bool = True) -> Iterator[str]:
        """The SSE events; without ``finish``, stop before the finish marker."""
        raise NotImplementedError


class _OpenAI(_Answer):
    def __init__(self, fake: FakeLLM, seen: Seen, step: Step) -> None:
        super().__init__(fake, seen, step)
        self.id = f"chatcmpl-fake{uuid.uuid4().hex[:20]}"
        self.calls = [(fake._tool_id("call_", call), call) for call in step.tool_calls]
        self.finish = "tool_calls" if self.calls else "stop"

    def headers(self) -> dict[str, str]:
        return {"x-request-id": f"req_fake{uuid.uuid4().hex[:16]}", "openai-model": self.model}

    def usage(self) -> dict[str, int]:
        step = self.step
        return {
            "prompt_tokens": step.input_tokens,
            "completion_tokens": step.output_tokens,
            "total_tokens": step.input_tokens + step.output_tokens,
        }

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": self.step.text or (None if self.calls else ""),
            "refusal": None,
        }
        if self.calls:
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": _dumps(call.arguments)},
                }
                for call_id, call in self.calls
            ]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": self.finish, "logprobs": None}
            ],
            "usage": self.usage(),
            "system_fingerprint": None,
        }

    def empty(self) -> dict[str, Any]:
        return self.message() | {"choices": []}

    def events(self, *, finish: bool = True) -> Iterator[str]:
        options = self.seen.body.get("stream_options") if isinstance(self.seen.body, dict) else None
        include_usage = isinstance(options, dict) and options.get("include_usage") is True

        def chunk(delta: dict[str, Any] | None, finish: str | None = None) -> str:
            payload: dict[str, Any] = {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "system_fingerprint": None,
                "choices": []
                if delta is None
                else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }
            if include_usage:
                payload["usage"] = self.usage() if delta is None else None
            return f"data: {_dumps(payload)}\n\n"

        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for piece in _split(self.step.text):
            yield chunk({"content": piece})
        for index, (call_id, call) in enumerate(self.calls):
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
            for piece in _split(_dumps(call.arguments)):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        if not finish:
            return
        yield chunk({}, self.finish)
        if include_usage:
            yield chunk(None)
        yield "data: [DONE]\n\n"


class _Anthropic(_Answer):
    def __init__(self, fake: FakeLLM, seen: Seen, step: Step) -> None:
        super().__init__(fake, seen, step)
        self.id = f"msg_fake{uuid.uuid4().hex[:20]}"
        self.calls = [(fake._tool_id("toolu_", call), call) for call in step.tool_calls]
        self.stop_reason = "tool_use" if self.calls else "end_turn"

    def headers(self) -> dict[str, str]:
        return {"request-id": f"req_fake{uuid.uuid4().hex[:16]}"}

    def usage(self, output_tokens: int) -> dict[str, Any]:
        return {
            "input_tokens": self.step.input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }

    def message(self) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if self.step.text:
            content.append({"type": "text", "text": self.step.text})
        for call_id, call in self.calls:
            content.append(
                {"type": "tool_use", "id": call_id, "name": call.name, "input": call.arguments}
            )
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self.usage(self.step.output_tokens),
        }

    def empty(self) -> dict[str, Any]:
        return self.message() | {"content": [], "stop_reason": None}

    def events(self, *, finish: bool = True) -> Iterator[str]:
        def event(name: str, payload: dict[str, Any]) -> str:
            return f"event: {name}\ndata: {_dumps({'type': name, **payload})}\n\n"

        start = self.message() | {"content": [], "stop_reason": None, "usage": self.usage(1)}
        yield event("message_start", {"message": start})
        yield event("ping", {})
        index = 0
        if self.step.text:
            yield event(
                "content_block_start",
                {"index": index, "content_block": {"type": "text", "text": ""}},
            )
            for piece in _split(self.step.text):
                delta = {"type": "text_delta", "text": piece}
                yield event("content_block_delta", {"index": index, "delta": delta})
            yield event("content_block_stop", {"index": index})
            index += 1
        for call_id, call in self.calls:
            block = {"type": "tool_use", "id": call_id, "name": call.name, "input": {}}
            yield event("content_block_start", {"index": index, "content_block": block})
            for piece in ["", *_split(_dumps(call.arguments))]:
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield event("content_block_delta", {"index": index, "delta": delta})
            yield event("content_block_stop", {"index": index})
            index += 1
        if not finish:
            return
        yield event(
            "message_delta",
            {
                "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": self.step.output_tokens},
            },
        )
        yield event("message_stop", {})


class _Gemini(_Answer):
    def __init__(self, fake: FakeLLM, seen: Seen, step: Step) -> None:
        super().__init__(fake, seen, step)
        self.response_id = f"fake{uuid.uuid4().hex[:20]}"

    def usage(self) -> dict[str, int]:
        step = self.step
        return {
            "promptTokenCount": step.input_tokens,
            "candidatesTokenCount": step.output_tokens,
            "totalTokenCount": step.input_tokens + step.output_tokens,
        }

    def call_parts(self) -> list[dict[str, Any]]:
        parts = []
        for call in self.step.tool_calls:
            function_call: dict[str, Any] = {"name": call.name, "args": call.arguments}
            if call.id is not None:
                function_call["id"] = call.id
            parts.append({"functionCall": function_call})
        return parts

    def response(self, parts: list[dict[str, Any]], last: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        payload: dict[str, Any] = {"candidates": [candidate]}
        if last:
            candidate["finishReason"] = "STOP"
            payload["usageMetadata"] = self.usage()
        payload["modelVersion"] = self.model
        payload["responseId"] = self.response_id
        return payload

    def message(self) -> dict[str, Any]:
        parts = [{"text": self.step.text}] if self.step.text else []
        return self.response(parts + self.call_parts(), last=True)

    def empty(self) -> dict[str, Any]:
        return {"usageMetadata": self.usage(), "modelVersion": self.model}

    def events(self, *, finish: bool = True) -> Iterator[str]:
        # Gemini streams text in pieces but each functionCall whole, one part per chunk.
        chunks = [[{"text": piece}] for piece in _split(self.step.text)]
        chunks += [[part] for part in self.call_parts()]
        if not chunks:
            chunks = [[{"text": ""}]]
        for number, parts in enumerate(chunks, 1):
            last = finish and number == len(chunks)
            yield f"data: {_dumps(self.response(parts, last=last))}\n\n"
