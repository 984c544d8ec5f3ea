"""``appctl mcp --transport http`` on SIGTERM: calls in flight finish and their results reach
the client; a result that cannot (past the grace, client gone) is recorded as undelivered.

A real ``appctl mcp`` subprocess on 127.0.0.1, the official SDK's Streamable HTTP client, and
an upstream API (a thread) that holds each write until the test lets it go."""

from __future__ import annotations

import http.server
import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from appctl.execute.audit.history import History
from tests import runner

MODES = ("legacy", "auto")  # 2025-11-25 (session, SSE via sse-starlette) and 2026-07-28


class Upstream:
    """POST /orders answers 201 after ``hold`` seconds; ``arrived`` is set when one comes in."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.arrived = threading.Event()
        self.answered = threading.Event()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream.arrived.set()
                time.sleep(upstream.hold)
                body = b'{"id": 7}'
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                upstream.answered.set()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream(hold=2.0)
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def _project(tmp_path: Path, upstream: Upstream) -> Path:
    body = {"type": "object", "properties": {"item": {"type": "string"}}}
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "orders", "version": "1"},
        "servers": [{"url": upstream.url}],
        "paths": {
            "/orders": {
                "post": {
                    "operationId": "create_order",
                    "requestBody": {"content": {"application/json": {"schema": body}}},
                    "responses": {"201": {"description": "created"}},
                }
            }
        },
    }
    (tmp_path / "orders.json").write_text(json.dumps(spec))
    runner.invoke("sync", "--openapi", "orders.json", cwd=tmp_path)
    return tmp_path


class Mcp:
    """``appctl mcp --transport http --yes`` on a port the system chose."""

    def __init__(self, project: Path, *args: str) -> None:
        self.project = project
        self.proc = runner.popen(
            ["mcp", "--transport", "http", "--port", "0", "--yes", *args],
            cwd=project,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/mcp", line)
        assert found, line
        self.url, port = found.group(0), int(found.group(1))
        # the port is bound before uvicorn listens on it
        runner.wait_listening(self.proc, port, within=15, what="appctl mcp --transport http")

    def stop_when(self, event: threading.Event) -> threading.Thread:
        """SIGTERM once ``event`` is set (the call reached the upstream)."""

        def stop() -> None:
            if event.wait(timeout=20):
                self.proc.send_signal(signal.SIGTERM)

        thread = threading.Thread(target=stop, daemon=True)
        thread.start()
        return thread

    def finish(self, timeout: float) -> tuple[int, str, float]:
        """Exit status, stderr, and seconds it took to exit from now."""
        started = time.monotonic()
        try:
            _, err = self.proc.communicate(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()
        return self.proc.returncode, err, time.monotonic() - started

    def history(self) -> list[dict[str, Any]]:
        history = History(f"sqlite:///{self.project / '.appctl' / 'history.db'}")
        try:
            return [e.as_dict() for e in history.entries(last=100)]
        finally:
            history.close()


def _call(url: str, mode: str) -> Any:
    """list_tools (so the client validates results without asking again), then the call."""

    async def session() -> Any:
        with anyio.fail_after(30):
            async with Client(url, mode=mode) as client:
                await client.list_tools()
                try:
                    return await client.call_tool("create_order", {"item": "book"})
                except MCPError as exc:
                    return exc

    return anyio.run(session)


@pytest.mark.parametrize("mode", MODES)
def test_sigterm_delivers_the_results_of_calls_in_flight(
    tmp_path: Path, upstream: Upstream, mode: str
) -> None:
    served = Mcp(_project(tmp_path, upstream))
    served.stop_when(upstream.arrived)
    result = _call(served.url, mode)
    assert not isinstance(result, MCPError), result  # before the fix: stream ended, no response
    assert not result.is_error and result.structured_content["data"] == {"id": 7}
    code, err, took = served.finish(timeout=30)
    assert code == 0, err  # a drained stop: not "killed by SIGTERM"
    assert took < 30 and "Traceback" not in err
    rows = served.history()
    assert [(r["tool"], r["outcome"], r["status"]) for r in rows] == [("create_order", "ok", 201)]


def test_a_result_past_the_grace_is_recorded_undelivered(
    tmp_path: Path, upstream: Upstream
) -> None:
    upstream.hold = 3.0
    served = Mcp(_project(tmp_path, upstream), "--grace", "0.5")
    served.stop_when(upstream.arrived)
    result = _call(served.url, "legacy")
    assert isinstance(result, MCPError)  # the stream was closed at the end of the grace
    code, err, _ = served.finish(timeout=30)
    assert code == 1 and "1 call(s) whose results were not delivered within the 0.5 s" in err
    call, lost = served.history()
    assert (call["outcome"], call["status"]) == ("ok", 201)  # the write happened
    assert (lost["outcome"], lost["status"], lost["tool"]) == ("undelivered", 201, "create_order")
    assert lost["session"] == call["session"] and lost["arguments"] == call["arguments"]
    assert lost["caller"] == call["caller"] == "anonymous"  # who the lost result was for
    assert "not delivered to the MCP client" in lost["message"] and "grace" in lost["message"]


@pytest.mark.parametrize("mode", MODES)
def test_a_client_that_goes_away_has_the_result_recorded_undelivered(
    tmp_path: Path, upstream: Upstream, mode: str
) -> None:
    served = Mcp(_project(tmp_path, upstream))

    async def session() -> None:
        async with Client(served.url, mode=mode) as client:
            await client.list_tools()
            with anyio.move_on_after(0.5):  # then the client gives up and goes away
                await client.call_tool("create_order", {"item": "book"})

    try:
        anyio.run(session)
        assert upstream.answered.wait(timeout=10)
        deadline = time.monotonic() + 10
        while len(rows := served.history()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        served.proc.send_signal(signal.SIGTERM)
        code, err, _ = served.finish(timeout=30)
    assert [(r["outcome"], r["status"]) for r in rows] == [("ok", 201), ("undelivered", 201)]
    assert [r["caller"] for r in rows] == ["anonymous", "anonymous"]
    assert "not delivered to the MCP client: the client disconnected" in rows[1]["message"]
    assert code == 0, err
