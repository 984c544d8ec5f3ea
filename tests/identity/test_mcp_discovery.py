"""MCP clients signing in to ``appctl mcp --transport http`` with ``inbound.oauth`` aimed at a
real issuer (oidc-provider, tests/identity/oidc.py), by the discovery flow the MCP
authorization spec prescribes: 401 + ``WWW-Authenticate: Bearer resource_metadata=...`` →
Protected Resource Metadata (RFC 9728) → the issuer's metadata (RFC 8414 / OIDC discovery)
→ dynamic registration (RFC 7591) → authorization code + PKCE with ``resource`` (RFC 8707)
→ token → ``tools/list`` and a call.

Two independent clients do it: the official MCP Python SDK (``OAuthClientProvider``,
tests/identity/sdkflow.py) and the npm Inspector CLI (2.12.0), whose CLI runs the same flow
when a person is present: a terminal on its stdin stands for one, and the test plays the
person's browser (``oidc.login``) on the URL it prints, ending at its callback listener.
"""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import jwt
import pytest

from appctl.execute.audit.history import History
from tests.conftest import NPM
from tests.identity.oidc import Account, Issuer, login, running_issuer
from tests.identity.sdkflow import Flow, signed_in_client
from tests.identity.upstream import Upstream, appctl_mcp, free_port, oauth_project, upstream_api

INSPECTOR = NPM / ".bin" / "mcp-inspector"
ALICE = Account(claims={"cust": "c-1", "groups": ["ops"]})


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[Issuer]:
    with running_issuer(tmp_path, accounts={"alice": ALICE}) as running:
        yield running


@pytest.fixture
def api() -> Iterator[Upstream]:
    with upstream_api() as running:
        yield running


@pytest.fixture
def server(tmp_path: Path, issuer: Issuer, api: Upstream) -> Iterator[str]:
    """``appctl mcp --transport http`` whose resource URL is its own /mcp; yields that URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    project = oauth_project(tmp_path / "app", api, issuer=issuer.url, resource=url)
    with appctl_mcp(project, port):
        yield url


def _steps(flow: Flow, issuer: Issuer, server: str) -> list[tuple[str, str, int]]:
    """The client's exchanges as (method, where, status); ``where`` is the path, prefixed
    ``issuer`` for the issuer's."""
    steps = []
    for exchange in flow.exchanges:
        parts = urlsplit(exchange.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        where = "issuer" if origin == issuer.url else "appctl" if server.startswith(origin) else "?"
        steps.append((exchange.method, f"{where} {parts.path}", exchange.status))
    return steps


def test_the_sdk_client_signs_in_by_prm_discovery_and_calls(
    tmp_path: Path, issuer: Issuer, api: Upstream, server: str
) -> None:
    flow = Flow(account="alice")

    async def session() -> None:
        with anyio.fail_after(60):
            async with signed_in_client(server, flow) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                assert {"whoami", "list_orders", "create_order"} <= names
                called = await client.call_tool("whoami", {})
                assert not called.is_error, called

    anyio.run(session)
    steps = _steps(flow, issuer, server)
    assert steps[0] == ("POST", "appctl /mcp", 401)
    challenge = flow.exchanges[0].challenge or ""
    prm = server.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    assert f'resource_metadata="{prm}"' in challenge
    discovery = steps[1 : steps.index(("POST", "issuer /token", 200)) + 1]
    assert discovery[0] == ("GET", "appctl /.well-known/oauth-protected-resource/mcp", 200)
    metadata = [s for s in discovery if s[1].startswith("issuer /.well-known/")]
    assert metadata and metadata[-1][2] == 200  # RFC 8414 or OIDC discovery, as the SDK tries
    assert discovery[-2:] == [("POST", "issuer /reg", 201), ("POST", "issuer /token", 200)]
    after = steps[len(discovery) + 1 :]
    assert after and all(s[:2] != ("POST", "appctl /mcp") or s[2] < 400 for s in after)

    [authorization] = flow.authorization_urls
    asked = parse_qs(urlsplit(authorization).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["resource"] == [server]
    assert set(asked["scope"][0].split()) == {"appctl:read", "appctl:write"}
    assert flow.tokens is not None
    token = flow.tokens.access_token
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == server and claims["sub"] == "alice" and claims["iss"] == issuer.url
    # the MCP client's token went to appctl only, never on to the API
    [whoami] = [s for s in api.seen if s.path == "/whoami"]
    assert token not in json.dumps(whoami.headers)
    assert _callers(tmp_path) == ["alice"]


def _callers(root: Path) -> list[str | None]:
    """Who the history says made each call (the project is ``root/app``)."""
    history = History(f"sqlite:///{root / 'app' / '.appctl' / 'history.db'}")
    try:
        return [e.caller for e in history.entries(last=100)]
    finally:
        history.close()


def _lines(stream: Any, into: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):
        into.put(line)
    into.put("")


@dataclass
class Inspector:
    proc: subprocess.Popen[str]
    stderr: queue.Queue[str]
    terminal: int  # the person's side of its stdin: open while it runs


def _inspector(tmp_path: Path, *args: str) -> Inspector:
    """The Inspector CLI with a terminal on its stdin (a person is present, so it may run
    interactive OAuth), told not to open a browser: it prints the URL to visit on stderr."""
    if not INSPECTOR.exists():
        pytest.skip("@modelcontextprotocol/inspector is not installed: run scripts/setup")
    home = tmp_path / "inspector-home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),  # its catalog, client config and OAuth state stay in tmp_path
        "MCP_AUTO_OPEN_ENABLED": "false",
        "MCP_INSPECTOR_SECRET_STORE": "memory",  # its OAuth tokens never reach a file
        "NO_COLOR": "1",
    }
    terminal, person = pty.openpty()
    proc = subprocess.Popen(
        [str(INSPECTOR), "--cli", *args],
        stdin=person,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    os.close(person)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    threading.Thread(target=_lines, args=(proc.stderr, lines), daemon=True).start()
    return Inspector(proc, lines, terminal)


def _visit_url(lines: queue.Queue[str]) -> str:
    said = []
    while True:
        line = lines.get(timeout=60)
        said.append(line)
        assert line, f"the inspector ended without asking for a login: {''.join(said)}"
        found = re.search(r"Please navigate to: (\S+)", line)
        if found:
            return found.group(1)


def test_the_inspector_cli_signs_in_by_prm_discovery_and_calls(
    tmp_path: Path, issuer: Issuer, api: Upstream, server: str
) -> None:
    callback = f"http://127.0.0.1:{free_port()}/oauth/callback"
    args = ("--server-url", server, "--transport", "http", "--callback-url", callback)
    method = ("--method", "tools/call", "--tool-name", "whoami", "--format", "json")
    inspector = _inspector(tmp_path, *args, *method)
    proc = inspector.proc
    try:
        authorization = _visit_url(inspector.stderr)
        asked = parse_qs(urlsplit(authorization).query)
        assert asked["code_challenge_method"] == ["S256"] and asked["resource"] == [server]
        back = login(authorization, account="alice", redirect_uri=callback)
        assert httpx.get(back.url, timeout=30).status_code == 200  # its listener took the code
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        os.close(inspector.terminal)
    assert proc.returncode == 0, out
    result = json.loads(out)["result"]
    assert result["structuredContent"]["status"] == 200, result
    assert _callers(tmp_path) == ["alice"]  # signed in as the account the login step named
    [whoami] = [s for s in api.seen if s.path == "/whoami"]
    assert "authorization" not in whoami.headers  # its token stayed with appctl
