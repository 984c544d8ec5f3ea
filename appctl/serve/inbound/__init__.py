"""Inbound authentication for ``appctl serve`` and ``appctl mcp --transport http``.

``settings`` the ``inbound:`` config model; ``verify`` who a bearer token names (static
tokens, OAuth 2.1 access tokens); ``jwks`` the issuer's keys; ``middleware`` the one ASGI
middleware both servers run (challenges, the RFC 9728 metadata document, the caller).

A handler learns who is calling from ``current_caller()`` (set by ``InboundAuth`` for the
request being served), or from ``request_caller(request)`` where the work runs outside the
request's context (the MCP SDK runs handlers in its session's task).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from appctl.execute.caller import ANONYMOUS, Caller

CALLER_KEY = "appctl.caller"  # where InboundAuth leaves the caller in the ASGI scope
_CURRENT: ContextVar[Caller] = ContextVar("appctl_caller", default=ANONYMOUS)


def current_caller() -> Caller:
    """The caller of the request being served (ANONYMOUS outside one)."""
    return _CURRENT.get()


def request_caller(request: Any) -> Caller | None:
    """The caller ``InboundAuth`` found for ``request`` (a Starlette request, or anything
    with an ASGI ``scope``); None when the request did not come through it (stdio), so
    that the session's own caller (the local user) applies."""
    scope = getattr(request, "scope", None)
    found = scope.get(CALLER_KEY) if isinstance(scope, dict) else None
    return found if isinstance(found, Caller) else None
