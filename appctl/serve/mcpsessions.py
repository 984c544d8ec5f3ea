"""The session id an MCP client's calls are recorded under when the protocol gives none.

On the handshake versions (2024-11-05 … 2025-11-25) Streamable HTTP names each client's
session in the ``mcp-session-id`` header, and that is the id. On 2026-07-28 every request is
a self-contained POST: no handshake, no session header, a fresh SDK connection object per
request, and ``clientInfo`` is optional (and the same for two clients of one SDK). What still
tells clients apart, in order:

1. ``x-appctl-session``, an id the client chooses (as ``appctl serve`` takes it): kept as the
   history keeps ids, at most 64 of ``[A-Za-z0-9._:-]``;
2. the authenticated caller (a token's subject): one id per caller and server process,
   the same across reconnections (``<process>-u<digest of the name>``);
3. else (anonymous) the TCP connection the request came on: one id per connection
   (``<process>-c<digest of the peer address>``), so two clients never share one; a client
   that reconnects after its connection idled out starts a new one.

Digests, not the names: a caller's name or address is recorded in its own column, and an
id stays within the column's 64 characters whatever the name.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from appctl.execute.caller import Caller

CLIENT_SESSION_HEADER = "x-appctl-session"
_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]")


def client_session(process: str, request: Any, caller: Caller | None) -> str:
    """The id for a request that carries no MCP session (``request``: the HTTP request)."""
    chosen = _UNSAFE.sub("", str(request.headers.get(CLIENT_SESSION_HEADER) or ""))[:64]
    if chosen:
        return chosen
    process = process[:48]  # the digest always fits the history's 64 characters
    if caller is not None and caller.kind in ("token", "oauth"):
        return f"{process}-u{_digest(caller.name)}"
    peer = getattr(request, "client", None)
    if peer is None:  # no peer address (a test transport): the process's, as on stdio
        return process
    return f"{process}-c{_digest(f'{peer.host}:{peer.port}')}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
