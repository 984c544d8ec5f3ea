"""``appctl mcp --transport http`` behind inbound OAuth, as a real subprocess: the official
MCP SDK client with a bearer token from the test issuer lists and calls tools; without one
it gets the challenge; the metadata document is served; a session opened by one subject is
refused to another; the read scope cannot write; no inbound token reaches the upstream API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests import runner
from tests.identity.inbound_app import Upstream, project
from tests.identity.issuer import AUDIENCE, Issuer
from tests.serve.test_mcp import mcp_over_http

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
JSON_AND_SSE = {"Accept": "application/json, text/event-stream"}


@contextmanager
def mcp_http(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``appctl mcp --transport http`` guarded by ``args``; yields its base URL. Its
    start-up line says how it is guarded."""
    with mcp_over_http(cwd, *args, env=env, said=b" required)") as url:
        yield url.removesuffix("/mcp")


def _client(url: str, token: str) -> Client:
    headers = {"Authorization": f"Bearer {token}"}
    return Client(streamable_http_client(url, http_client=create_mcp_http_client(headers=headers)))


def _envelope(result: Any) -> dict[str, Any]:
    return dict(result.structured_content)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Issuer, Upstream]]:
    with Issuer("RS256") as issuer, Upstream().running() as upstream:
        inbound = {"oauth": {"issuer": issuer.url, "resource": AUDIENCE}}
        project(tmp_path, upstream.url, inbound)
        with mcp_http(tmp_path) as base:
            yield base, issuer, upstream


def test_the_sdk_client_lists_and_calls_with_a_bearer_token(
    served: tuple[str, Issuer, Upstream],
) -> None:
    base, issuer, upstream = served
    writer, reader = issuer.mint(), issuer.mint(sub="bob", scope="appctl:read")

    async def session() -> None:
        with anyio.fail_after(30):
            async with _client(f"{base}/mcp", writer) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert names == {"list_items", "create_item"}
                listed = await client.call_tool("list_items", {})
                assert not listed.is_error and _envelope(listed)["status"] == 200
                made = await client.call_tool("create_item", {"name": "x"})
                assert not made.is_error, made
            async with _client(f"{base}/mcp", reader) as client:
                listed_to_reader = {t.name for t in (await client.list_tools()).tools}
                assert listed_to_reader == {"list_items"}  # as --read-only offers them
                refused = await client.call_tool("create_item", {"name": "y"})
                assert refused.is_error
                assert "lacks the write scope" in _envelope(refused)["error"]["message"]

    anyio.run(session)
    methods = [r.split(b" ")[0] for r in upstream.seen]
    assert methods == [b"GET", b"POST"]  # bob's write never left appctl
    for token in (writer, reader):
        assert token.encode() not in upstream.everything()


def test_no_token_gets_the_challenge_and_the_metadata_is_served(
    served: tuple[str, Issuer, Upstream],
) -> None:
    base, issuer, _ = served
    reply = httpx.post(f"{base}/mcp", json=INITIALIZE, headers=JSON_AND_SSE, timeout=10)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == (
        'Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/mcp", '
        'scope="appctl:read appctl:write"'
    )
    document = httpx.get(f"{base}/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert document["resource"] == AUDIENCE
    assert document["authorization_servers"] == [issuer.url]
    root = httpx.get(f"{base}/.well-known/oauth-protected-resource", timeout=10).json()
    assert root == document
    expired = issuer.mint(exp=int(time.time()) - 600)
    headers = {**JSON_AND_SSE, "Authorization": f"Bearer {expired}"}
    reply = httpx.post(f"{base}/mcp", json=INITIALIZE, headers=headers, timeout=10)
    assert reply.status_code == 401
    assert (
        'error="invalid_token", error_description="the token has expired"'
        in (reply.headers["www-authenticate"])
    )


def test_a_session_is_refused_to_another_subject(served: tuple[str, Issuer, Upstream]) -> None:
    base, issuer, _ = served

    def post(token: str, body: dict[str, Any], session: str | None = None) -> httpx.Response:
        headers = {**JSON_AND_SSE, "Authorization": f"Bearer {token}"}
        if session:
            headers["mcp-session-id"] = session
        return httpx.post(f"{base}/mcp", json=body, headers=headers, timeout=10)

    alice, bob = issuer.mint(), issuer.mint(sub="bob")
    opened = post(alice, INITIALIZE)
    assert opened.status_code == 200, opened.text
    session = opened.headers["mcp-session-id"]
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    assert post(bob, listing, session).status_code == 404  # as if there were no such session
    mine = post(alice, listing, session)
    assert mine.status_code == 200 and "list_items" in mine.text
    another_alice = issuer.mint()  # a refreshed token of the same subject keeps the session
    assert post(another_alice, listing, session).status_code == 200


def test_token_env_guards_mcp_over_http(tmp_path: Path) -> None:
    with Upstream().running() as upstream:
        project(tmp_path, upstream.url, {})
        with mcp_http(tmp_path, "--token-env", "MCP_TOKEN", env={"MCP_TOKEN": "t0k-3n"}) as base:
            assert httpx.post(f"{base}/mcp", json=INITIALIZE, timeout=10).status_code == 401
            headers = {**JSON_AND_SSE, "Authorization": "Bearer t0k-3n"}
            reply = httpx.post(f"{base}/mcp", json=INITIALIZE, headers=headers, timeout=10)
            assert reply.status_code == 200
            missing = httpx.get(f"{base}/.well-known/oauth-protected-resource", timeout=10)
            assert missing.status_code == 401  # no OAuth configured: no metadata to give
            assert missing.headers["www-authenticate"] == 'Bearer realm="appctl"'
        stdio = runner.invoke("mcp", "--token-env", "MCP_TOKEN", cwd=tmp_path, code=2)
        assert "--token-env guards --transport http" in stdio.stderr
