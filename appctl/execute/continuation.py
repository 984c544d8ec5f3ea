"""Opaque continuation handles: what a model passes back to go on where a call stopped.

A handle (a cursor of the next page, the handle of a long-running operation) carries state
appctl needs to continue — the last row's order values, the server's next link — and is
signed (HMAC-SHA256, truncated to 128 bits) so that neither a model nor a prompt injection
in the data can forge or edit one. It is bound to the tool and to the caller's other
arguments (a hash of them), and it expires. ``Sealer.open`` checks all of that before any
I/O and raises ``CursorError`` saying what is wrong and how to start over.

The format is ``c1.<payload>.<mac>``, both parts unpadded base64url; the payload is compact
JSON ``{"t": tool, "a": arguments hash, "e": expiry (Unix seconds), "s": state}``. The state
is signed, not encrypted: it holds nothing the caller may not see.

Takes a key and values, returns strings and values: no I/O (``session/keys.py`` finds the key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

CURSOR_ARG = "cursor"  # the argument a continuation comes back in; not part of the binding
DEFAULT_TTL = 3600.0
PREFIX = "c1"
MAC_BYTES = 16
MIN_KEY_BYTES = 16
_DOMAIN = b"appctl-continuation-v1\x00"


class CursorError(Exception):
    """A continuation that cannot be used; the message says why and how to start over, and
    ``reason`` says it for code: ``forged`` (not signed by this key: changed, cut short, made
    up, another installation's), ``tool`` (another tool's), ``arguments`` (issued for other
    arguments), ``expired``, ``damaged`` (signed, but holding no state)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def binding(arguments: Mapping[str, Any]) -> str:
    """A short hash of the arguments besides the cursor (canonical JSON: keys sorted)."""
    rest = {k: v for k, v in arguments.items() if k != CURSOR_ARG}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return _b64(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:12])


@dataclass(frozen=True, slots=True)
class Sealer:
    """Signs and checks continuations with one key. ``ttl``: seconds a handle stays valid.

    ``key`` is the key; or ``source`` makes it when first needed (a key file created on
    first use, not by every command that opens the app dir)."""

    key: bytes = b""
    ttl: float = DEFAULT_TTL
    source: Callable[[], bytes] | None = field(default=None, compare=False, repr=False)
    _made: list[bytes] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        if (self.key or self.source is None) and len(self.key) < MIN_KEY_BYTES:
            raise ValueError(f"a continuation key needs at least {MIN_KEY_BYTES} bytes")

    def secret(self) -> bytes:
        if self.key:
            return self.key
        if not self._made:  # two threads may both make it: the source is idempotent
            assert self.source is not None
            made = self.source()
            if len(made) < MIN_KEY_BYTES:
                raise ValueError(f"a continuation key needs at least {MIN_KEY_BYTES} bytes")
            self._made.append(made)
        return self._made[0]

    def _mac(self, payload: str) -> bytes:
        digest = hmac.new(self.secret(), _DOMAIN + payload.encode("ascii"), hashlib.sha256)
        return digest.digest()[:MAC_BYTES]

    def seal(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        state: Mapping[str, Any],
        *,
        now: float | None = None,
    ) -> str:
        expires = int((time.time() if now is None else now) + self.ttl)
        body = {"t": tool, "a": binding(arguments), "e": expires, "s": dict(state)}
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)
        payload = _b64(text.encode("utf-8", "surrogatepass"))
        return f"{PREFIX}.{payload}.{_b64(self._mac(payload))}"

    def open(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        token: str,
        *,
        now: float | None = None,
    ) -> dict[str, Any]:
        """The state sealed in ``token``, after checking its signature, tool, arguments and
        expiry (in that order: nothing in an unsigned token is believed)."""
        restart = f"call {tool} again without {CURSOR_ARG} to start from the first page"
        body = self._verified(token, restart)
        if body.get("t") != tool:
            raise CursorError(
                f"{CURSOR_ARG} belongs to the tool {body.get('t')!r}, not {tool}: pass a "
                f"{CURSOR_ARG} only to the tool that returned it, or {restart}",
                reason="tool",
            )
        if body.get("a") != binding(arguments):
            raise CursorError(
                f"{CURSOR_ARG} was issued for other arguments: repeat the arguments of the "
                f"call that returned it unchanged (only {CURSOR_ARG} changes), or {restart}",
                reason="arguments",
            )
        expires = body.get("e")
        moment = time.time() if now is None else now
        if not isinstance(expires, int) or moment > expires:
            ago = f" {int(moment - expires)} s ago" if isinstance(expires, int) else ""
            raise CursorError(
                f"{CURSOR_ARG} expired{ago} (they last {self.ttl:g} s): {restart}", reason="expired"
            )
        state = body.get("s")
        if not isinstance(state, dict):
            raise CursorError(f"{CURSOR_ARG} is damaged: {restart}", reason="damaged")
        return state

    def _verified(self, token: Any, restart: str) -> dict[str, Any]:
        forged = CursorError(
            f"{CURSOR_ARG} is not one appctl issued (it was changed, cut short or made up, "
            f"or it comes from another installation): pass it back exactly as it was "
            f"returned, or {restart}",
            reason="forged",
        )
        if not isinstance(token, str) or not token.isascii():
            raise forged
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise forged
        payload, mac = parts[1], parts[2]
        try:
            given = _unb64(mac)
            expected = self._mac(payload)
        except (ValueError, UnicodeEncodeError):
            raise forged from None
        if not hmac.compare_digest(given, expected):
            raise forged
        try:
            body = json.loads(_unb64(payload).decode("utf-8", "surrogatepass"))
        except (ValueError, UnicodeDecodeError):
            raise forged from None
        if not isinstance(body, dict):
            raise forged
        return body


@cache
def process_sealer() -> Sealer:
    """A sealer with a key of this process only: for library use without an app dir (its
    handles do not outlive the process)."""
    return Sealer(os.urandom(32))
