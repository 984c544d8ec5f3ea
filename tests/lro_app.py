"""A real API of long-running operations on 127.0.0.1, and its OpenAPI document.

Every shape ``contract/longrunning.py`` knows, each started by a POST (or PUT) that the app
counts, its status read with GET:

- ``POST /jobs`` → 202 + ``Location: /jobs/{id}/status``; the status answers 202 until the
  job has been polled ``polls`` times (``-1``: until ``finish``), then 303 to
  ``/things/{id}``. ``retry_after`` sets the status answers' ``Retry-After``; ``elsewhere``
  puts the status on another origin (``localhost`` instead of ``127.0.0.1``); ``hang``
  holds every status read unanswered until the app stops.
- ``POST /azure`` → 202 + ``Azure-AsyncOperation: /monitors/{id}`` (+ ``Location``); the
  monitor says ``InProgress`` then ``Succeeded`` or ``Failed`` with ``error {code, message}``.
- ``PUT /vaults/{name}`` (``x-ms-long-running-operation``, final-state-via ``location``) →
  201 + ``Operation-Location: /ops/{id}`` + ``Location: /vaults/{name}/result``.
- ``PUT /disks/{name}`` (``x-ms-long-running-operation``, no final-state-via) → 201 +
  ``Azure-AsyncOperation``; the result is read at the PUT's own URL once it succeeded.
- ``POST /reports/{name}`` → 202 ``{status: pending}``, read again with ``GET`` of the same
  path until ``success`` (GitHub's code scanning autofix works so).
- ``POST /v1/things`` → 200 operation ``{name: operations/{id}, done: false}``; read at
  ``GET /v1/operations/{id}`` until ``done`` with ``response`` or ``error``.
"""

from __future__ import annotations

import http.server
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import serving


@dataclass
class Job:
    polls: int  # polls until done; -1: until finished by the test
    retry_after: str | None = "0"
    fail: dict[str, Any] | None = None  # the error a failed operation reports
    hang: bool = False  # the status is never answered (held until the app stops)
    seen: int = 0  # status reads so far
    finished: bool = False

    def done(self) -> bool:
        return self.finished or (self.polls >= 0 and self.seen >= self.polls)


@dataclass
class LroApp:
    url: str = ""
    port: int = 0
    writes: list[str] = field(default_factory=list)  # "METHOD path" of every write
    reads: list[tuple[float, str]] = field(default_factory=list)  # (time, path) of each GET
    credentials: list[str | None] = field(default_factory=list)  # Authorization of each GET
    jobs: dict[str, Job] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)  # ends held answers
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def finish(self, job: str) -> None:
        self.jobs[job].finished = True

    def reads_of(self, prefix: str) -> list[tuple[float, str]]:
        return [r for r in self.reads if r[1].startswith(prefix)]


Answer = tuple[int, Any, dict[str, str]]


def _start(app: LroApp, body: dict[str, Any]) -> str:
    with app.lock:
        job = str(next(app._ids))
    app.jobs[job] = Job(
        polls=int(body.get("polls", 2)),
        retry_after=body.get("retry_after", "0"),
        fail=body.get("fail"),
        hang=bool(body.get("hang")),
    )
    return job


def _write(app: LroApp, method: str, path: str, body: dict[str, Any]) -> Answer:
    app.writes.append(f"{method} {path}")
    job = _start(app, body)
    if path == "/jobs" and body.get("at_once"):  # done at once: the resource made
        return 201, {"id": job, "made": True}, {"Location": f"/things/{job}"}
    if path == "/jobs":
        host = f"http://localhost:{app.port}" if body.get("elsewhere") else ""
        after = app.jobs[job].retry_after
        extra = {
            "Location": f"{host}/jobs/{job}/status",
            **({"Retry-After": after} if after else {}),
        }
        return 202, {"accepted": job}, extra
    if path == "/azure":
        extra = {"Azure-AsyncOperation": f"/monitors/{job}", "Retry-After": "0"}
        return 202, None, extra
    if path.startswith("/disks/"):  # Azure's default: the result is at the PUT's own URL
        return 201, {"provisioning": "Creating"}, {"Azure-AsyncOperation": f"/monitors/{job}"}
    if path.startswith("/vaults/"):
        name = path.rsplit("/", 1)[1]
        extra = {"Operation-Location": f"/ops/{job}", "Location": f"/vaults/{name}/result"}
        return 201, {"name": name, "provisioning": "started"}, extra
    if path == "/v1/things":
        return 200, {"name": f"operations/{job}", "done": False}, {}
    if path.startswith("/reports/"):  # read again with GET at this same path
        app.jobs[path.rsplit("/", 1)[1]] = app.jobs.pop(job)
        return 202, {"status": "pending"}, {}
    return 404, {"error": "no such route"}, {}


def _read(app: LroApp, path: str) -> Answer:
    parts = path.strip("/").split("/")
    if parts[0] == "things":
        return 200, {"id": parts[1], "made": True}, {}
    if parts[0] == "disks":
        return 200, {"disk": parts[1], "ready": True}, {}
    if parts[0] == "vaults":
        return 200, {"vault": parts[1], "ready": True}, {}
    if parts[0] == "reports":
        report = app.jobs[parts[1]]
        report.seen += 1
        return 200, {"status": "success" if report.done() else "pending", "report": parts[1]}, {}
    kind, job = (parts[1], parts[2]) if parts[0] == "v1" else (parts[0], parts[1])
    state = app.jobs.get(job)
    if state is None:
        return 404, {"error": "no such job"}, {}
    state.seen += 1
    if state.hang:
        app.release.wait(30)
    done = state.done()
    if kind == "jobs":
        after = {"Retry-After": state.retry_after} if state.retry_after else {}
        if not done:
            return 202, {"state": "running"}, after
        return 303, None, {"Location": f"/things/{job}"}
    if kind in ("monitors", "ops"):
        if not done:
            return 200, {"status": "InProgress" if kind == "monitors" else "Running"}, {}
        if state.fail:
            return 200, {"status": "Failed", "error": state.fail}, {}
        return 200, {"status": "Succeeded"}, {}
    if not done:
        return 200, {"name": f"operations/{job}", "done": False}, {}
    if state.fail:
        return 200, {"name": f"operations/{job}", "done": True, "error": state.fail}, {}
    answer = {"name": f"operations/{job}", "done": True, "response": {"thing": job}}
    return 200, answer, {}


def _handler(app: LroApp) -> type[http.server.BaseHTTPRequestHandler]:
    import time

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.command == "GET":
                shown = path + (f"?{parts.query}" if parts.query else "")
                app.reads.append((time.monotonic(), shown))
                app.credentials.append(self.headers.get("Authorization"))
                status, payload, extra = _read(app, path)
            else:
                status, payload, extra = _write(app, self.command, path, json.loads(raw or b"{}"))
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def lro_app() -> Iterator[LroApp]:
    app = LroApp()
    with serving(_handler(app)) as url:
        app.url, app.port = url, int(url.rsplit(":", 1)[1])
        try:
            yield app
        finally:
            app.release.set()  # before the server's shutdown, which waits for its handlers


_STARTS = {
    "type": "object",
    "properties": {
        "polls": {"type": "integer"},
        "retry_after": {"type": "string"},
        "elsewhere": {"type": "boolean"},
        "at_once": {"type": "boolean"},
        "hang": {"type": "boolean"},
        "fail": {"type": "object"},
    },
}
_BODY = {"required": True, "content": {"application/json": {"schema": _STARTS}}}
_OPERATION = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "done": {"type": "boolean"},
        "response": {"type": "object"},
        "error": {"type": "object"},
    },
}

_REPORT = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": ["pending", "success", "error"]}},
}


def _json(schema: dict[str, Any], **headers: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": "ok",
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        out["headers"] = {
            h: {"schema": {"type": "string"}, "description": d} for h, d in headers.items()
        }
    return out


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def spec() -> dict[str, Any]:
    """The app's OpenAPI document."""
    status_get = {
        "get": {
            "operationId": "read_job",
            "parameters": [_id("id")],
            "responses": {"200": _json({})},
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Long-running", "version": "1"},
        "paths": {
            "/jobs": {
                "post": {
                    "operationId": "start_job",
                    "requestBody": _BODY,
                    "responses": {"202": _json({}, Location="the job's status")},
                }
            },
            "/jobs/{id}/status": status_get,
            "/azure": {
                "post": {
                    "operationId": "start_azure",
                    "requestBody": _BODY,
                    "responses": {"202": _json({}, **{"Azure-AsyncOperation": "monitor"})},
                }
            },
            "/vaults/{name}": {
                "put": {
                    "operationId": "make_vault",
                    "x-ms-long-running-operation": True,
                    "x-ms-long-running-operation-options": {"final-state-via": "location"},
                    "parameters": [_id("name")],
                    "requestBody": _BODY,
                    "responses": {"201": _json({})},
                }
            },
            "/reports/{name}": {
                "post": {
                    "operationId": "make_report",
                    "parameters": [_id("name")],
                    "requestBody": _BODY,
                    "responses": {"202": _json(_REPORT)},
                },
                "get": {
                    "operationId": "read_report",
                    "parameters": [_id("name")],
                    "responses": {"200": _json(_REPORT)},
                },
            },
            "/disks/{name}": {
                "put": {
                    "operationId": "make_disk",
                    "x-ms-long-running-operation": True,
                    "parameters": [
                        _id("name"),
                        {"name": "api-version", "in": "query", "schema": {"type": "string"}},
                    ],
                    "requestBody": _BODY,
                    "responses": {"201": _json({})},
                },
            },
            "/v1/things": {
                "post": {
                    "operationId": "make_thing",
                    "requestBody": _BODY,
                    "responses": {"200": _json({"$ref": "#/components/schemas/Operation"})},
                }
            },
            "/v1/operations/{id}": {
                "get": {
                    "operationId": "get_operation",
                    "parameters": [_id("id")],
                    "responses": {"200": _json({"$ref": "#/components/schemas/Operation"})},
                }
            },
        },
        "components": {"schemas": {"Operation": _OPERATION}},
    }
