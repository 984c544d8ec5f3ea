"""``appctl serve`` as a real uvicorn process on 127.0.0.1, driven over HTTP."""

from __future__ import annotations

import http.server
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests import runner
from tests.agent.fakellm import FakeLLM, Step, ToolCallStep
from tests.conftest import TOKEN

SERVE_TOKEN = "serve-token-31337"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = runner.popen(
            ["serve", "--port", str(self.port), *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"APPCTL_BEARER_TOKEN": TOKEN, "SERVE_TOKEN": SERVE_TOKEN, **(env or {})},
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out, err = self.proc.communicate(timeout=5)
                raise AssertionError(f"appctl serve did not start: {out}{err}")
            time.sleep(0.1)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=40)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return err


def _policy(project: Path, text: str) -> None:
    (project / ".appctl" / "config.yaml").write_text(text)


def test_tools_schema_and_openapi(project: Path) -> None:
    served = Served(project)
    try:
        tools = httpx.get(f"{served.url}/tools?format=openai").json()
        assert {t["function"]["name"] for t in tools} >= {"list_pets", "create_pet"}
        assert httpx.get(f"{served.url}/tools?format=nope").status_code == 400
        assert httpx.get(f"{served.url}/schema").json()["source"]["kind"] == "openapi"
        doc = httpx.get(f"{served.url}/openapi.json").json()
        assert doc["openapi"] == "3.1.0"
        post = doc["paths"]["/tools/create_pet/call"]["post"]
        assert post["x-appctl-safety"] == "mutating"
        assert post["requestBody"]["content"]["application/json"]["schema"]["required"] == [
            "arguments"
        ]
    finally:
        served.stop()


def test_calls_run_behind_the_gates_and_land_in_the_history(project: Path, pets: Any) -> None:
    served = Served(project)
    try:
        ok = httpx.post(f"{served.url}/tools/list_pets/call", json={"arguments": {"limit": 2}})
        assert ok.status_code == 200, ok.text
        assert ok.json()["data"]["data"][0]["name"] == "Rex"  # the app's own envelope
        refused = httpx.post(
            f"{served.url}/tools/create_pet/call", json={"arguments": {"name": "Tom"}}
        )
        assert refused.status_code == 403 and refused.json()["error"]["category"] == "refused"
        refusal = refused.json()["error"]  # worded for an HTTP caller: the rule to add
        assert refusal["reason"] == "needs_approval" and "action: allow" in refusal["message"]
        assert "--yes" not in refusal["message"] and "terminal" not in refusal["message"]
        bad = httpx.post(f"{served.url}/tools/list_pets/call", json={"arguments": {"limit": "x"}})
        assert bad.status_code == 400 and "limit" in bad.json()["error"]["message"]
        missing = httpx.post(f"{served.url}/tools/list_pet/call", json={"arguments": {}})
        assert missing.status_code == 404 and "list_pets" in missing.json()["error"]["message"]
        assert httpx.post(f"{served.url}/tools/list_pets/call", content=b"{nope").status_code == 400
        history = httpx.get(f"{served.url}/history?last=10").json()
        assert [(h["tool"], h["outcome"]) for h in history] == [
            ("list_pets", "ok"),
            ("create_pet", "refused"),
            ("list_pets", "invalid"),
            ("list_pet", "invalid"),
        ]
        assert all(h["session"].startswith("serve-") for h in history)
        tagged = httpx.post(
            f"{served.url}/tools/list_pets/call",
            json={"arguments": {}},
            headers={"X-Appctl-Session": "job-42; DROP TABLE x" + "y" * 100},
        )
        assert tagged.status_code == 200
        mine = httpx.get(f"{served.url}/history?session=job-42DROPTABLEx" + "y" * 48).json()
        assert len(mine) == 1 and len(mine[0]["session"]) == 64
    finally:
        served.stop()
    assert [s[0] for s in pets.seen] == ["GET", "GET"]  # the refused write never arrived


def test_a_policy_allowance_lets_a_write_run_unless_read_only(project: Path, pets: Any) -> None:
    _policy(project, "policy:\n  - {match: {name: create_pet}, action: allow}\n")
    served = Served(project)
    try:
        made = httpx.post(
            f"{served.url}/tools/create_pet/call", json={"arguments": {"name": "Tom"}}
        )
        assert made.status_code == 200 and made.json()["data"]["name"] == "Tom"
    finally:
        served.stop()
    served = Served(project, "--read-only")
    try:
        refused = httpx.post(
            f"{served.url}/tools/create_pet/call", json={"arguments": {"name": "Al"}}
        )
        assert refused.status_code == 403 and "read-only" in refused.json()["error"]["message"]
    finally:
        served.stop()
    assert [s[0] for s in pets.seen] == ["POST"]


def test_bearer_token_body_limit_and_rate_limit(project: Path) -> None:
    _policy(project, "policy:\n  - {match: {name: list_pets}, rate_limit: 2/s}\n")
    served = Served(project, "--token-env", "SERVE_TOKEN", "--max-body", "1024")
    try:
        url = f"{served.url}/tools/list_pets/call"
        assert httpx.get(f"{served.url}/health").status_code == 200  # open for probes
        assert httpx.post(url, json={"arguments": {}}).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.post(url, json={"arguments": {}}, headers=wrong).status_code == 401
        auth = {"Authorization": f"Bearer {SERVE_TOKEN}"}
        big = {"arguments": {"name": "x" * 2000}}
        assert httpx.post(url, json=big, headers=auth).status_code == 413
        codes = [
            httpx.post(url, json={"arguments": {}}, headers=auth).status_code for _ in range(3)
        ]
        assert codes[:2] == [200, 200] and codes[2] == 429
        late = httpx.post(url, json={"arguments": {}}, headers=auth)
        assert late.status_code == 429 and late.headers["retry-after"]
        assert httpx.get(f"{served.url}/history", headers=auth).status_code == 200
    finally:
        err = served.stop()
    assert SERVE_TOKEN not in err


def test_a_taken_port_is_a_usage_error(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        proc = runner.appctl("serve", "--port", port, cwd=project, code=None, timeout=60)
    assert proc.returncode == 2 and "cannot listen" in proc.stderr and "--port" in proc.stderr


def test_beyond_loopback_needs_a_token(project: Path) -> None:
    proc = runner.appctl(
        "serve", "--host", "0.0.0.0", "--port", "1", cwd=project, code=None, timeout=60
    )
    assert proc.returncode == 2 and "--token-env" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_endpoint_does_one_agent_turn(project: Path, pets: Any) -> None:
    script = [Step(tool_calls=[ToolCallStep("list_pets", {})]), Step(text="One pet: Rex.")]
    with FakeLLM(script) as llm:
        llm.init_app(project)
        served = Served(project)
        try:
            answer = httpx.post(f"{served.url}/run", json={"prompt": "pets?"}, timeout=60)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert (
                body["answer"] == "One pet: Rex." and body["tool_calls"][0]["name"] == "list_pets"
            )
            assert httpx.post(f"{served.url}/run", json={}).status_code == 400
        finally:
            served.stop()
    assert pets.seen[-1][1] == "/api/pets"


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(1.5)
        body = b'{"late": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_project(tmp_path: Path) -> Iterator[Path]:
    """A project whose one tool, get_slow, takes 1.5 s to answer."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (tmp_path / "slow.json").write_text(
        json.dumps(
            {
                "openapi": "3.0.3",
                "info": {"title": "slow", "version": "1"},
                "servers": [{"url": base}],
                "paths": {
                    "/slow": {
                        "get": {
                            "operationId": "getSlow",
                            "responses": {"200": {"description": "ok"}},
                        }
                    }
                },
            }
        )
    )
    runner.invoke("sync", "--openapi", "slow.json", cwd=tmp_path)
    try:
        yield tmp_path
    finally:
        server.shutdown()
        server.server_close()


def test_shutdown_finishes_calls_in_flight(slow_project: Path) -> None:
    served = Served(slow_project)
    try:
        result: dict[str, Any] = {}

        def slow_call() -> None:
            result["response"] = httpx.post(
                f"{served.url}/tools/get_slow/call", json={}, timeout=30
            )

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(0.5)  # the call is in flight
        served.proc.send_signal(signal.SIGTERM)
        caller.join(timeout=30)
        assert result["response"].status_code == 200
        assert result["response"].json()["data"] == {"late": True}
        # uvicorn re-raises the signal once it has drained: "terminated by SIGTERM"
        assert served.proc.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        served.stop()


def test_a_tool_over_its_concurrency_limit_is_answered_429(slow_project: Path) -> None:
    (slow_project / ".appctl" / "config.yaml").write_text(
        "policy:\n  - {match: {name: get_slow}, max_concurrency: 1}\n"
    )
    served = Served(slow_project)
    try:
        codes: list[int] = []

        def slow_call() -> None:
            url = f"{served.url}/tools/get_slow/call"
            codes.append(httpx.post(url, json={}, timeout=30).status_code)

        first = threading.Thread(target=slow_call)
        first.start()
        time.sleep(0.5)  # the first call holds the one slot
        slow_call()
        first.join(timeout=30)
        assert sorted(codes) == [200, 429]
    finally:
        served.stop()


def test_instances_share_one_history_database(project: Path, fresh_db: str) -> None:
    """Two servers behind a load balancer, one audit trail (PostgreSQL, MariaDB, SQLite)."""
    env = {"APPCTL_HISTORY_URL": fresh_db}
    first, second = Served(project, env=env), Served(project, env=env)
    try:
        for served in (first, second):
            response = httpx.post(f"{served.url}/tools/list_pets/call", json={"arguments": {}})
            assert response.status_code == 200
        seen = httpx.get(f"{first.url}/history").json()
        assert len({h["session"] for h in seen}) == 2  # one row from each instance
    finally:
        first.stop()
        second.stop()
    engine = sa.create_engine(fresh_db)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM appctl_calls")).scalar() == 2
    engine.dispose()


def test_served_connections_send_small_writes_at_once() -> None:
    """Connections accepted on appctl's listening socket have TCP_NODELAY, as uvicorn's own
    sockets do: without it a response's body waited for the client's delayed ACK of its
    headers, about 40 ms per keep-alive request."""
    import asyncio
    import socket

    from appctl.serve.listen import listen

    async def accepted_nodelay() -> int:
        sock, base = listen("127.0.0.1", 0)
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            conn = writer.get_extra_info("socket")
            seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=sock)
        async with server:
            port = int(base.rsplit(":", 1)[1])
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                return await asyncio.wait_for(seen, 10)
            finally:
                writer.close()

    assert asyncio.run(accepted_nodelay()) != 0
