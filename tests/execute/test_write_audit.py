"""A write's record is begun before its request is sent and completed after: a process
killed while the application holds the request open leaves a ``started`` row, Ctrl-C a
``cancelled`` one; the begun row is completed once, in place, on every history backend."""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from appctl.execute.audit.history import CANCELLED, STARTED, STARTED_NOTE, Entry, History
from tests import runner
from tests.conftest import interruptible, serving


@dataclass
class Holding:
    """An application that takes a POST and holds it open until released."""

    url: str
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    bodies: list[bytes] = field(default_factory=list)


@pytest.fixture
def holding() -> Iterator[Holding]:
    state = Holding("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            state.arrived.set()
            state.release.wait(60)
            body = b'{"id": 1}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as state.url:
        try:
            yield state
        finally:
            state.release.set()  # before the server's shutdown, which waits for the handler


def held_project(root: Path, url: str) -> Path:
    """A project whose one tool, create_order, POSTs to ``url``/orders."""
    body = {"type": "object", "properties": {"item": {"type": "string"}}}
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "orders", "version": "1"},
        "servers": [{"url": url}],
        "paths": {
            "/orders": {
                "post": {
                    "operationId": "createOrder",
                    "requestBody": {"content": {"application/json": {"schema": body}}},
                    "responses": {"201": {"description": "made"}},
                }
            }
        },
    }
    (root / "orders.json").write_text(json.dumps(doc))
    runner.invoke("sync", "--openapi", "orders.json", cwd=root)
    return root


def _rows(project: Path) -> list[Entry]:
    history = History(f"sqlite:///{project / '.appctl' / 'history.db'}")
    try:
        return history.entries(last=100)
    finally:
        history.close()


def _call_held(project: Path, holding: Holding) -> subprocess.Popen[str]:
    proc = runner.popen(
        ["call", "create_order", "item=book", "--yes"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=interruptible,
    )
    if not holding.arrived.wait(30):
        proc.kill()
        raise AssertionError(f"the request never arrived: {proc.communicate(timeout=10)}")
    return proc


def test_a_write_killed_while_held_open_leaves_its_started_row(
    tmp_path: Path, holding: Holding
) -> None:
    project = held_project(tmp_path, holding.url)
    proc = _call_held(project, holding)
    proc.send_signal(signal.SIGKILL)  # nothing in the process runs after this
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert holding.bodies == [b'{"item":"book"}']  # the write reached the application
    [row] = _rows(project)
    assert (row.tool, row.outcome, row.status) == ("create_order", STARTED, None)
    assert row.request == f"POST {holding.url}/orders" and row.message == STARTED_NOTE
    assert json.loads(row.arguments) == {"item": "book"}
    listed = runner.invoke("history", cwd=project)
    assert "started" in listed.stdout and "no outcome recorded" in listed.stdout


def test_a_write_interrupted_by_ctrl_c_is_recorded_cancelled(
    tmp_path: Path, holding: Holding
) -> None:
    project = held_project(tmp_path, holding.url)
    proc = _call_held(project, holding)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "Traceback" not in err
    [row] = _rows(project)
    assert (row.outcome, row.status) == (CANCELLED, None)
    assert "interrupted (KeyboardInterrupt)" in (row.message or "")


def test_a_write_that_ends_completes_its_row_in_place(tmp_path: Path, holding: Holding) -> None:
    project = held_project(tmp_path, holding.url)
    proc = _call_held(project, holding)
    [row] = _rows(project)  # read while the application holds the request
    assert row.outcome == STARTED
    holding.release.set()
    assert proc.wait(timeout=30) == 0
    [done] = _rows(project)
    assert (done.id, done.at, done.outcome, done.status) == (row.id, row.at, "ok", 201)
    assert done.message is None and done.duration_ms >= row.duration_ms


def _entry(outcome: str = "ok", status: int | None = 200) -> Entry:
    return Entry(
        at="2026-12-04T10:00:00.000+00:00",
        session="s",
        tool="create_order",
        arguments='{"item": "book"}',
        request="POST http://127.0.0.1/orders",
        status=status,
        duration_ms=1.0,
        outcome=outcome,
    )


def test_begin_complete_and_abandon_on_every_backend(fresh_db: str) -> None:
    history = History(fresh_db)
    try:
        history.record(_entry())  # a read, recorded once
        done = history.begin(_entry())
        running = history.begin(_entry())
        rows = history.entries()
        assert [r.outcome for r in rows] == ["ok", STARTED, STARTED]
        assert history.complete(done, _entry(status=201))
        assert not history.complete(done, _entry("failed", 500))  # once only
        assert history.abandon(message="server stopped") == 1
        assert not history.complete(running, _entry())  # abandon came first
        after = history.entries()
        assert [r.id for r in after] == [r.id for r in rows]  # updated in place
        assert [(r.outcome, r.status) for r in after] == [
            ("ok", 200),
            ("ok", 201),
            (CANCELLED, None),
        ]
        assert after[2].message == "server stopped"
    finally:
        history.close()


def test_a_replayed_fold_never_turns_a_completed_row_back(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    history = History(f"sqlite:///{db}")
    pending = Path(f"{db}.pending")
    uid = history.begin(_entry())
    started_line = pending.read_bytes()
    history.complete(uid, _entry(status=201))
    both_lines = pending.read_bytes()
    history.fold()
    # as if a fold had been cut short before emptying the log: both lines again, then
    # only the started one (the log of an even earlier fold)
    for replay in (both_lines, started_line):
        pending.write_bytes(replay)
        [row] = history.entries()
        assert (row.outcome, row.status) == ("ok", 201)
    # and a completion folded apart from its started line still completes the row
    second = history.begin(replace(_entry(), tool="second"))
    history.fold()
    history.complete(second, replace(_entry(status=202), tool="second"))
    assert [(r.tool, r.outcome, r.status) for r in history.entries()] == [
        ("create_order", "ok", 201),
        ("second", "ok", 202),
    ]
    history.close()


def test_a_write_whose_record_cannot_be_begun_is_not_sent(app: Any, tmp_path: Path) -> None:
    from appctl.execute.executor import CallOptions, call
    from tests.execute.test_executor import ENV, SCHEMA

    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    history.close()  # its pending log is closed: nothing can be written to it any more
    options = CallOptions(base_url=app.url, approved=True)
    refused = call(SCHEMA, "add_pet", {"name": "Rex"}, options, environ=ENV, history=history)
    assert refused.outcome == "refused" and refused.error is not None
    assert refused.error.message.startswith("add_pet was not sent: its audit record")
    read = call(SCHEMA, "list_pets", {"limit": 1}, options, environ=ENV, history=history)
    assert read.ok and "the audit history could not be written" in read.notes[0]
    assert [s.method for s in app.seen] == ["GET"]  # the read went; the write did not
