"""``inbound:`` in config.yaml: who may call ``appctl serve`` and ``appctl mcp --transport http``.

    inbound:
      tokens:                     # static bearer tokens, each a named caller (kind "token")
        ci-bot: {token: env:CI_TOKEN, groups: [ci]}
        dashboard: {token: env:DASH_TOKEN, read_only: true}
      oauth:                      # an OAuth 2.1 resource server (kind "oauth")
        issuer: https://login.example.com/          # must equal the token's iss
        resource: https://appctl.example.com/mcp    # this server's URL = the required aud
        jwks_url: https://login.example.com/jwks    # default: the issuer's metadata's jwks_uri
        scopes: {read: "appctl:read", write: "appctl:write"}
        subject_claim: sub
        group_claims: [groups, roles]               # a dotted path reaches nested claims
        algorithms: [RS256, ES256]
        leeway: 30

The model lives here, below ``config`` (as ``contract.auth.AuthSettings`` does), so that
``Config`` can hold it; ``appctl.serve.inbound`` enforces it.
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

# signature algorithms over a published public key; HMAC and "none" are never accepted
Algorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"
]
DEFAULT_ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaticToken(_Strict):
    """One named caller with a shared secret: ``token`` an ``env:NAME`` reference."""

    token: str
    groups: list[str] = Field(default_factory=list)
    read_only: bool = False  # a token for reads only (as the read scope of OAuth)

    @field_validator("token")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not value.startswith("env:") or len(value) <= 4:
            raise ValueError(
                "token must be an env:NAME reference (the variable holding the token), "
                "never the token itself"
            )
        return value


class Scopes(_Strict):
    read: str = Field(default="appctl:read", min_length=1)
    write: str = Field(default="appctl:write", min_length=1)


class OAuthSettings(_Strict):
    issuer: str
    resource: str
    jwks_url: str | None = None
    scopes: Scopes = Field(default_factory=Scopes)
    subject_claim: str = Field(default="sub", min_length=1)
    group_claims: list[str] = Field(default_factory=lambda: ["groups", "roles"])
    algorithms: list[Algorithm] = Field(
        default_factory=lambda: list(DEFAULT_ALGORITHMS), min_length=1
    )
    leeway: float = Field(default=30.0, ge=0, le=600)

    @field_validator("issuer", "resource", "jwks_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            secure_url(value)
        return value


def secure_url(url: str) -> None:
    """An https URL, or http to this machine (a local issuer in development and tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if parts.fragment:
        raise ValueError(f"{url!r} has a fragment (#...), which OAuth URLs may not have")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError(f"{url!r} must use https (http only for localhost/127.0.0.1)")


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class InboundSettings(_Strict):
    tokens: dict[str, StaticToken] = Field(default_factory=dict)
    oauth: OAuthSettings | None = None

    @property
    def configured(self) -> bool:
        """Whether any authentication is configured (then binding beyond loopback is allowed)."""
        return bool(self.tokens) or self.oauth is not None
