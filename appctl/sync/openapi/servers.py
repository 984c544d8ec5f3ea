"""Servers and security schemes → the contract's ``base_url`` and ``auth``.

Server variables are replaced by their defaults; a relative server URL is resolved against
the spec's URL when it came from one. Credentials become ``env:NAME`` references, never values.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from appctl.contract import baseurl
from appctl.contract.auth import userinfo_problem
from appctl.contract.models import Auth, AuthScheme
from appctl.contract.names import snake_case
from appctl.errors import Diagnostic, SourceError
from appctl.sync.openapi import swagger2

_VARIABLE = re.compile(r"\{([^{}]+)\}")
RELATIVE = "relative_server"  # a Diagnostic's kind: the document's server needs a host


def substitute(url: str, variables: Any) -> str:
    variables = variables if isinstance(variables, dict) else {}

    def value(match: re.Match[str]) -> str:
        var = variables.get(match.group(1))
        default = var.get("default") if isinstance(var, dict) else None
        return str(default) if default is not None else match.group(0)

    return _VARIABLE.sub(value, url)


def first_server(servers: Any) -> str | None:
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return None
    url = servers[0].get("url")
    return substitute(url, servers[0].get("variables")) if isinstance(url, str) else None


def server_urls(
    doc: dict[str, Any],
    *,
    swagger: bool,
    spec_url: str | None,
    diagnostics: list[Diagnostic],
    warn_relative: bool = True,
) -> list[str]:
    """The document's server URLs, in order, variables filled in with their defaults and
    relative ones resolved against the document's URL. A document read from a URL that names
    no server is served from there (OpenAPI 3: the default server is ``/``; Swagger 2.0: the
    host and scheme serving the document)."""
    if swagger:
        found = [swagger2.server_url(doc, spec_url=spec_url)]
        pointer = "/basePath"
    else:
        given = doc.get("servers")
        raw = given if isinstance(given, list) else []
        found = [
            substitute(s["url"], s.get("variables"))
            for s in raw
            if isinstance(s, dict) and isinstance(s.get("url"), str)
        ]
        pointer = "/servers/0/url"
    urls = [u for u in found if u is not None]
    if not urls and spec_url is not None:
        urls = ["/"]
    out: list[str] = []
    for i, url in enumerate(urls):
        if i and userinfo_problem(url):  # only the first is ever called: the rest are kept
            continue  # for comparison, and one with a password in it is not written down
        shown = normalize(
            url,
            spec_url=spec_url,
            diagnostics=diagnostics if warn_relative and i == 0 else [],
            pointer=pointer.replace("/0/", f"/{i}/"),
        )
        if shown is not None:
            out.append(shown)
    return out


def base_url(given: str | None, found: list[str]) -> str | None:
    """--base-url resolved against the servers (contract/baseurl.py), else the first server."""
    if given is not None:
        return baseurl.resolve(given, found)
    return found[0] if found else None


def normalize(
    url: str | None, *, spec_url: str | None, diagnostics: list[Diagnostic], pointer: str
) -> str | None:
    """A server URL without its trailing slash, made absolute against the spec's URL when it
    came from one; a relative URL from a file is kept, with a warning."""
    if url is None:
        return None
    problem = userinfo_problem(url)
    if problem:
        raise SourceError(problem, pointer=pointer, suggestion="Pass --base-url without them.")
    if "://" not in url:
        if spec_url is not None:
            return urljoin(spec_url, url).rstrip("/") or url
        hint, kind = "pass --base-url to set the absolute one", ""
        if pointer in ("/basePath", "/servers/0/url"):  # the document's: its path is kept
            hint = (
                "pass --base-url scheme://host:port to set where it is served "
                f"(its path {url!r} is kept)"
            )
            kind = RELATIVE
        message = f"server URL {url!r} is relative; {hint}"
        diagnostics.append(Diagnostic(message, pointer, kind=kind))
    return url.rstrip("/") or url


def _env(scheme_name: str, suffix: str) -> str:
    base = snake_case(scheme_name).upper() or "API"
    if not base.endswith(suffix):
        base = f"{base}_{suffix}"
    return f"env:APPCTL_{base}"


def auth_scheme(name: str, raw: dict[str, Any]) -> AuthScheme:
    kind = raw.get("type")
    description = str(raw.get("description") or "")
    if kind == "apiKey":
        location = raw.get("in") if raw.get("in") in ("header", "query", "cookie") else "header"
        return AuthScheme(
            name=name,
            type="api_key",
            location=location,
            param_name=str(raw.get("name", name)),
            credentials={"value": _env(name, "KEY")},
            description=description,
        )
    if kind == "http" and str(raw.get("scheme", "")).lower() == "basic":
        return AuthScheme(
            name=name,
            type="basic",
            location="header",
            param_name="Authorization",
            credentials={"username": _env(name, "USERNAME"), "password": _env(name, "PASSWORD")},
            description=description,
        )
    mapped = {"http": "bearer", "oauth2": "oauth2", "openIdConnect": "openid_connect"}
    if kind in mapped and (kind != "http" or str(raw.get("scheme", "")).lower() == "bearer"):
        return AuthScheme(
            name=name,
            type=mapped[kind],
            location="header",
            param_name="Authorization",
            credentials={"token": _env(name, "TOKEN")},
            description=description,
        )
    return AuthScheme(name=name, type="other", description=description)


def _details(raw: dict[str, Any]) -> dict[str, Any]:
    """What a scheme says beyond its type: HTTP scheme name, bearer format, OAuth2 token URL
    and scopes (2.0 keeps flow, tokenUrl and scopes at the top; 3.x under flows)."""
    given = raw.get("flows")
    flows: dict[str, Any] = given if isinstance(given, dict) else {"flow": raw}
    token_url = next(
        (
            f["tokenUrl"]
            for f in flows.values()
            if isinstance(f, dict) and isinstance(f.get("tokenUrl"), str)
        ),
        None,
    )
    scopes = sorted(
        {
            str(name)
            for f in flows.values()
            if isinstance(f, dict) and isinstance(f.get("scopes"), dict)
            for name in f["scopes"]
        }
    )
    details: dict[str, Any] = {"token_url": token_url, "scopes": scopes}
    if isinstance(raw.get("scheme"), str):
        details["http_scheme"] = raw["scheme"].lower()
    if isinstance(raw.get("bearerFormat"), str):
        details["bearer_format"] = raw["bearerFormat"]
    return details


def auth(doc: dict[str, Any], *, swagger: bool) -> Auth:
    if swagger:
        raw_schemes = doc.get("securityDefinitions") or {}
    else:
        raw_schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    schemes = []
    if isinstance(raw_schemes, dict):
        for name, raw in raw_schemes.items():
            if isinstance(raw, dict):
                shaped = swagger2.security_scheme(raw) if swagger else raw
                scheme = auth_scheme(str(name), shaped)
                schemes.append(scheme.model_copy(update=_details(shaped)))
    return Auth(schemes=schemes, default=requirements(doc.get("security")) or [])


def requirements(value: Any) -> list[dict[str, list[str]]] | None:
    """A security requirement list, normalized; None when absent or malformed."""
    if not isinstance(value, list):
        return None
    out: list[dict[str, list[str]]] = []
    for item in value:
        if isinstance(item, dict):
            out.append(
                {
                    str(k): [str(s) for s in v] if isinstance(v, list) else []
                    for k, v in item.items()
                }
            )
    return out
