"""``appctl doctor``: is the API there, are the credentials accepted, do the routes exist?

Only safe probes are sent: GET for read-only GET actions that need no argument besides their
path, OPTIONS for the rest, and both on a random path first, so a catch-all answer is
recognized and never counted as evidence (nor is a 405). Path parameters are filled first
(fill.py: examples, enums, defaults, else the first id a read-only list GET answers), so
probes reach real routes. An action is ``verified`` only on evidence: a GET answered 2xx
differently from the catch-all, or an OPTIONS whose Allow header names its method when the
catch-all's does not; an unverified one says why, including which parameter had no value.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from appctl.contract.auth import AuthSettings
from appctl.contract.models import Action, Contract, HttpTransport, Location, Safety, Verb
from appctl.doctor.fill import Filled, Lists, fill, gettable, listable
from appctl.execute.auth import NO_SETTINGS, AuthRefused, all_schemes, choose, scheme_values
from appctl.execute.http.request import RequestError, apply_auth, build_url
from appctl.execute.http.send import USER_AGENT, shared_transport
from appctl.execute.http.transport import (
    Timeouts,
    Transport,
    TransportFailure,
    TransportRefused,
    TransportTimeout,
)

SENTINELS = {"integer": 1, "number": 1}
MAX_PROBE_BODY = 1024 * 1024  # what is kept of an answer: enough for a list's first ids


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


@dataclass(frozen=True, slots=True)
class Prober:
    """How probes are sent: through the calls' own transport (pooled connections, TLS roots,
    proxies from the environment, decoding, the size cap), ``timeout`` seconds each, no
    redirect followed (a probe reports what the route itself answers)."""

    timeout: float = 10.0
    transport: Transport = field(default_factory=shared_transport)

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: list[tuple[str, str]],
        body: bytes | None = None,
    ) -> Answer:
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        wire = [(b"User-Agent", USER_AGENT.encode())]
        wire += [(k.encode(), v.encode()) for k, v in headers.items()]
        timeouts = Timeouts(connect=self.timeout, read=self.timeout)
        try:
            got = self.transport.exchange(
                method,
                url,
                wire,
                body,
                timeouts,
                MAX_PROBE_BODY,
                deadline=time.monotonic() + self.timeout,
            )
        except (TransportTimeout, TransportFailure, TransportRefused, UnicodeError):
            return Answer(None)
        allow = got.headers.get("allow", "")
        methods = frozenset(m.strip().upper() for m in allow.split(",") if m.strip())
        return Answer(got.status, got.body, methods)


def _sentinel_args(action: Action) -> dict[str, Any]:
    return {
        f.name: SENTINELS.get(str(f.schema_.get("type")), "appctl-probe")
        for f in action.parameters
        if f.location == Location.PATH
    }


def _needs_arguments(action: Action) -> bool:
    return any(f.required for f in action.parameters)


@dataclass(frozen=True, slots=True)
class _Auth:
    """What a probe needs to send an action's own credentials, as a call would."""

    schema: Contract
    settings: AuthSettings
    environ: Mapping[str, str]
    base: str

    def parts(self, action: Action) -> dict[str, Any]:
        parts: dict[str, Any] = {"params": [], "headers": {}, "cookies": {}}
        resource = self.schema.resource_of(action.name)
        server = action.transport.server if isinstance(action.transport, HttpTransport) else None
        try:
            chosen = choose(
                self.schema,
                action,
                resource.name if resource else "",
                settings=self.settings,
                environ=self.environ,
                base_url=self.base,
                url=server or self.base,
            )
        except AuthRefused:
            return parts
        apply_auth(chosen.schemes, chosen.values, parts)
        return parts


# the document's default requirements, for probes of paths no action names
_ANY_PATH = Action(
    name="appctl_doctor",
    verb=Verb.GET,
    safety=Safety.READ_ONLY,
    transport=HttpTransport(method="GET", path="/"),
)


def diagnose(
    schema: Contract,
    *,
    base_url: str,
    environ: Mapping[str, str],
    client: Prober,
    settings: AuthSettings = NO_SETTINGS,
) -> tuple[list[Check], list[Route]]:
    base = base_url.rstrip("/")
    credentials = _Auth(schema, settings, environ, base)
    auth = credentials.parts(_ANY_PATH)
    reach = client.send("GET", base, {}, [])
    checks = [
        Check(
            "base URL answers",
            reach.status is not None,
            f"GET {base} → {reach.status or 'no answer'}"
            + ("" if reach.status is not None else app_hint(schema)),
        )
    ]
    if reach.status is None:
        return checks, []
    nowhere = f"{base}/appctl-doctor-{uuid.uuid4().hex[:12]}"
    probes = _Probes(
        schema,
        client,
        credentials,
        catch_get=client.send("GET", nowhere, auth["headers"], auth["params"]),
        catch_options=client.send("OPTIONS", nowhere, auth["headers"], []),
        lists=Lists.of(schema),
    )
    routes = [probes.route(a) for a in schema.actions()]
    checks.append(_auth_check(schema, routes, credentials, client))
    lost = _base_url_check(schema, routes, base)
    return [*checks, lost] if lost else checks, routes


SERVED_BY = {  # a framework → how its app is usually served, for the hint below
    "fastapi": "uvicorn {target}",
    "starlette": "uvicorn {target}",
    "litestar": "uvicorn {target}",
    "apiflask": "flask --app {module} run",
    "flask-smorest": "flask --app {module} run",
    "flask": "flask --app {module} run",
}


def app_hint(schema: Contract) -> str:
    """For a contract synced from a web app (``sync --app``/``--django``): how to start it, and
    that --base-url names where it runs; "" for other contracts."""
    if schema.source.kind != "app":
        return ""
    target = schema.source.location
    framework = schema.source.framework or "the framework"
    served = SERVED_BY.get(framework, "python manage.py runserver")
    start = served.format(target=target, module=target.partition(":")[0])
    return (
        f"; the contract came from {target} ({framework}): start it (e.g. `{start}`) and pass "
        "--base-url with where it listens"
    )


def _base_url_check(schema: Contract, routes: list[Route], base: str) -> Check | None:
    """Every route probed missing and none verified: the base URL itself is likely wrong."""
    missing = sum(r.verdict == "missing" for r in routes)
    if missing < 2 or any(r.verdict == "verified" for r in routes):
        return None
    from appctl.contract.baseurl import server_path

    path = server_path(schema.servers[0]) if schema.servers else ""
    kept = f" (a bare scheme://host:port keeps the source's server path {path})" if path else ""
    return Check(
        "routes under the base URL",
        False,
        f"none of the routes was found under {base} and {missing} are missing: "
        f"the base URL is likely wrong; pass --base-url{kept}",
    )


@dataclass(slots=True)
class _Probes:
    """The probes of every route, sharing the catch-all answers and the GETs already sent
    (a list answered once serves every action that takes an id from it)."""

    schema: Contract
    client: Prober
    credentials: _Auth
    catch_get: Answer
    catch_options: Answer
    lists: Lists
    sent: dict[str, Answer] = field(default_factory=dict)

    def get(self, action: Action, url: str) -> Answer:
        """Send ``action`` (read-only: a GET, or a search sent with ``{}``) to ``url`` with its
        own credentials, once."""
        assert isinstance(action.transport, HttpTransport) and listable(action)
        method = action.transport.method
        key = f"{method} {url}"
        if key not in self.sent:
            auth = self.credentials.parts(action)
            body = b"{}" if method != "GET" else None
            headers = {**auth["headers"], **({"Content-Type": "application/json"} if body else {})}
            self.sent[key] = self.client.send(method, url, headers, auth["params"], body)
        return self.sent[key]

    def listed(self, action: Action, args: dict[str, Any]) -> tuple[Any, str]:
        """A list action's JSON answer (fill.ListGet), or None and what happened."""
        assert isinstance(action.transport, HttpTransport)
        try:
            url = build_url(self.credentials.base, action.transport, action.parameters, args)
        except RequestError as exc:
            return None, f"could not be called: {exc}"
        got = self.get(action, url)
        if got.status is None or not 200 <= got.status < 300:
            return None, f"answered {got.status or 'nothing'}"
        try:
            return json.loads(got.body), "answered"
        except ValueError:
            return None, "answered no JSON (or more than a probe reads)"

    def route(self, action: Action) -> Route:
        transport = action.transport
        if not isinstance(transport, HttpTransport):
            return Route(action.name, "unverified", "not an HTTP action")
        filled = fill(self.schema, action, self.listed, lists=self.lists)
        try:
            args = {**_sentinel_args(action), **filled.arguments}
            url = build_url(self.credentials.base, transport, action.parameters, args)
        except RequestError as exc:
            return Route(action.name, "unverified", str(exc))
        why = filled.missing
        if gettable(action) and why is None:
            got = self.get(action, url)
            if (
                got.status is not None
                and 200 <= got.status < 300
                and ((got.status, got.body) != (self.catch_get.status, self.catch_get.body))
            ):
                return Route(action.name, "verified", f"GET answered {got.status}{_from(filled)}")
            why = f"GET{_from(filled)} answered {got.status or 'nothing'}"
        return self._options(action, url, why or _not_sent(action))
        return self._options(action, url, why)

    def _options(self, action: Action, url: str, why: str | None) -> Route:
        assert isinstance(action.transport, HttpTransport)
        method = action.transport.method
        auth = self.credentials.parts(action)
        options = self.client.send("OPTIONS", url, auth["headers"], [])
        if method in options.allow and method not in self.catch_options.allow:
            return Route(action.name, "verified", f"OPTIONS allows {method}")
        has_params = any(f.location == Location.PATH for f in action.parameters)
        if options.status == 404 and self.catch_options.status == 404 and not has_params:
            return Route(
                action.name, "missing", "OPTIONS answered 404, like a path that does not exist"
            )
        shown = options.status if options.status is not None else "no answer"
        return Route(
            action.name,
            "unverified",
            f"no evidence (OPTIONS → {shown})" + (f"; {why}" if why else ""),
        )


def _from(filled: Filled) -> str:
    return f" ({', '.join(filled.sources)})" if filled.sources else ""


def _not_sent(action: Action) -> str | None:
    """Why an action with every path argument filled was not probed with its own request."""
    method = action.transport.method if isinstance(action.transport, HttpTransport) else ""
    if method != "GET":
        return f"{method} is not sent to probe a route (only GET and OPTIONS are)"
    if action.safety != Safety.READ_ONLY:
        return f"not sent as GET: it is {action.safety.value}"
    needed = [f.name for f in action.parameters if f.required and f.location != Location.PATH]
    return "not sent as GET: it needs " + ", ".join(needed) if needed else None


def _auth_check(schema: Contract, routes: list[Route], credentials: _Auth, client: Prober) -> Check:
    schemes = list(all_schemes(schema, credentials.settings).values())
    if not schemes:
        return Check("credentials accepted", None, "the contract declares no auth")
    if not any(scheme_values(s, credentials.environ) for s in schemes):
        refs = [ref for s in schemes for ref in s.credentials.values()]
        names = [ref[4:] for ref in refs if ref.startswith("env:")]
        if not names:  # header: / caller:token only (execute.percaller): each caller's own
            return Check("credentials accepted", None, "each caller brings its own credentials")
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
    url = build_url(credentials.base, probe.transport, probe.parameters, {})
    auth = credentials.parts(probe)
    got = client.send("GET", url, auth["headers"], auth["params"])
    if got.status in (401, 403):
        word = "rejected" if got.status == 401 else "not allowed"
        return Check("credentials accepted", False, f"GET {url} → {word} ({got.status})")
    ok = got.status is not None and got.status < 400
    return Check("credentials accepted", True if ok else None, f"GET {url} → {got.status}")
