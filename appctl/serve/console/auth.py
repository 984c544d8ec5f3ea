"""Who is using the console: sign-in, the signed session cookie, CSRF tokens and roles.

A browser holds one cookie (``appctl_console``): the signed-in caller (subject, kind,
groups, read-only: never a token or a pass-through header), a CSRF token and an expiry,
as ``base64url(json).base64url(hmac-sha256)``. The key is derived from the cursor key
(``session/keys.py``: ``cursors.key`` or ``.appctl/cursor.key``), so every server behind one
load balancer that shares the cursor key also accepts each other's console cookies. The
cookie is HttpOnly, SameSite=Strict and Secure (browsers keep Secure cookies for
``http://127.0.0.1`` and ``http://localhost``, which they treat as secure origins).

Sign-in takes a bearer token and asks the server's own verifier (``ServeState.verifier``,
``serve/inbound``: the serve token, ``inbound.tokens`` and OAuth access tokens, each
checked as on every API request). A loopback server without one needs no sign-in:
its console user is the server's OS user, with every role. The cookie keeps the caller's
name, kind, groups and read-only flag, not the token nor the pass-through headers: a call
from the console carries no per-user upstream credential (``header:``, ``caller:token``).

Roles come from config.yaml's ``console:`` (``approvers``/``viewers``: globs on
``Caller.name``, or ``group:GLOB`` on any group): viewers browse and dry-run; approvers
also call tools and decide pending approvals. Without ``approvers`` every caller the
server lets in approves (as ``POST /approvals/{id}`` lets them, ``serve/approvals.py``),
except a read-only one.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from appctl.config import ConsoleSettings
from appctl.execute.caller import Caller

COOKIE = "appctl_console"
TTL = 8 * 3600.0  # seconds a sign-in lasts
_DOMAIN = b"appctl console cookie v1"


@dataclass(frozen=True, slots=True)
class Visitor:
    """One browser: who signed in (None: nobody yet), its CSRF token, and until when."""

    caller: Caller | None
    csrf: str
    expires: float


@dataclass(frozen=True, slots=True)
class Roles:
    viewer: bool
    approver: bool


EVERY_ROLE = Roles(viewer=True, approver=True)


def cookie_key(secret: bytes) -> bytes:
    """The cookie key, derived from the cursor key (one secret to share and rotate)."""
    return hmac.new(secret, _DOMAIN, hashlib.sha256).digest()


class Cookies:
    """Seals and opens console cookies with one key."""

    def __init__(
        self, key: bytes, *, ttl: float = TTL, clock: Callable[[], float] = time.time
    ) -> None:
        self._key, self.ttl, self._clock = key, ttl, clock

    def fresh(self, caller: Caller | None) -> Visitor:
        return Visitor(caller, secrets.token_urlsafe(24), self._clock() + self.ttl)

    def seal(self, visitor: Visitor) -> str:
        caller = visitor.caller
        body: dict[str, Any] = {"c": visitor.csrf, "e": round(visitor.expires, 3)}
        if caller is not None:
            body |= {
                "s": caller.subject,
                "k": caller.kind,
                "g": list(caller.groups),
                "r": caller.read_only,
            }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return payload + "." + _b64(self._mac(payload))

    def open(self, value: str | None) -> Visitor | None:
        """The visitor a cookie holds; None when it is missing, forged, malformed or expired."""
        if not value or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        try:
            given = _unb64(mac)
            if not hmac.compare_digest(given, self._mac(payload)):
                return None
            body = json.loads(_unb64(payload))
            return self._visitor(body)
        except (ValueError, TypeError, KeyError, binascii.Error):
            return None

    def _visitor(self, body: Mapping[str, Any]) -> Visitor | None:
        expires = float(body["e"])
        if expires <= self._clock() or not isinstance(body["c"], str):
            return None
        caller = None
        if "s" in body:
            kind = body["k"]
            if kind not in ("token", "oauth"):  # only a sign-in makes a cookie name someone
                return None
            groups = tuple(str(g) for g in body["g"])
            caller = Caller(
                subject=str(body["s"]), kind=kind, groups=groups, read_only=bool(body["r"])
            )
        return Visitor(caller, body["c"], expires)

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()


def csrf_ok(visitor: Visitor | None, given: str | None) -> bool:
    """Whether a form's CSRF token is the one this browser's cookie holds."""
    if visitor is None or not given:
        return False
    return hmac.compare_digest(visitor.csrf.encode(), given.encode())


def roles_of(caller: Caller, settings: ConsoleSettings) -> Roles:
    """The caller's roles: ``approvers`` unset lets every caller approve but a read-only
    one (whose scopes allow no writes)."""
    named = settings.approvers
    approver = not caller.read_only and (named is None or _named(caller, named))
    return Roles(viewer=approver or _named(caller, settings.viewers), approver=approver)


def _named(caller: Caller, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("group:"):
            glob = pattern[len("group:") :]
            if any(fnmatch.fnmatchcase(g, glob) for g in caller.groups):
                return True
        elif fnmatch.fnmatchcase(caller.name, pattern):
            return True
    return False


def bare(token: str) -> str:
    """A pasted token without spaces around it or a leading ``Bearer ``."""
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[len("bearer ") :].strip()
    return token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
