"""What the inbound-auth tests serve: a small upstream API that records every request it
gets in full (so a test can prove the inbound token never reaches it), its contract synced
into a tmp project, and ``appctl serve``'s app over it with an ``inbound:`` config."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from appctl.execute.caller import Caller
from appctl.serve.inbound.jwks import KeySet
from tests import runner

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Items", "version": "1"},
    "paths": {
        "/items": {
            "get": {"operationId": "list_items", "responses": {"200": {"description": "ok"}}},
            "post": {
                "operationId": "create_item",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"name": {"type": "string"}},
                            }
                        }
                    }
                },
                "responses": {"201": {"description": "made"}},
            },
        }
    },
}


class Upstream:
    """The API appctl calls: every request recorded as its raw head and body."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self._lock = threading.Lock()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, data: Any) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                head = f"{self.requestline}\r\n{self.headers}".encode("latin-1")
                with upstream._lock:
                    upstream.seen.append(head + body)
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._answer(200, [{"id": 1, "name": "one"}])

            def do_POST(self) -> None:
                self._answer(201, {"id": 2})

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def everything(self) -> bytes:
        with self._lock:
            return b"\n".join(self.seen)

    @contextmanager
    def running(self) -> Iterator[Upstream]:
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)


def project(tmp_path: Path, upstream: str, inbound: Mapping[str, Any]) -> Path:
    """A project whose contract is ``SPEC`` aimed at ``upstream``, ``create_item`` allowed by
    policy, and ``inbound`` as config.yaml's ``inbound:``; returns its app dir."""
    spec = tmp_path / "items.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    runner.invoke("sync", "--openapi", str(spec), "--base-url", upstream, cwd=tmp_path)
    app_dir = tmp_path / ".appctl"
    config = {"policy": [{"match": {"name": "create_item"}, "action": "allow"}]}
    (app_dir / "config.yaml").write_text(yaml.safe_dump({**config, "inbound": dict(inbound)}))
    return app_dir


class Spied:
    """The callers each call reached ``Session.call`` with (the real session runs it)."""

    def __init__(self) -> None:
        self.callers: list[Caller | None] = []


def rest_app(
    app_dir: Path, environ: Mapping[str, str], *, keys: KeySet | None = None, run_turn: Any = None
) -> tuple[Any, Spied]:
    """``appctl serve``'s ASGI app for ``app_dir``, guarded as the CLI guards it (``keys``:
    the issuer's key set, for a shorter fetch timeout), and the callers its calls ran as."""
    from appctl.serve.inbound.verify import Verifier, server_verifier
    from appctl.serve.rest import ServeState, create_app
    from appctl.session.approval import PolicyOnly
    from appctl.session.core import Session

    spied = Spied()

    class SpiedSession(Session):
        def call(self, tool: str, arguments: Mapping[str, Any], **kwargs: Any) -> Any:
            spied.callers.append(kwargs.get("caller"))
            return super().call(tool, arguments, **kwargs)

    opened = Session.open(app_dir, approver=PolicyOnly("appctl serve"), environ=environ)
    session = SpiedSession(**{f.name: getattr(opened, f.name) for f in fields(Session)})
    if keys is not None:
        verifier: Verifier | None = Verifier(session.config.inbound, environ, keys=keys)
    else:
        verifier = server_verifier(session.config.inbound, environ, token_env=None)
    state = ServeState(session=session, verifier=verifier, run_turn=run_turn)
    return create_app(state), spied
