"""``appctl serve`` with hostile bodies and a stop while a write is held open: a body that
is not JSON, not UTF-8 or too deep is a 400 envelope (never a plain-text 500), and a write
still running at the grace limit is recorded as cancelled."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from appctl.execute.audit.history import CANCELLED, History
from tests import runner
from tests.execute.test_write_audit import Holding, held_project, holding  # noqa: F401
from tests.serve.test_rest import Served

BODIES = {
    "not JSON": b'{"arguments": {"limit": 1',
    "not UTF-8": b'{"arguments": {"name": "\xff\xfe"}}',
    "too deep to parse": b'{"arguments": {"limit": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    "deeper than arguments may nest": b'{"arguments": {"limit": ' + b"[" * 500 + b"]" * 500 + b"}}",
    "a lone surrogate": b'{"arguments": {"status": "\\ud800"}}',
    "NaN": b'{"arguments": {"limit": NaN}}',
    "a huge number": b'{"arguments": {"limit": 1' + b"0" * 400 + b"}}",
    "arguments not an object": b'{"arguments": [1]}',
}


def test_hostile_bodies_are_400_envelopes(project: Path, pets: Any) -> None:
    served = Served(project)
    try:
        for what, body in BODIES.items():
            answer = httpx.post(
                f"{served.url}/tools/list_pets/call",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
            assert answer.status_code == 400, (what, answer.text[:200])
            envelope = answer.json()
            assert envelope["ok"] is False and envelope["tool"] == "list_pets", what
            assert envelope["error"]["category"] == "validation", what
            assert envelope["error"]["message"], what
        assert httpx.get(f"{served.url}/health", timeout=10).status_code == 200
    finally:
        err = served.stop()
    assert "Traceback" not in err and not pets.seen


def test_a_write_running_at_the_grace_limit_is_recorded_cancelled(
    tmp_path: Path,
    holding: Holding,  # noqa: F811
) -> None:
    project = held_project(tmp_path, holding.url)
    (project / ".appctl" / "config.yaml").write_text(
        "policy:\n  - {match: {name: create_order}, action: allow}\n"
    )
    served = Served(project, "--grace", "1")
    answers: list[httpx.Response | Exception] = []

    def write() -> None:
        try:
            url = f"{served.url}/tools/create_order/call"
            answers.append(httpx.post(url, json={"arguments": {"item": "book"}}, timeout=60))
        except httpx.HTTPError as exc:  # the connection may close before the answer
            answers.append(exc)

    caller = threading.Thread(target=write)
    caller.start()
    try:
        assert holding.arrived.wait(30), "the write never reached the application"
        began = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=30) == 0
        assert time.monotonic() - began < 1 + 15  # the grace limit, not the held request
        caller.join(timeout=30)
    finally:
        holding.release.set()
        served.stop()
    history = History(f"sqlite:///{project / '.appctl' / 'history.db'}")
    try:
        [row] = history.entries()
    finally:
        history.close()
    assert (row.tool, row.outcome, row.status) == ("create_order", CANCELLED, None)
    assert "appctl serve stopped" in (row.message or "")
    [answer] = answers
    if isinstance(answer, httpx.Response):  # delivered before the process went: an envelope
        assert answer.status_code == 503
        assert answer.json()["error"]["message"].startswith("appctl serve stopped")


def odd_project(root: Path, base: str, routes: dict[str, Any]) -> Path:
    """A project whose one tool, get_odd, answers JSON holding a lone surrogate (an escape
    Python's JSON reader takes, and no encoder can write back as UTF-8)."""
    routes["/odd"] = (200, "application/json", b'{"name": "a\\ud800b"}')
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "odd", "version": "1"},
        "servers": [{"url": base}],
        "paths": {"/odd": {"get": {"operationId": "getOdd", "responses": {"200": {}}}}},
    }
    (root / "odd.json").write_text(json.dumps(doc))
    runner.invoke("sync", "--openapi", "odd.json", cwd=root)
    return root


def test_an_answer_holding_a_lone_surrogate_is_still_json(tmp_path: Path, http_server) -> None:
    project = odd_project(tmp_path, *http_server)
    served = Served(project)
    try:
        answer = httpx.post(f"{served.url}/tools/get_odd/call", json={}, timeout=30)
    finally:
        err = served.stop()
    assert answer.status_code == 200, answer.text[:200]
    assert answer.json()["data"] == {"name": "a\ud800b"}  # as the application sent it
    assert "Traceback" not in err
