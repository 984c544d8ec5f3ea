"""Who is calling: the identity every call carries into the gates, the credentials and the audit.

A front end makes one ``Caller`` per request: ``appctl call`` / ``run`` / ``chat`` the local
OS user (``local_caller``); ``appctl serve`` and ``appctl mcp --transport http`` the subject
of the token the request presented (or ``ANONYMOUS`` on loopback without authentication).
``Caller.name`` is what the history records and policy rules match (``match: {caller: ...}``).

The caller also carries what only this request has: the values of the pass-through headers
config.yaml names for per-user upstream credentials (``headers``, lower-case names) and the
inbound bearer token (``token``, forwarded upstream only where config says so for a scheme).
Neither is ever shown: both are left out of ``repr`` and redacted from every output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

CallerKind = Literal["local", "token", "oauth", "anonymous"]


@dataclass(frozen=True, slots=True)
class Caller:
    """One authenticated (or local) caller.

    ``subject``: the OS user (local), the static token's configured name (token), the
    token's subject claim (oauth), or "anonymous". ``groups``: roles and groups from the
    token's claims or the static token's config. ``scopes``: the OAuth scopes granted.
    ``read_only``: the caller's scopes allow reads only (a gate like ``--read-only``)."""

    subject: str
    kind: CallerKind
    groups: tuple[str, ...] = ()
    scopes: frozenset[str] = frozenset()
    read_only: bool = False
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    token: str | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The caller as the audit history records it and ``match: {caller: ...}`` sees it:
        ``local:<user>`` for the CLI, else the subject (``anonymous`` unauthenticated)."""
        return f"local:{self.subject}" if self.kind == "local" else self.subject

    def secrets(self) -> tuple[str, ...]:
        """The values this caller brought that no output may show."""
        values = [v for v in self.headers.values() if v]
        if self.token:
            values.append(self.token)
        return tuple(values)


ANONYMOUS = Caller(subject="anonymous", kind="anonymous")


def local_caller(environ: Mapping[str, str]) -> Caller:
    """The person at this terminal: the OS user name (``USER``/``LOGNAME``, else the
    password database's entry for this process), or ``local:unknown``."""
    for variable in ("USER", "LOGNAME", "USERNAME"):
        name = environ.get(variable, "").strip()
        if name:
            return Caller(subject=name, kind="local")
    try:
        import getpass

        return Caller(subject=getpass.getuser(), kind="local")
    except Exception:  # no entry for this uid (a container), no variables
        return Caller(subject="unknown", kind="local")
