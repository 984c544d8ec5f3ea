"""The official MCP Python SDK client signing in to an MCP server the way Claude, Cursor and
VS Code do: its ``OAuthClientProvider`` on a 401 reads the ``WWW-Authenticate``
``resource_metadata``, fetches the Protected Resource Metadata, then the issuer's metadata,
registers itself (RFC 7591), sends the person to the authorization endpoint (PKCE, RFC 8707
``resource``) and trades the code for a token. The "person" here is ``oidc.login``: it
follows the authorization URL through the issuer's login step as ``account``.

``Flow`` records every HTTP exchange the client made (method, URL, status, and the
``WWW-Authenticate`` of a 401) and the authorization URL it sent the person to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.identity.oidc import login

REDIRECT = "http://127.0.0.1:19790/callback"  # never listened on: login() stops before it


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    status: int
    challenge: str | None


@dataclass
class Flow:
    account: str
    exchanges: list[Exchange] = field(default_factory=list)
    authorization_urls: list[str] = field(default_factory=list)
    tokens: OAuthToken | None = None


class MemoryStorage:
    """The SDK's ``TokenStorage``, kept in this object."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.flow.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.flow.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def provider(url: str, flow: Flow) -> OAuthClientProvider:
    """The SDK's OAuth provider for the MCP server at ``url``, signing in as ``flow.account``."""
    pending: list[str] = []

    async def redirect(authorization_url: str) -> None:
        flow.authorization_urls.append(authorization_url)
        pending.append(authorization_url)

    async def callback() -> AuthorizationCodeResult:
        authorization_url = pending.pop()
        back = await anyio.to_thread.run_sync(
            lambda: login(authorization_url, account=flow.account, redirect_uri=REDIRECT)
        )
        return AuthorizationCodeResult(code=back.code, state=back.state, iss=back.iss)

    metadata = OAuthClientMetadata(
        client_name="appctl identity test",
        redirect_uris=[REDIRECT],  # type: ignore[list-item]
        grant_types=["authorization_code"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    return OAuthClientProvider(
        server_url=url,
        client_metadata=metadata,
        storage=MemoryStorage(flow),
        redirect_handler=redirect,
        callback_handler=callback,
    )


@asynccontextmanager
async def signed_in_client(url: str, flow: Flow) -> AsyncIterator[Client]:
    """An MCP ``Client`` on ``url`` whose HTTP client runs the OAuth flow when challenged."""

    async def record(response: httpx2.Response) -> None:
        challenge = response.headers.get("www-authenticate")
        request = response.request
        flow.exchanges.append(
            Exchange(request.method, str(request.url), response.status_code, challenge)
        )

    http = httpx2.AsyncClient(
        auth=provider(url, flow),
        timeout=httpx2.Timeout(30, read=60),
        event_hooks={"response": [record]},
    )
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client


@asynccontextmanager
async def bearer_client(url: str, token: str, **headers: str) -> AsyncIterator[Client]:
    """An MCP ``Client`` on ``url`` sending ``token`` (one the test got from the issuer) and
    ``headers`` on every request, as a client configured with a token does."""
    sent = {"Authorization": f"Bearer {token}", **headers}
    http = httpx2.AsyncClient(headers=sent, timeout=httpx2.Timeout(30, read=60))
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client
