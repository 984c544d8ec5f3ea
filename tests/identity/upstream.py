"""The fixture API behind ``appctl`` in the identity tests, and ``appctl mcp --transport http``
with ``inbound.oauth`` in front of it.

The API (``Upstream``) records every request's path, query and the headers a credential can
travel in, and answers ``GET /whoami`` with the ``Authorization`` it saw, ``GET /orders``
with the ``customer_id`` it was asked for, ``POST /orders`` with the order made. With
``hold=N`` the first N ``/whoami`` requests are answered only once all N are in flight
together (a barrier, 20 s at most), which proves calls overlapped.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from tests import runner

CREDENTIAL_HEADERS = ("authorization", "x-upstream-token", "cookie")

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Orders", "version": "1"},
    "paths": {
        "/whoami": {
            "get": {
                "operationId": "whoami",
                "summary": "Who the API thinks is calling",
                "responses": {"200": {"description": "the credential seen"}},
            }
        },
        "/orders": {
            "get": {
                "operationId": "list_orders",
                "summary": "A customer's orders",
                "parameters": [
                    {
                        "name": "customer_id",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"200": {"description": "orders"}},
            },
            "post": {
                "operationId": "create_order",
                "summary": "Place an order",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"item": {"type": "string"}},
                                "required": ["item"],
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "made"}},
            },
        },
    },
}


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]


@dataclass
class Upstream:
    url: str = ""
    hold: int = 0
    seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _barrier: threading.Barrier | None = None

    def record(self, request: http.server.BaseHTTPRequestHandler) -> Seen:
        parts = urlsplit(request.path)
        headers = {h: request.headers[h] for h in CREDENTIAL_HEADERS if h in request.headers}
        seen = Seen(request.command, parts.path, tuple(parse_qsl(parts.query, True)), headers)
        with self._lock:
            self.seen.append(seen)
        return seen

    def wait_for_the_others(self) -> None:
        if self.hold:
            with self._lock:
                if self._barrier is None:
                    self._barrier = threading.Barrier(self.hold, timeout=20)
            self._barrier.wait()


def _handler(api: Upstream) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            seen = api.record(self)
            if seen.path == "/whoami":
                try:
                    api.wait_for_the_others()
                except threading.BrokenBarrierError:
                    return self._send(503, {"error": "the other callers never came"})
                return self._send(200, {"authorization": seen.headers.get("authorization")})
            if seen.path == "/orders":
                return self._send(200, {"customer_id": dict(seen.query).get("customer_id")})
            self._send(404, {"error": "no such route"})

        def do_POST(self) -> None:
            seen = api.record(self)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self._send(201 if seen.path == "/orders" else 404, {"id": 7, **body})

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def upstream_api(*, hold: int = 0) -> Iterator[Upstream]:
    api = Upstream(hold=hold)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oauth_project(
    root: Path,
    api: Upstream,
    *,
    issuer: str,
    resource: str,
    oauth: Mapping[str, Any] | None = None,
    **config: Any,
) -> Path:
    """A project on the fixture API whose config.yaml has ``inbound.oauth`` for ``issuer`` and
    ``resource`` (and ``oauth``, more of its keys), plus ``config`` (more top-level keys,
    e.g. ``auth`` or ``policy``)."""
    root.mkdir(parents=True, exist_ok=True)
    spec = root / "orders.json"
    spec.write_text(json.dumps(SPEC))
    runner.invoke("sync", "--openapi", str(spec), "--base-url", api.url, cwd=root)
    inbound = {"oauth": {"issuer": issuer, "resource": resource, **(oauth or {})}}
    settings = {"inbound": inbound, **config}
    (root / ".appctl" / "config.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return root


@contextmanager
def appctl_mcp(
    project: Path, port: int, *args: str, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``appctl mcp --transport http`` on ``port`` in ``project``; at the end, stopped by
    SIGTERM, and checked to have written no traceback."""
    proc = runner.popen(
        ["mcp", "--transport", "http", "--port", str(port), *args],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        runner.wait_listening(proc, port, within=20, what="appctl mcp --transport http")
        yield proc
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        assert b"Traceback" not in err, err.decode()
