"""Slow upstreams cannot stall ``appctl serve`` or ``appctl mcp --transport http``: 45 calls
held by a peer that trickles one byte a second, while another tool answers at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from appctl.serve.workers import CAPACITY
from tests import runner
from tests.serve.test_mcp import _envelope, mcp_over_http
from tests.serve.test_rest import Served
from tests.trickle import Trickler, elapsed, trickler

SLOW_CALLS = 45  # more than anyio's default 40 worker threads
DEADLINE = 4  # seconds, the slow tool's policy timeout
SHARE = CAPACITY // 4
SLACK = 4.0
SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Slow", "version": "1"},
    "paths": {
        "/trickle-body": {"get": {"operationId": "slowBody"}},
        "/fast": {"get": {"operationId": "fast"}},
    },
}


@pytest.fixture
def slow() -> Iterator[Trickler]:
    with trickler() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, slow: Trickler) -> Path:
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    runner.invoke("sync", "--openapi", "spec.json", "--base-url", slow.url, cwd=tmp_path)
    (tmp_path / ".appctl" / "config.yaml").write_text(
        f"policy:\n  - {{match: {{name: slow_body}}, timeout: {DEADLINE}}}\n"
    )
    return tmp_path


def _post(url: str, tool: str, out: list[httpx.Response]) -> None:
    out.append(httpx.post(f"{url}/tools/{tool}/call", json={"arguments": {}}, timeout=60))


def test_serve_answers_other_tools_while_a_slow_upstream_holds_calls(project: Path) -> None:
    served = Served(project)
    try:
        slow: list[httpx.Response] = []
        started = time.monotonic()
        threads = [
            threading.Thread(target=_post, args=(served.url, "slow_body", slow))
            for _ in range(SLOW_CALLS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # the slow calls are in
        asked = time.monotonic()
        fast = httpx.post(f"{served.url}/tools/fast/call", json={"arguments": {}}, timeout=10)
        assert elapsed(asked) < 2.0
        assert fast.status_code == 200 and fast.json()["data"] == {"ok": True}
        assert httpx.get(f"{served.url}/health", timeout=5).status_code == 200
        for thread in threads:
            thread.join(timeout=60)
        assert elapsed(started) < DEADLINE + SLACK  # a call past its deadline let go
        statuses = sorted(r.status_code for r in slow)
        assert statuses == [429] * (SLOW_CALLS - SHARE) + [504] * SHARE
        busy = next(r for r in slow if r.status_code == 429)
        assert busy.headers["retry-after"] == "1"
        assert busy.json()["error"]["category"] == "rate_limited"
        timed_out = next(r for r in slow if r.status_code == 504).json()["error"]
        assert (
            timed_out["category"] == "timeout"
            and f"deadline of {DEADLINE} s" in (timed_out["message"])
        )
        # the workers are free again: the next slow call runs (to its deadline), not refused
        again = httpx.post(f"{served.url}/tools/slow_body/call", json={}, timeout=30)
        assert again.status_code == 504 and again.json()["error"]["category"] == "timeout"
    finally:
        served.stop()


@pytest.fixture
def mcp_url(project: Path) -> Iterator[str]:
    with mcp_over_http(project) as url:
        yield url


def test_mcp_over_http_answers_other_tools_while_a_slow_upstream_holds_calls(
    mcp_url: str,
) -> None:
    envelopes: list[dict[str, Any]] = []
    fast_took: list[float] = []

    async def slow_call(client: Client) -> None:
        envelopes.append(_envelope(await client.call_tool("slow_body", {})))

    async def session() -> None:
        async with Client(mcp_url) as client, anyio.create_task_group() as group:
            for _ in range(SLOW_CALLS):
                group.start_soon(slow_call, client)
            await anyio.sleep(1.0)
            asked = time.monotonic()
            fast = await client.call_tool("fast", {})
            fast_took.append(elapsed(asked))
            assert not fast.is_error and _envelope(fast)["data"] == {"ok": True}

    async def bounded() -> None:
        with anyio.fail_after(DEADLINE + 20):
            await session()

    anyio.run(bounded)
    assert fast_took[0] < 2.0
    categories = sorted(e["error"]["category"] for e in envelopes)
    assert categories == ["rate_limited"] * (SLOW_CALLS - SHARE) + ["timeout"] * SHARE
