"""Which credentials an action asks for, and schemes a user adds where the document is silent.

An action's *effective security* is its own ``security`` list, else the document's
(``auth.default``); ``[]`` means it needs none. The list is OR between requirement objects and
AND within one; an empty object ``{}`` allows anonymous calls.

Many real documents declare no security (Kinto) or the wrong one. ``auth.schemes`` in
``overrides.yaml`` (written into the contract at sync) and in ``config.yaml`` (applied at call
time) add schemes with ``env:`` references and say which actions they apply to:

    auth:
      schemes:
        kinto:                          # a new name: applies to apply_to (default: every action)
          type: basic
          username: env:KINTO_USER
          password: env:KINTO_PASSWORD
          apply_to: ["*"]               # globs on tool name, resource or tag (name:, tag:...)
        partner:
          type: api_key                 # in: header | query | cookie, param: its name
          in: header
          param: X-Partner-Key
          value: env:PARTNER_KEY
          apply_to: ["tag:partner"]
        bearerAuth:                     # the name of a scheme the document declares: redefines it
          type: api_key                 # (only where the document asks for it, unless apply_to)
          param: Authorization
          prefix: Token
          value: env:API_TOKEN

An added scheme that applies to an action becomes that action's first alternative; the
document's own requirements stay as further alternatives.

A scheme in config.yaml may take its credential from the caller instead of the environment
(issue 21: each person's agent acts with that person's own upstream identity), resolved per
call by ``execute.percaller``:

    auth:
      schemes:
        github:
          type: bearer
          token: header:X-GitHub-Token   # what the caller sends appctl in this header
        partner:
          type: bearer
          token: caller:token            # the caller's own inbound bearer token, forwarded

``header:Authorization`` and ``header:Cookie`` are refused: the caller's inbound token goes
upstream only where a scheme says ``caller:token``. Per-user references belong in config.yaml
only; overrides.yaml writes its schemes into the contract, which every caller shares.
"""

from __future__ import annotations

import fnmatch
import string
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import Field as PField

from appctl.contract.models import Action, AuthScheme, Contract

Requirement = dict[str, list[str]]
HEADER_REF = "header:"  # a credential the caller sends appctl in this request header
CALLER_TOKEN = "caller:token"  # the caller's own inbound bearer token, forwarded upstream

_ROLES = {"bearer": ("token",), "basic": ("username", "password"), "api_key": ("value",)}


class AddedScheme(BaseModel):
    """A scheme written by hand in config.yaml or overrides.yaml."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["bearer", "basic", "api_key"]
    location: Literal["header", "query", "cookie"] = PField(default="header", alias="in")
    param: str | None = None  # api_key: the header, query parameter or cookie name
    prefix: str | None = None  # api_key in a header: sent as "<prefix> <value>"
    token: str | None = None
    username: str | None = None
    password: str | None = None
    value: str | None = None
    apply_to: list[str] | None = None
    description: str = ""

    @field_validator("token", "username", "password", "value")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        return None if value is None else check_reference(value)

    @model_validator(mode="after")
    def _complete(self) -> AddedScheme:
        missing = [role for role in _ROLES[self.type] if getattr(self, role) is None]
        if missing:
            raise ValueError(
                f"a {self.type} scheme needs {' and '.join(missing)} (an env:NAME reference)"
            )
        extra = [
            r for r in ("token", "username", "password", "value") if r not in _ROLES[self.type]
        ]
        given = [r for r in extra if getattr(self, r) is not None]
        if given:
            raise ValueError(f"a {self.type} scheme takes no {', '.join(given)}")
        if self.type == "api_key" and not self.param:
            raise ValueError("an api_key scheme needs param: (the header, query or cookie name)")
        if self.prefix is not None and not (self.type == "api_key" and self.location == "header"):
            raise ValueError("prefix: is only for an api_key sent in a header")
        if self.type == "basic" and CALLER_TOKEN in (self.username, self.password):
            raise ValueError(
                f"{CALLER_TOKEN} is the caller's bearer token: use it as a bearer scheme's "
                "token or an api_key scheme's value, not in a basic pair"
            )
        return self

    def per_user(self) -> bool:
        """Whether a credential of this scheme comes from the caller, not the environment."""
        return any(is_per_user(ref) for ref in self.references())

    def references(self) -> list[str]:
        roles = (self.token, self.username, self.password, self.value)
        return [ref for ref in roles if ref is not None]

    def scheme(self, name: str) -> AuthScheme:
        """The contract's form of this scheme."""
        roles = {role: getattr(self, role) for role in _ROLES[self.type]}
        if self.type == "api_key":
            return AuthScheme(
                name=name,
                type="api_key",
                location=self.location,
                param_name=self.param,
                prefix=self.prefix,
                credentials=roles,
                description=self.description,
            )
        return AuthScheme(
            name=name,
            type=self.type,
            location="header",
            param_name="Authorization",
            credentials=roles,
            description=self.description,
            http_scheme=self.type,
        )


# The header names a per-user credential may not name: the inbound Authorization (and
# Proxy-Authorization) header is appctl's own authentication, forwarded only by the explicit
# caller:token; a Cookie header is the client's session with appctl, never an upstream's.
RESERVED_HEADERS = frozenset(("authorization", "proxy-authorization", "cookie"))
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)  # RFC 9110


def check_reference(value: str) -> str:
    """A credential reference of a scheme written in config.yaml: ``env:NAME`` (a variable of
    appctl's environment), ``header:NAME`` (what the caller sends appctl in that request
    header) or ``caller:token`` (the caller's own inbound bearer token, forwarded)."""
    if value.startswith(HEADER_REF):
        name = value[len(HEADER_REF) :].strip()
        if not name or not set(name) <= _TOKEN_CHARS:
            raise ValueError(f"{value!r} does not name a request header (e.g. header:X-Api-Token)")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(
                f"{value!r}: the {name} header is how a caller authenticates to appctl and is "
                f"never passed on; to forward the caller's own bearer token say {CALLER_TOKEN}"
            )
        return value
    if value.startswith("caller:"):
        if value != CALLER_TOKEN:
            raise ValueError(f"{value!r}: the one caller reference is {CALLER_TOKEN}")
        return value
    if value.startswith("env:") and len(value) > 4:
        return value
    raise ValueError(
        "credentials must be env:NAME references (or header:NAME, a header each caller "
        f"sends, or {CALLER_TOKEN}), not literal values: {value!r}"
    )


def is_per_user(ref: str) -> bool:
    """Whether a credential reference takes its value from the caller."""
    return ref.startswith(HEADER_REF) or ref == CALLER_TOKEN


class AuthSettings(BaseModel):
    """``auth:`` in config.yaml (``allowed_origins`` and ``schemes``) or overrides.yaml
    (``schemes`` only)."""

    model_config = ConfigDict(extra="forbid")

    allowed_origins: list[str] = PField(default_factory=list)
    schemes: dict[str, AddedScheme] = PField(default_factory=dict)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [origin_of(v, strict=True) for v in value]


def origin_of(url: str, *, strict: bool = False) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if strict and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise ValueError(f"{url!r} is not an http(s) origin such as https://cdn.example.com")
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    shown = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{host}{shown}"


def applies(patterns: list[str], action: Action, resource: str) -> bool:
    """Whether a glob list names this action, by tool name, resource or tag; a pattern may
    say which with ``name:``, ``resource:`` or ``tag:``."""
    keys = {"name": [action.name], "resource": [resource], "tag": action.tags}
    for pattern in patterns:
        kind, sep, value = pattern.partition(":")
        if sep and kind in keys:
            if any(fnmatch.fnmatchcase(k, value) for k in keys[kind]):
                return True
        elif any(fnmatch.fnmatchcase(k, pattern) for ks in keys.values() for k in ks):
            return True
    return False


def effective_security(schema: Contract, action: Action) -> list[Requirement]:
    """The action's own requirements, else the document's."""
    return action.security if action.security is not None else schema.auth.default


def added_requirements(
    added: Mapping[str, AddedScheme], declared: Mapping[str, Any], action: Action, resource: str
) -> list[Requirement]:
    """One requirement for each added scheme that applies to this action. A scheme named like
    one the document declares redefines it, and applies only where the document asks for it
    unless its ``apply_to`` says more; a new one applies everywhere unless ``apply_to`` says."""
    out: list[Requirement] = []
    for name, scheme in added.items():
        patterns = scheme.apply_to
        if patterns is None:
            patterns = [] if name in declared else ["*"]
        if applies(patterns, action, resource):
            out.append({name: []})
    return out


def with_added(schema: Contract, settings: AuthSettings) -> Contract:
    """The contract with the overrides' schemes written in: each scheme defined (or redefined)
    under ``auth.schemes``, and each action it applies to asking for it first."""
    if not settings.schemes:
        return schema
    declared = {s.name: s for s in schema.auth.schemes}
    schemes = dict(declared)
    for name, added in settings.schemes.items():
        schemes[name] = added.scheme(name)
    resources = []
    for resource in schema.resources:
        actions = []
        for action in resource.actions:
            extra = added_requirements(settings.schemes, declared, action, resource.name)
            if extra:
                own = effective_security(schema, action)
                action = action.model_copy(update={"security": [*extra, *own]})
            actions.append(action)
        resources.append(resource.model_copy(update={"actions": actions}))
    auth = schema.auth.model_copy(update={"schemes": list(schemes.values())})
    return schema.model_copy(update={"auth": auth, "resources": resources})


def userinfo_problem(url: str | None) -> str | None:
    """Why a base or server URL cannot be used as it is: it carries a user name or password,
    which appctl would write into the contract and history and never send. None when clean."""
    from urllib.parse import urlsplit

    if not url or "@" not in url:
        return None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return None
    host = parts.netloc.rpartition("@")[2]
    shown = parts._replace(netloc=f"***@{host}").geturl()
    return (
        f"the URL {shown} carries a user name or password; appctl never keeps credentials in a "
        "URL: drop them from it and add a basic scheme with env: references under auth.schemes "
        "in .appctl/config.yaml (e.g. {type: basic, username: env:API_USER, password: "
        "env:API_PASSWORD})"
    )


def wanted_headers(settings: AuthSettings) -> frozenset[str]:
    """The request headers (lower-case) a server front end keeps in ``Caller.headers``:
    those config.yaml's schemes name as ``header:NAME`` per-user credentials. No other
    inbound header ever reaches a call."""
    return frozenset(
        ref[len(HEADER_REF) :].strip().lower()
        for added in settings.schemes.values()
        for ref in (added.token, added.username, added.password, added.value)
        if ref is not None and ref.startswith(HEADER_REF)
    )
