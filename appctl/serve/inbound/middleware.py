"""``InboundAuth``: the ASGI middleware in front of ``appctl serve`` and the MCP Streamable
HTTP app. For each HTTP request it

- answers ``GET /.well-known/oauth-protected-resource`` (and the form suffixed with the
  resource URL's path, ``.../mcp``) with the RFC 9728 metadata, when OAuth is configured;
- lets public paths (``/health``) through as the anonymous caller;
- else finds the caller from ``Authorization: Bearer``: 401 with a ``WWW-Authenticate``
  challenge (``resource_metadata`` and ``scope``; ``error="invalid_token"`` and why, when a
  token was refused), 403 ``insufficient_scope``, 503 when the issuer's keys cannot be had;
- sets the caller for the handlers: ``current_caller()``, the ASGI scope (``CALLER_KEY``),
  and ``scope["user"]`` as the MCP SDK's authenticated user, so that the SDK refuses a
  session to any other principal than the one that opened it (a session id is no bearer
  credential).

``Caller.headers`` keeps only the request headers config.yaml names as per-user credentials
(``wanted``), never ``authorization`` or cookies; ``Caller.token`` the bearer token.
Without a ``Verifier`` (loopback, nothing configured) every request is the anonymous caller.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from appctl.contract.inbound import OAuthSettings
from appctl.execute.caller import ANONYMOUS, Caller
from appctl.serve.inbound import _CURRENT, CALLER_KEY
from appctl.serve.inbound.jwks import RETRY_AFTER
from appctl.serve.inbound.verify import NO_TOKEN, Denied, Verifier, header_safe

Scope = dict[str, Any]
PRM_PATH = "/.well-known/oauth-protected-resource"
NEVER_KEPT = frozenset(("authorization", "cookie", "proxy-authorization"))


class InboundAuth:
    """Authenticates every HTTP request before ``app`` sees it."""

    def __init__(
        self,
        app: Any,
        verifier: Verifier | None,
        *,
        wanted: Iterable[str] = (),
        public: Iterable[str] = ("/health",),
        signs_in_itself: Callable[[str], bool] | None = None,
        name: str = "appctl",
    ) -> None:
        """``public``: paths open to anyone (as the anonymous caller); ``signs_in_itself``:
        a path prefix (the console's ``/ui``) whose pages sign their users in themselves
        (a cookie), so they reach it as anonymous and it decides."""
        self.app, self.verifier = app, verifier
        self.wanted = frozenset(h.lower() for h in wanted) - NEVER_KEPT
        self.public = frozenset(public)
        self.own = signs_in_itself or (lambda _path: False)
        oauth = verifier.oauth if verifier is not None else None
        self.documents = prm_documents(oauth, name=name) if oauth is not None else {}
        self.challenge = Challenge(oauth)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and self.verifier is not None:
            await send({"type": "websocket.close", "code": 1008})  # no route takes one
            return
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path in self.documents:
            await self._document(scope, send, self.documents[path])
            return
        headers = request_headers(scope)
        try:
            caller = await self._caller(path, headers)
        except Denied as denied:
            await self._refuse(send, denied)
            return
        caller = dataclasses.replace(caller, headers=kept(headers, self.wanted))
        scope[CALLER_KEY] = caller
        if caller.kind != "anonymous":
            scope["user"] = sdk_user(caller)
        reset = _CURRENT.set(caller)
        try:
            await self.app(scope, receive, send)
        finally:
            _CURRENT.reset(reset)

    async def _caller(self, path: str, headers: dict[str, str]) -> Caller:
        if self.verifier is None or path in self.public or self.own(path):
            return ANONYMOUS
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NO_TOKEN
        return await self.verifier.caller(token)

    async def _document(self, scope: Scope, send: Any, document: bytes) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            await respond(send, 405, b'{"error": {"message": "use GET"}}', [(b"allow", b"GET")])
            return
        cache = [(b"cache-control", b"public, max-age=3600")]
        await respond(send, 200, document, cache)

    async def _refuse(self, send: Any, denied: Denied) -> None:
        body = {"error": {"message": denied.description}}
        if denied.error:
            body["error"]["code"] = denied.error
        headers = []
        if denied.status == 503:
            headers.append((b"retry-after", str(RETRY_AFTER).encode()))
        else:
            headers.append((b"www-authenticate", self.challenge.header(denied).encode()))
        await respond(send, denied.status, json.dumps(body).encode(), headers)


class Challenge:
    """The ``WWW-Authenticate`` value of a refusal (RFC 6750 §3, RFC 9728 §5.1)."""

    def __init__(self, oauth: OAuthSettings | None) -> None:
        self.oauth = oauth
        self.metadata = metadata_url(oauth.resource) if oauth is not None else None

    def header(self, denied: Denied) -> str:
        params = []
        if self.oauth is None:
            params.append('realm="appctl"')
        if denied.error:
            params.append(f'error="{denied.error}"')
            params.append(f'error_description="{header_safe(denied.description)}"')
        if self.oauth is not None:
            params.append(f'resource_metadata="{self.metadata}"')
            params.append(f'scope="{self.oauth.scopes.read} {self.oauth.scopes.write}"')
        return "Bearer " + ", ".join(params)


def metadata_url(resource: str) -> str:
    """The resource's metadata URL: the well-known segment before its path (RFC 9728 §3.1)."""
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}{PRM_PATH}{parts.path.rstrip('/')}"


def prm_documents(oauth: OAuthSettings, *, name: str) -> dict[str, bytes]:
    """The RFC 9728 document, by each path it is served at (the root form, and the form
    suffixed with the resource's path, which MCP clients ask for first)."""
    document = {
        "resource": oauth.resource,
        "authorization_servers": [oauth.issuer],
        "scopes_supported": [oauth.scopes.read, oauth.scopes.write],
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": list(oauth.algorithms),
        "resource_name": name,
    }
    body = json.dumps(document, indent=2).encode()
    suffix = urlsplit(oauth.resource).path.rstrip("/")
    return {PRM_PATH: body, f"{PRM_PATH}{suffix}": body}


def request_headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (a repeated header: its first value)."""
    found: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        found.setdefault(name, raw_value.decode("latin-1"))
    return found


def kept(headers: dict[str, str], wanted: frozenset[str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name in wanted}


def sdk_user(caller: Caller) -> Any:
    """The MCP SDK's view of the caller: its session manager binds each session to the
    (client id, issuer, subject) that opened it."""
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken

    client = caller.claims.get("client_id") or caller.claims.get("azp") or caller.subject
    issuer = caller.claims.get("iss") or f"appctl:{caller.kind}"
    token = AccessToken(
        token="",  # the SDK needs no copy of the secret
        client_id=str(client),
        scopes=sorted(caller.scopes),
        subject=f"{caller.kind}:{caller.subject}",
        claims={"iss": str(issuer)},
    )
    return AuthenticatedUser(token)


async def respond(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    start = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})
