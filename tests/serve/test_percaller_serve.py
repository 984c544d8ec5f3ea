"""End to end (issue 21 items 3 and 4): per-user upstream credentials and bound parameters
through ``appctl serve`` (a real uvicorn process) and ``appctl mcp`` (driven by the MCP SDK
client), against a fixture API on 127.0.0.1 that records the credential of every request.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from appctl.execute.caller import Caller
from appctl.session.core import NOBODY, Session
from tests import runner
from tests.conftest import serving
from tests.serve.test_mcp import _run, _stdio
from tests.serve.test_rest import SERVE_TOKEN, Served

TOKENS = {"alice": "gh-alice-1f2e3d4c5b", "bob": "gh-bob-a9b8c7d6e5"}
CALLS = 50  # per caller


class Recording(BaseHTTPRequestHandler):
    """Answers every GET with what it received; records (who, credential, path)."""

    seen: ClassVar[list[tuple[str, str, str]]]
    lock: ClassVar[threading.Lock]

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        who = query.get("who", [""])[0]
        credential = self.headers.get("Authorization", "")
        with self.lock:
            self.seen.append((who, credential, self.path))
        body = json.dumps({"who": who, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    seen: list[tuple[str, str, str]] = []
    handler = type("H", (Recording,), {"seen": seen, "lock": threading.Lock()})
    with serving(handler) as url:
        yield url, seen


DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Repos", "version": "1"},
    "paths": {
        "/repos": {
            "get": {
                "operationId": "listRepos",
                "parameters": [{"name": "who", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/orders": {
            "get": {
                "operationId": "listOrders",
                "parameters": [
                    {"name": "customer_id", "in": "query", "required": True, "schema": {}},
                    {"name": "status", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}

CONFIG = {
    "auth": {
        "schemes": {
            "github": {
                "type": "bearer",
                "token": "header:X-GitHub-Token",
                "description": "GitHub token",
                "apply_to": ["list_repos"],
            }
        }
    },
    "policy": [{"match": {"name": "list_orders"}, "bind": {"customer_id": {"from_claim": "cust"}}}],
}


@pytest.fixture
def project(tmp_path: Path, api: Any) -> Path:
    url, _ = api
    source = tmp_path / "repos.json"
    source.write_text(json.dumps(DOCUMENT))
    runner.invoke("sync", "--openapi", str(source), "--base-url", url, cwd=tmp_path)
    (tmp_path / ".appctl" / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    return tmp_path


def _post(url: str, tool: str, arguments: dict[str, Any], **headers: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {SERVE_TOKEN}", **headers}
    body = {"arguments": arguments}
    return httpx.post(f"{url}/tools/{tool}/call", json=body, headers=headers, timeout=30)


def test_two_callers_at_once_each_send_their_own_credential(project: Path, api: Any) -> None:
    _, seen = api
    served = Served(project, "--token-env", "SERVE_TOKEN")
    answers: dict[str, list[httpx.Response]] = {who: [] for who in TOKENS}

    def caller(who: str) -> None:
        for _ in range(CALLS):
            sent = {"X-GitHub-Token": TOKENS[who]}
            answers[who].append(_post(served.url, "list_repos", {"who": who}, **sent))

    try:
        threads = [threading.Thread(target=caller, args=(who,)) for who in TOKENS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        history = httpx.get(
            f"{served.url}/history?last=500",
            headers={"Authorization": f"Bearer {SERVE_TOKEN}"},
            timeout=30,
        ).text
    finally:
        served.stop()
    assert len(seen) == CALLS * len(TOKENS)
    for who, credential, _ in seen:  # each request: its caller's own, never another's
        assert credential == f"Bearer {TOKENS[who]}"
    assert {who for who, _, _ in seen} == set(TOKENS)
    everything = history + "".join(a.text for rs in answers.values() for a in rs)
    assert all(a.status_code == 200 for rs in answers.values() for a in rs)
    for secret in (*TOKENS.values(), SERVE_TOKEN):  # echoed by the API, redacted by appctl
        assert secret not in everything
        assert secret.encode() not in (project / ".appctl" / "history.db").read_bytes()
    assert SERVE_TOKEN not in "".join(c for _, c, _ in seen)  # the inbound token stays


def test_a_missing_header_and_a_bound_parameter_through_serve(project: Path, api: Any) -> None:
    _, seen = api
    served = Served(project, "--token-env", "SERVE_TOKEN")
    try:
        missing = _post(served.url, "list_repos", {"who": "carol"})
        tools = httpx.get(
            f"{served.url}/tools", headers={"Authorization": f"Bearer {SERVE_TOKEN}"}
        ).json()
        model_set = _post(served.url, "list_orders", {"customer_id": 7})
        no_claim = _post(served.url, "list_orders", {"status": "open"})
    finally:
        served.stop()
    error = missing.json()["error"]
    assert error["category"] == "auth"
    assert "send your own GitHub token (github) in the X-GitHub-Token header" in error["message"]
    orders = next(t for t in tools["tools"] if t["name"] == "list_orders")
    assert set(orders["inputSchema"]["properties"]) == {"status", "fields"}
    assert model_set.status_code == 400 and "'customer_id' is set from" in model_set.text
    assert no_claim.json()["error"]["category"] == "auth" and "'cust' claim" in no_claim.text
    assert seen == []  # none of them reached the API


def test_the_claim_value_reaches_the_api_through_the_session(project: Path, api: Any) -> None:
    _, seen = api
    session = Session.open(project / ".appctl", approver=NOBODY, environ={})
    alice = Caller(subject="alice", kind="oauth", claims={"cust": "c-41"})
    result = session.call("list_orders", {"status": "open"}, caller=alice)
    assert result.ok, result.error
    assert seen[-1][2] == "/orders?customer_id=c-41&status=open"
    refused = session.call("list_orders", {"customer_id": "c-42"}, caller=alice)
    assert refused.error is not None and refused.error.category == "validation"
    assert len(seen) == 1


def test_mcp_tools_list_leaves_the_bound_parameter_out(project: Path) -> None:
    async def session() -> None:
        async with _stdio(project) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools["list_orders"].input_schema["properties"]) == {"status", "fields"}
            assert "who" in tools["list_repos"].input_schema["properties"]
            called = await client.call_tool("list_orders", {"customer_id": 7})
            assert called.is_error
            assert "'customer_id' is set from" in json.dumps(called.structured_content)
        async with _stdio(project, "--catalogue") as client:  # the meta-tools' catalogue
            described = await client.call_tool("appctl_describe_tool", {"name": "list_orders"})
            assert not described.is_error
            data = json.dumps(described.structured_content)
            assert '"status"' in data and "customer_id" not in data

    _run(session)
