"""A small real HTTP app on 127.0.0.1 that records every request it receives."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class App:
    url: str
    seen: list[Seen] = field(default_factory=list)
    flaky: dict[str, int] = field(default_factory=dict)  # path → failures left


def _handler(app: App) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            app.seen.append(
                Seen(
                    self.command,
                    parts.path,
                    parse_qsl(parts.query, True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            try:
                status, payload, extra = self._route(parts.path)
            except ConnectionAbortedError:
                return
            data = json.dumps(payload).encode()
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _route(self, full: str) -> tuple[int, Any, dict[str, str]]:
            path = full.removeprefix("/api")
            if path.startswith("/status/"):
                return int(path.rsplit("/", 1)[1]), {"error": "as asked"}, {}
            if path == "/slow":
                time.sleep(1.0)
                return 200, {"late": True}, {}
            if path == "/drop":
                self.close_connection = True
                self.connection.shutdown(2)
                raise ConnectionAbortedError("dropped on purpose")
            if path == "/away":
                return 302, {}, {"Location": "http://example.invalid/steal"}
            if path == "/hop":
                return 302, {}, {"Location": "/api/pets"}
            if app.flaky.get(full, 0) > 0:
                app.flaky[full] -= 1
                return 503, {"error": "busy"}, {"Retry-After": "0"}
            return 200, {"method": self.command, "path": full}, {}

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def app() -> Iterator[App]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(App("")))
    state = App(f"http://127.0.0.1:{server.server_address[1]}/api")
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
