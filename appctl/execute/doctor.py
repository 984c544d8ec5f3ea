"""``appctl doctor``: is the API there, are the credentials accepted, do the routes exist?

Only safe probes are sent: GET for read-only actions that need no arguments, OPTIONS for the
rest, and both on a random path first, so a catch-all answer is recognized and never counted
as evidence (nor is a 405). An action is ``verified`` only on evidence: a GET answered 2xx
differently from the catch-all, or an OPTIONS whose Allow header names its method when the
catch-all's does not.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from appctl.contract.models import Action, HttpTransport, Location, Safety, Schema
from appctl.execute.executor import credentials
from appctl.execute.request import RequestError, apply_auth, build_url

SENTINELS = {"integer": 1, "number": 1}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: could not tell
    detail: str


@dataclass(frozen=True, slots=True)
class Route:
    action: str
    verdict: str  # verified | unverified | missing
    evidence: str


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    body: bytes = b""
    allow: frozenset[str] = frozenset()

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        allow = response.headers.get("Allow", "")
        methods = frozenset(m.strip().upper() for m in allow.split(",") if m.strip())
        return cls(response.status_code, response.content[:4096], methods)


def _probe(
    client: httpx.Client,
    method: str,
    url: str,
    headers: Mapping[str, str],
    params: list[tuple[str, str]],
) -> Answer:
    try:
        query = httpx.QueryParams(urlencode(params))
        return Answer.of(client.request(method, url, headers=dict(headers), params=query))
    except httpx.HTTPError:
        return Answer(None)


def _sentinel_args(action: Action) -> dict[str, Any]:
    return {
        f.name: SENTINELS.get(str(f.schema_.get("type")), "appctl-probe")
        for f in action.parameters
        if f.location == Location.PATH
    }


def _needs_arguments(action: Action) -> bool:
    return any(f.required for f in action.parameters)


def _auth_parts(schema: Schema, environ: Mapping[str, str]) -> dict[str, Any]:
    parts: dict[str, Any] = {"params": [], "headers": {}, "cookies": {}}
    apply_auth(schema.auth.schemes, credentials(schema, environ), parts)
    return parts


def diagnose(
    schema: Schema, *, base_url: str, environ: Mapping[str, str], client: httpx.Client
) -> tuple[list[Check], list[Route]]:
    auth = _auth_parts(schema, environ)
    base = base_url.rstrip("/")
    reach = _probe(client, "GET", base, {}, [])
    checks = [
        Check(
            "base URL answers",
            reach.status is not None,
            f"GET {base} → {reach.status or 'no answer'}",
        )
    ]
    if reach.status is None:
        return checks, []
    nowhere = f"{base}/appctl-doctor-{uuid.uuid4().hex[:12]}"
    catch_get = _probe(client, "GET", nowhere, auth["headers"], auth["params"])
    catch_options = _probe(client, "OPTIONS", nowhere, auth["headers"], [])
    routes = [
        _route(client, schema, a, base, auth, catch_get, catch_options) for a in schema.actions()
    ]
    checks.append(_auth_check(schema, routes, environ, client, base, auth))
    return checks, routes


def _route(
    client: httpx.Client,
    schema: Schema,
    action: Action,
    base: str,
    auth: dict[str, Any],
    catch_get: Answer,
    catch_options: Answer,
) -> Route:
    transport = action.transport
    if not isinstance(transport, HttpTransport):
        return Route(action.name, "unverified", "not an HTTP action")
    try:
        url = build_url(base, transport, action.parameters, _sentinel_args(action))
    except RequestError as exc:
        return Route(action.name, "unverified", str(exc))
    if (
        action.safety == Safety.READ_ONLY
        and transport.method == "GET"
        and not _needs_arguments(action)
    ):
        got = _probe(client, "GET", url, auth["headers"], auth["params"])
        if (
            got.status is not None
            and 200 <= got.status < 300
            and ((got.status, got.body) != (catch_get.status, catch_get.body))
        ):
            return Route(action.name, "verified", f"GET answered {got.status}")
    options = _probe(client, "OPTIONS", url, auth["headers"], [])
    if transport.method in options.allow and transport.method not in catch_options.allow:
        return Route(action.name, "verified", f"OPTIONS allows {transport.method}")
    has_params = any(f.location == Location.PATH for f in action.parameters)
    if options.status == 404 and catch_options.status == 404 and not has_params:
        return Route(
            action.name, "missing", "OPTIONS answered 404, like a path that does not exist"
        )
    shown = options.status if options.status is not None else "no answer"
    return Route(action.name, "unverified", f"no evidence (OPTIONS → {shown})")


def _auth_check(
    schema: Schema,
    routes: list[Route],
    environ: Mapping[str, str],
    client: httpx.Client,
    base: str,
    auth: dict[str, Any],
) -> Check:
    if not schema.auth.schemes:
        return Check("credentials accepted", None, "the contract declares no auth")
    if not credentials(schema, environ):
        names = [ref[4:] for s in schema.auth.schemes for ref in s.credentials.values()]
        return Check("credentials accepted", False, "none of " + ", ".join(names) + " is set")
    answered = {r.action for r in routes if r.verdict == "verified"}
    candidates = [
        a
        for a in schema.actions()
        if a.safety == Safety.READ_ONLY
        and isinstance(a.transport, HttpTransport)
        and a.transport.method == "GET"
        and not _needs_arguments(a)
    ]
    candidates.sort(key=lambda a: a.name not in answered)  # a route known to exist first
    probe = candidates[0] if candidates else None
    if probe is None or not isinstance(probe.transport, HttpTransport):
        return Check("credentials accepted", None, "no read-only tool without arguments to try")
    url = build_url(base, probe.transport, probe.parameters, {})
    got = _probe(client, "GET", url, auth["headers"], auth["params"])
    if got.status in (401, 403):
        word = "rejected" if got.status == 401 else "not allowed"
        return Check("credentials accepted", False, f"GET {url} → {word} ({got.status})")
    ok = got.status is not None and got.status < 400
    return Check("credentials accepted", True if ok else None, f"GET {url} → {got.status}")
