"""Which credentials one call sends, chosen before any I/O (pure: the environment comes in).

The action's requirements are the schemes ``auth.schemes`` in config.yaml adds for it, then
its effective security (``contract.auth``). The first requirement whose credentials are all
set (``env:``, or per-user ones the caller brought: ``execute.percaller``) is applied, and
only its schemes; when none is, the call goes out without credentials if the list allows
that (it is empty or holds ``{}``), else it is refused with category ``auth`` naming the
variables to set. Credentials go only to the origin of the base URL the call uses (or to an
origin config.yaml lists under ``auth.allowed_origins``): an operation whose own ``servers``
entry is elsewhere gets none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from appctl.contract.auth import AuthSettings, added_requirements, effective_security, origin_of
from appctl.contract.models import Action, AuthScheme, Contract
from appctl.execute.caller import Caller
from appctl.execute.percaller import resolve, wanted
from appctl.execute.redact import Redactor as Redactor
from appctl.execute.redact import Secret, redactor_for, scheme_secrets

NO_SETTINGS = AuthSettings()


class AuthRefused(Exception):
    """No requirement of the action can be met; the message says what to set."""


@dataclass(frozen=True, slots=True)
class Chosen:
    """The schemes one call applies, their resolved values, and how a dry run shows it."""

    schemes: tuple[AuthScheme, ...] = ()
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    shown: str = "none"


def scheme_values(
    scheme: AuthScheme, environ: Mapping[str, str], caller: Caller | None = None
) -> dict[str, str] | None:
    """The scheme's resolved values (``env:`` from the environment, per-user references from
    the caller: ``execute.percaller``), or None unless every one of them is set."""
    if scheme.type == "other" or not scheme.credentials:
        return None
    values = {}
    for role, ref in scheme.credentials.items():
        value = resolve(ref, environ, caller)
        if not value:
            return None
        values[role] = value
    return values


def all_schemes(schema: Contract, settings: AuthSettings) -> dict[str, AuthScheme]:
    """The contract's schemes by name, with config.yaml's added (or redefining) ones."""
    schemes = {s.name: s for s in schema.auth.schemes}
    for name, added in settings.schemes.items():
        schemes[name] = added.scheme(name)
    return schemes


def secrets(
    schema: Contract, settings: AuthSettings, environ: Mapping[str, str]
) -> frozenset[Secret]:
    """Every credential value this contract's calls may send (all schemes, set or not used),
    and the database password: what every output of a call is redacted of."""
    out: list[Secret] = []
    for scheme in all_schemes(schema, settings).values():
        values = {
            role: environ[ref[4:]]
            for role, ref in scheme.credentials.items()
            if ref.startswith("env:") and environ.get(ref[4:])
        }
        if values:
            if scheme.type == "basic":
                values = {"username": "", "password": "", **values}
            out += scheme_secrets(scheme, values)
    if schema.database is not None:
        out += _database_secret(schema.database.url, schema.database.password, environ)
    if schema.mcp_servers:
        out += _mcp_secrets(schema, environ)
    return frozenset(s for s in out if s.value)


MIN_PASSED_SECRET = 8  # a variable passed to a stdio MCP server shorter than this (a flag,
# a locale) is not taken for a credential: hiding "1" everywhere would garble every answer


def _mcp_secrets(schema: Contract, environ: Mapping[str, str]) -> list[Secret]:
    """What an MCP server is given: its headers and bearer token (HTTP), and the values of
    the variables passed to it (stdio), which are most often its API keys."""
    out: list[Secret] = []
    for server in schema.mcp_servers.values():
        if server.bearer is not None:
            token = environ.get(server.bearer[4:], "")
            out.append(Secret(token, "header", "Authorization", "Bearer"))
        for header, ref in server.headers.items():
            out.append(Secret(environ.get(ref[4:], ""), "header", header))
        for name in server.env:
            value = environ.get(name, "")
            if len(value) >= MIN_PASSED_SECRET:
                out.append(Secret(value))
    return out


def _database_secret(url: str, ref: str | None, environ: Mapping[str, str]) -> list[Secret]:
    """The database password from wherever a call would take it (``credentials.py``)."""
    from appctl.sync.db.credentials import family_of, find_password

    named = ref[4:] if ref and ref.startswith("env:") else None
    found = find_password(family_of(url.split(":", 1)[0]), password_env=named, environ=environ)
    return [Secret(found, "url")] if found else []


def redactor(
    schema: Contract,
    settings: AuthSettings,
    environ: Mapping[str, str],
    caller: Caller | None = None,
) -> Redactor:
    """What hides every credential of this contract's calls, and what ``caller`` brought."""
    found = secrets(schema, settings, environ)
    if caller is not None:
        from appctl.execute.percaller import secrets as brought

        found = found | frozenset(brought(all_schemes(schema, settings).values(), caller))
    return redactor_for(found)


def choose(
    schema: Contract,
    action: Action,
    resource: str,
    *,
    settings: AuthSettings,
    environ: Mapping[str, str],
    base_url: str,
    url: str,
    caller: Caller | None = None,
) -> Chosen:
    """The credentials this call sends to ``url`` (the operation's own server, else the base
    URL); ``AuthRefused`` when it needs some it cannot have. ``caller`` brings the values of
    per-user references (``execute.percaller``)."""
    schemes = all_schemes(schema, settings)
    declared = {s.name: s for s in schema.auth.schemes}
    requirements = [
        *added_requirements(settings.schemes, declared, action, resource),
        *effective_security(schema, action),
    ]
    if not requirements:
        return Chosen(shown="none: the operation asks for no credentials")
    origin = origin_of(url)
    trusted = origin == origin_of(base_url) or origin in settings.allowed_origins
    problems: list[str] = []
    for requirement in requirements:
        if not requirement:
            continue
        found = _satisfied(requirement, schemes, environ, problems, caller)
        if found is not None and trusted:
            names = " + ".join(f"{s.name} ({_kind(s)})" for s in found.schemes)
            return Chosen(found.schemes, found.values, names)
    if any(not r for r in requirements):
        why = "none: no credentials are set and the operation allows anonymous calls"
        if not trusted:
            why = (
                f"none: {origin} is not the base URL's origin; the operation allows anonymous calls"
            )
        return Chosen(shown=why)
    if not trusted:
        raise AuthRefused(
            f"{action.name} is sent to {origin}, not to the base URL's origin "
            f"{origin_of(base_url)}, and credentials go only there; list {origin} under "
            "auth.allowed_origins in .appctl/config.yaml to send them to it"
        )
    raise AuthRefused(f"{action.name} needs credentials: " + ", or ".join(problems))


def _kind(scheme: AuthScheme) -> str:
    if scheme.type == "api_key":
        return f"api_key in {scheme.location or 'header'} {scheme.param_name}"
    return scheme.type


def _satisfied(
    requirement: Mapping[str, list[str]],
    schemes: Mapping[str, AuthScheme],
    environ: Mapping[str, str],
    problems: list[str],
    caller: Caller | None = None,
) -> Chosen | None:
    """The requirement's schemes and values when every one is set; else None, with what is
    missing added to ``problems``."""
    found: list[AuthScheme] = []
    values: dict[str, dict[str, str]] = {}
    missing: list[str] = []
    brought: list[str] = []  # what the caller did not bring (execute.percaller)
    slots: dict[tuple[str, str], str] = {}  # (where, name) → scheme: two may not share one
    for name in requirement:
        scheme = schemes.get(name)
        if scheme is None:
            problems.append(
                f"(the document names no scheme {name!r}: define it under auth.schemes)"
            )
            return None
        if scheme.type == "other" or not scheme.credentials:
            problems.append(
                f"(scheme {name!r} is {scheme.http_scheme or scheme.type}, which appctl cannot "
                "send: add a scheme it can under auth.schemes in .appctl/config.yaml)"
            )
            return None
        slot = (scheme.location or "header", (scheme.param_name or "Authorization").lower())
        if slot in slots:
            problems.append(f"(schemes {slots[slot]!r} and {name!r} both set {slot[1]})")
            return None
        slots[slot] = name
        got = scheme_values(scheme, environ, caller)
        if got is None:
            left = [r for r in scheme.credentials.values() if not resolve(r, environ, caller)]
            missing += [ref[4:] for ref in left if ref.startswith("env:")]
            own = [ref for ref in left if not ref.startswith("env:")]
            if own:
                brought.append(wanted(scheme, own, caller))
        else:
            found.append(scheme)
            values[name] = got
    if missing or brought:
        needs = (["set " + " and ".join(missing)] if missing else []) + brought
        problems.append(" and ".join(needs) + f" ({' + '.join(requirement)})")
        return None
    return Chosen(tuple(found), values)
