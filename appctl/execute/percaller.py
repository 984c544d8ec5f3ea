"""Per-user upstream credentials: a scheme's value taken from the caller, not the environment.

A credential reference (``contract.auth.check_reference``) is resolved per call:

- ``env:NAME``: the variable in appctl's environment (every caller shares it);
- ``header:NAME``: the value the caller sent appctl in that request header (a server front
  end keeps only the headers ``contract.auth.wanted_headers`` names, in ``Caller.headers``);
- ``caller:token``: the caller's own inbound bearer token, forwarded upstream: the explicit
  per-scheme opt-in; without it the inbound token never leaves appctl.

``execute.auth.choose`` applies the first requirement whose credentials all resolve, as for
``env:`` alone; a requirement that needs what this caller did not bring is described by
``wanted`` (what to send, and how; a CLI caller is told that the credential is each caller's
own and comes through ``appctl serve`` or ``appctl mcp --transport http``). There is no
``env:`` fallback inside one reference: a config that wants one gives a second scheme with an
``env:`` reference and ``apply_to`` the same tools, and the first requirement that resolves
wins (so a caller without the header then uses the shared credential, as that config says).

What a caller brings is never shown: ``secrets`` gives the values as each scheme sends them,
so every output of the call (result, error, dry run, history) is redacted of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from appctl.contract.auth import CALLER_TOKEN, HEADER_REF
from appctl.contract.models import AuthScheme
from appctl.execute.caller import Caller
from appctl.execute.redact import Secret, scheme_secrets


def resolve(ref: str, environ: Mapping[str, str], caller: Caller | None) -> str | None:
    """The value a reference stands for in this call, or None when it is not available."""
    if ref.startswith("env:"):
        return environ.get(ref[4:]) or None
    if caller is None:
        return None
    if ref.startswith(HEADER_REF):
        return caller.headers.get(header_of(ref).lower()) or None
    if ref == CALLER_TOKEN:
        return caller.token or None
    return None


def header_of(ref: str) -> str:
    """The header a ``header:NAME`` reference names, as config.yaml spells it."""
    return ref[len(HEADER_REF) :].strip()


def per_user(scheme: AuthScheme) -> bool:
    return any(not ref.startswith("env:") for ref in scheme.credentials.values())


def wanted(scheme: AuthScheme, refs: Iterable[str], caller: Caller | None) -> str:
    """What this caller must bring for ``refs`` (per-user references of ``scheme`` that did
    not resolve), said so that the caller can act on it: a server's caller what to send with
    its requests; a CLI caller that the credential is each caller's own, brought through a
    server."""
    headers = [header_of(r) for r in refs if r.startswith(HEADER_REF)]
    header = f"the {' and '.join(headers)} header{'s' * (len(headers) > 1)}"
    token = CALLER_TOKEN in refs
    what = _named(scheme)
    if caller is None or caller.kind == "local":
        means = [f"sending it in {header}"] if headers else []
        means += ["authenticating with your own bearer token"] if token else []
        return (
            f"your own {what}, taken from each caller: call this tool through appctl serve "
            f"or appctl mcp --transport http, {' and '.join(means)}"
        )
    asks = [f"send your own {what} in {header} of your requests to appctl"] if headers else []
    if token:
        asks.append(
            f"authenticate to appctl with your own bearer token ({scheme.name} forwards it)"
        )
    return " and ".join(asks)


def _named(scheme: AuthScheme) -> str:
    """A short description config.yaml gives the scheme ("GitHub token"), else its name."""
    text = scheme.description.strip()
    if text and len(text) <= 60 and "\n" not in text:
        return f"{text} ({scheme.name})"
    return f"{scheme.name} credential"


def secrets(schemes: Iterable[AuthScheme], caller: Caller | None) -> list[Secret]:
    """What this caller brought, in every form a call may echo it: each per-user scheme's
    values as that scheme sends them, and the caller's own values (pass-through headers,
    inbound token) wherever they stand."""
    if caller is None:
        return []
    out: list[Secret] = []
    for scheme in schemes:
        if not per_user(scheme):
            continue
        values = {
            role: value
            for role, ref in scheme.credentials.items()
            if not ref.startswith("env:") and (value := resolve(ref, {}, caller))
        }
        if values:
            if scheme.type == "basic":
                values = {"username": "", "password": "", **values}
            out += scheme_secrets(scheme, values)
    out += [Secret(value) for value in caller.secrets()]
    return out
