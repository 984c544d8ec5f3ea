"""Two ``appctl serve`` processes on one PostgreSQL (or MariaDB) history enforce one rate
limit and one concurrency limit (execute/sharedlimits.py), and a killed instance's slots are
freed. The
fixture API on 127.0.0.1 counts the calls that reach it and how many run at once."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import runner
from tests.serve.test_rest import Served

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Counted", "version": "1"},
    "paths": {
        "/hits": {"get": {"operationId": "hits"}},
        "/rare": {"get": {"operationId": "rare"}},
        "/slow": {"get": {"operationId": "slow"}},
    },
}
POLICY = """policy:
  - {match: {name: hits}, rate_limit: 5/s}
  - {match: {name: rare}, rate_limit: 2/min}
  - {match: {name: slow}, max_concurrency: %d}
"""
HOLD = 30.0  # seconds the slow endpoint holds a call at most (until released)


class Counted:
    """What reached the fixture API: calls per path, and running slow calls (max too)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        self.running = 0
        self.most = 0
        self.release = threading.Event()

    def slow(self) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.release.wait(timeout=HOLD)
        finally:
            with self.lock:
                self.running -= 1


def _server(counted: Counted) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            with counted.lock:
                counted.hits[path] = counted.hits.get(path, 0) + 1
            if path == "/slow":
                counted.slow()
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def counted() -> Iterator[Counted]:
    counted = Counted()
    server = _server(counted)
    counted.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield counted
    finally:
        counted.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def history(server_db: str) -> str:
    return server_db


def _project(tmp_path: Path, counted: Counted, history: str, concurrency: int) -> Path:
    project = tmp_path / "app"
    project.mkdir()
    (project / "spec.json").write_text(json.dumps(SPEC))
    url = counted.url  # type: ignore[attr-defined]
    runner.invoke("sync", "--openapi", "spec.json", "--base-url", url, cwd=project)
    config = POLICY % concurrency + f"history: {{url: '{history}'}}\n"
    (project / ".appctl" / "config.yaml").write_text(config)
    return project


class Pair:
    """Two instances of one app, started together and stopped together."""

    def __init__(self, project: Path) -> None:
        self.a = Served(project)
        try:
            self.b = Served(project)
        except BaseException:
            self.a.stop()
            raise

    def stop(self) -> None:
        for served in (self.a, self.b):
            served.stop()


@pytest.fixture
def pair_of(tmp_path: Path, counted: Counted, history: str) -> Iterator[Any]:
    started: list[Pair] = []

    def start(concurrency: int) -> Pair:
        started.append(Pair(_project(tmp_path, counted, history, concurrency)))
        return started[-1]

    try:
        yield start
    finally:
        counted.release.set()
        for pair in started:
            pair.stop()


def _call(url: str, tool: str) -> httpx.Response:
    return httpx.post(f"{url}/tools/{tool}/call", json={"arguments": {}}, timeout=HOLD + 10)


def _burst(urls: list[str], tool: str, count: int) -> tuple[list[httpx.Response], float]:
    """``count`` calls spread over the instances from 8 threads; and the seconds it took."""
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    todo = list(range(count))

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            answer = _call(urls[n % len(urls)], tool)
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers, time.monotonic() - started


def test_one_rate_limit_holds_across_two_instances(pair_of: Any, counted: Counted) -> None:
    pair = pair_of(1)
    urls = [pair.a.url, pair.b.url]
    answers, took = _burst(urls, "rare", 12)  # 2/min: one call per 30 s window
    assert sorted(a.status_code for a in answers) == [200] + [429] * 11
    assert counted.hits.get("/rare") == 1
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"]["category"] == "rate_limited"
    assert "over its rate limit" in refused.json()["error"]["message"]
    answers, took = _burst(urls, "hits", 40)  # 5/s: at most 5 in any second
    admitted = sum(a.status_code == 200 for a in answers)
    assert {a.status_code for a in answers} <= {200, 429}
    assert admitted == counted.hits.get("/hits")
    assert 5 <= admitted <= 5 * (int(took) + 1), (admitted, took)


def test_one_concurrency_limit_holds_across_two_instances(pair_of: Any, counted: Counted) -> None:
    pair = pair_of(2)
    answers: list[httpx.Response] = []
    threads = [
        threading.Thread(target=lambda u=url: answers.append(_call(u, "slow")))
        for url in [pair.a.url, pair.b.url] * 4
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while (len(answers) < 6 or counted.running < 2) and time.monotonic() < deadline:
        time.sleep(0.05)  # the six refused at once; two on their way upstream, held there
    assert counted.running == 2 and len(answers) == 6
    assert all(a.status_code == 429 for a in answers)
    assert "already has 2 call(s) running" in answers[0].json()["error"]["message"]
    counted.release.set()
    for thread in threads:
        thread.join(timeout=HOLD + 10)
    assert sorted(a.status_code for a in answers) == [200, 200] + [429] * 6
    assert counted.most == 2 and counted.hits["/slow"] == 2


def test_a_killed_instance_frees_its_slots(pair_of: Any, counted: Counted) -> None:
    pair = pair_of(1)
    held = threading.Thread(target=lambda: _swallow(pair.a.url), daemon=True)
    held.start()
    deadline = time.monotonic() + 20
    while counted.running < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counted.running == 1  # instance A holds the only slot
    busy = _call(pair.b.url, "slow")
    assert busy.status_code == 429 and "already has 1 call(s) running" in busy.text
    pair.a.proc.kill()  # SIGKILL: no cleanup of its own
    pair.a.proc.wait(timeout=10)
    counted.release.set()  # later slow calls answer at once
    deadline = time.monotonic() + 15
    answer = _call(pair.b.url, "slow")
    while answer.status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.2)  # PostgreSQL ends the dead connection and its locks
        answer = _call(pair.b.url, "slow")
    assert answer.status_code == 200, answer.text


def _swallow(url: str) -> None:
    """A call whose instance is killed under it."""
    with contextlib.suppress(httpx.HTTPError):
        _call(url, "slow")
