"""Issue 21's proofs, end to end through tokens a real issuer signed (oidc-provider,
tests/identity/oidc.py), against ``appctl mcp --transport http`` with ``inbound.oauth``
in front of the fixture API (tests/identity/upstream.py):

- a valid token calls; a token for another resource, an expired one, one without either
  appctl scope and one signed by a key the issuer rotated out are refused with 401/403 and
  a ``WWW-Authenticate`` saying why; a read-scope token reads but cannot write;
- after a key rotation a token signed with the new key is accepted without a restart;
- two callers with different pass-through credentials (``header:X-Upstream-Token``)
  calling one tool at the same moment: the API sees each caller's own credential, never
  the other's nor the inbound token, and the history names each caller;
- a bound parameter (``bind: {customer_id: {from_claim: cust}}``): hidden from the tool
  list, the model's value refused, the request carrying the claim's value.

Tokens come from the client-credentials grant (each client acts as an account with its
claims and scopes); the interactive flow is proven in test_mcp_discovery.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import mcp_types as types
import pytest

from appctl.execute.audit.history import History
from tests.identity.oidc import Account, Issuer, StaticClient, running_issuer
from tests.identity.sdkflow import bearer_client
from tests.identity.upstream import Upstream, appctl_mcp, free_port, oauth_project, upstream_api
from tests.serve.test_mcp import _envelope

SCOPES = ("appctl:read", "appctl:write", "other:read")
ACCOUNTS = {
    "alice": Account(claims={"cust": "c-1", "groups": ["ops"]}),
    "bob": Account(claims={"cust": "c-2"}),
    "reader": Account(claims={"cust": "c-3"}, scopes=("appctl:read",)),
    "stranger": Account(scopes=("other:read",)),
}
ALICE = StaticClient("alice-agent", "alice-secret-0123456789abcdef", "alice")
BOB = StaticClient("bob-agent", "bob-secret-0123456789abcdef", "bob")
READER = StaticClient("reader-agent", "reader-secret-0123456789abcdef", "reader")
STRANGER = StaticClient("stranger-agent", "stranger-secret-0123456789abcdef", "stranger")
BRIEF = StaticClient("brief-agent", "brief-secret-0123456789abcdef", "alice", ttl=4)
CLIENTS = (ALICE, BOB, READER, STRANGER, BRIEF)


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[Issuer]:
    with running_issuer(tmp_path, accounts=ACCOUNTS, clients=CLIENTS, scopes=SCOPES) as running:
        yield running


@contextmanager
def serving(root: Path, issuer: Issuer, api: Upstream, **config: Any) -> Iterator[str]:
    """``appctl mcp --transport http --yes`` with ``inbound.oauth`` (no leeway: an expired
    token is expired) and ``config``; yields its URL, which is its resource."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    project = oauth_project(
        root / "app", api, issuer=issuer.url, resource=url, oauth={"leeway": 0}, **config
    )
    with appctl_mcp(project, port, "--yes"):
        yield url


def _initialize(url: str, token: str) -> httpx.Response:
    """A raw MCP initialize request with ``token``, to see the status and challenge."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "identity-test", "version": "1"},
        },
    }
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    return httpx.post(url, json=body, headers=headers, timeout=30)


def _refused(response: httpx.Response, status: int, error: str, says: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and f'error="{error}"' in challenge, challenge
    assert "resource_metadata=" in challenge
    assert says in response.text, response.text


def _call(url: str, token: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """One tool call in a session of its own; the result's envelope."""
    found: list[types.CallToolResult] = []

    async def session() -> None:
        with anyio.fail_after(60):
            async with bearer_client(url, token) as client:
                found.append(await client.call_tool(tool, arguments))

    anyio.run(session)
    return _envelope(found[0])


def test_valid_wrong_audience_expired_and_scopeless_tokens(tmp_path: Path, issuer: Issuer) -> None:
    with upstream_api() as api, serving(tmp_path, issuer, api) as url:
        valid = issuer.token(ALICE, resource=url)
        assert _initialize(url, valid).status_code == 200
        assert _call(url, valid, "whoami", {})["status"] == 200

        other = issuer.token(ALICE, resource="http://127.0.0.1:19799/mcp")
        assert jwt.decode(other, options={"verify_signature": False})["iss"] == issuer.url
        _refused(_initialize(url, other), 401, "invalid_token", "audience")

        brief = issuer.token(BRIEF, resource=url)
        assert _initialize(url, brief).status_code == 200  # valid while it lasts
        lifetime = jwt.decode(brief, options={"verify_signature": False})
        assert lifetime["exp"] - lifetime["iat"] == BRIEF.ttl
        time.sleep(max(0.0, lifetime["exp"] - time.time() + 1.5))
        _refused(_initialize(url, brief), 401, "invalid_token", "expired")

        scopeless = issuer.token(STRANGER, resource=url, scope="other:read")
        _refused(_initialize(url, scopeless), 403, "insufficient_scope", "appctl:read")
        _refused(_initialize(url, "not-a-jwt"), 401, "invalid_token", "JWT")
    assert [s.path for s in api.seen] == ["/whoami"]  # only the valid token's call got through


def test_a_read_scope_token_reads_and_cannot_write(tmp_path: Path, issuer: Issuer) -> None:
    with upstream_api() as api, serving(tmp_path, issuer, api) as url:
        token = issuer.token(READER, resource=url, scope="appctl:read")
        assert _call(url, token, "list_orders", {"customer_id": "c-3"})["status"] == 200
        refused = _call(url, token, "create_order", {"item": "tea"})
        assert refused["error"]["category"] == "refused", refused
        writer = issuer.token(ALICE, resource=url)
        assert _call(url, writer, "create_order", {"item": "tea"})["status"] == 201
    assert [(s.method, s.path) for s in api.seen] == [("GET", "/orders"), ("POST", "/orders")]


def test_a_rotated_key_is_fetched_and_the_old_one_refused(tmp_path: Path, issuer: Issuer) -> None:
    with upstream_api() as api, serving(tmp_path, issuer, api) as url:
        before = issuer.token(ALICE, resource=url)
        assert _initialize(url, before).status_code == 200  # appctl now holds the first key
        issuer.restart()  # the issuer rotates: a new key, the old one no longer published
        after = issuer.token(ALICE, resource=url)
        assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
        assert _initialize(url, after).status_code == 200  # fetched anew, no restart
        assert _call(url, after, "whoami", {})["status"] == 200
        _refused(_initialize(url, before), 401, "invalid_token", "key")
    assert [s.path for s in api.seen] == ["/whoami"]


def _history(project: Path) -> list[dict[str, Any]]:
    history = History(f"sqlite:///{project / '.appctl' / 'history.db'}")
    try:
        return [e.as_dict() for e in history.entries(last=1000)]
    finally:
        history.close()


PASS_THROUGH = {
    "auth": {
        "schemes": {
            "user": {"type": "bearer", "token": "header:X-Upstream-Token", "apply_to": ["*"]}
        }
    }
}


def test_two_callers_pass_their_own_credentials_at_the_same_time(
    tmp_path: Path, issuer: Issuer
) -> None:
    with upstream_api(hold=2) as api, serving(tmp_path, issuer, api, **PASS_THROUGH) as url:
        tokens = {
            "alice-agent": (issuer.token(ALICE, resource=url), "alice-upstream-secret-1"),
            "bob-agent": (issuer.token(BOB, resource=url), "bob-upstream-secret-2"),
        }
        results: dict[str, types.CallToolResult] = {}

        async def one(name: str) -> None:
            inbound, upstream = tokens[name]
            async with bearer_client(url, inbound, **{"X-Upstream-Token": upstream}) as client:
                results[name] = await client.call_tool("whoami", {})

        async def both() -> None:
            with anyio.fail_after(60):
                async with anyio.create_task_group() as group:
                    for name in tokens:
                        group.start_soon(one, name)

        anyio.run(both)
        missing = _call(url, tokens["alice-agent"][0], "whoami", {})
        rows = _history(tmp_path / "app")
    for name in tokens:  # each call ended well, the credential it echoed redacted
        assert _envelope(results[name])["data"] == {"authorization": "Bearer ***"}
    seen = [s.headers for s in api.seen]
    assert sorted(h["authorization"] for h in seen) == [
        "Bearer alice-upstream-secret-1",
        "Bearer bob-upstream-secret-2",
    ]
    every_header = repr(seen)
    for inbound, _ in tokens.values():
        assert inbound not in every_header  # the inbound tokens never went upstream
    assert missing["error"]["category"] == "auth" and "X-Upstream-Token" in str(missing)
    assert len(api.seen) == 2  # the call without its credential never left
    assert sorted(r["caller"] for r in rows) == ["alice-agent", "alice-agent", "bob-agent"]
    history = repr(rows)
    assert "upstream-secret" not in history and tokens["bob-agent"][0] not in history


BOUND = {
    "policy": [{"match": {"name": "list_orders"}, "bind": {"customer_id": {"from_claim": "cust"}}}]
}


def test_a_bound_parameter_takes_the_claim_and_refuses_the_models_value(
    tmp_path: Path, issuer: Issuer
) -> None:
    with upstream_api() as api, serving(tmp_path, issuer, api, **BOUND) as url:
        token = issuer.token(ALICE, resource=url)
        listed: list[types.Tool] = []

        async def tools() -> None:
            with anyio.fail_after(60):
                async with bearer_client(url, token) as client:
                    listed.extend((await client.list_tools()).tools)

        anyio.run(tools)
        [orders] = [t for t in listed if t.name == "list_orders"]
        assert "customer_id" not in orders.input_schema.get("properties", {})
        assert "customer_id" not in orders.input_schema.get("required", [])

        refused = _call(url, token, "list_orders", {"customer_id": "c-999"})
        assert "error" in refused and "customer_id" in refused["error"]["message"], refused
        bound = _call(url, token, "list_orders", {})
        assert bound["data"] == {"customer_id": "c-1"}  # alice's cust claim
        bob = _call(url, issuer.token(BOB, resource=url), "list_orders", {})
        assert bob["data"] == {"customer_id": "c-2"}
    assert [s.query for s in api.seen] == [(("customer_id", "c-1"),), (("customer_id", "c-2"),)]
