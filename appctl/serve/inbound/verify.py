"""Who presents a bearer token: a static token named in config.yaml, or an OAuth 2.1 access
token (a JWT) checked against the issuer's keys. Either a ``Caller`` or a ``Denied`` that
says why in words fit for a ``WWW-Authenticate`` header (never the token itself).

A JWT is accepted only when: its header's ``alg`` is in ``oauth.algorithms`` (asymmetric
only: never ``none``, never HMAC) and fits the key's type; its ``kid`` names a key the issuer
publishes; the signature verifies; ``iss`` is the issuer; ``aud`` holds this server's
resource URL (RFC 8707); ``exp``/``nbf``/``iat`` hold within ``leeway``; it has a subject;
and it grants the read or the write scope (``scope`` string or ``scp`` list).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any

from appctl.contract.inbound import InboundSettings, OAuthSettings
from appctl.errors import UsageError
from appctl.execute.caller import Caller
from appctl.serve.inbound.jwks import KeySet, KeysUnavailable, SigningKey

MAX_TOKEN = 16_384  # characters of a bearer token
MAX_SUBJECT = 256
_FAMILIES = {"RSA": ("RS", "PS"), "EC": ("ES",), "OKP": ("EdDSA",)}


class Denied(Exception):
    """A refused request: 401 (no or a bad token), 403 (insufficient scope) or 503 (the
    issuer's keys could not be fetched). ``error`` is the RFC 6750 code ("" when no token
    was sent)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


NO_TOKEN = Denied(401, "", "a bearer token is required: send Authorization: Bearer <token>")


class Verifier:
    """The tokens one server accepts (static ones, OAuth access tokens, or both)."""

    def __init__(
        self,
        settings: InboundSettings,
        environ: Mapping[str, str],
        *,
        extra: Mapping[str, str] | None = None,
        keys: KeySet | None = None,
    ) -> None:
        """``extra``: more static tokens by caller name (``--token-env``), as values."""
        self.static = static_tokens(settings, environ)
        self.static += [(name, value, False, ()) for name, value in (extra or {}).items()]
        self.oauth = settings.oauth
        self.keys = keys or (KeySet(settings.oauth) if settings.oauth is not None else None)

    async def caller(self, token: str) -> Caller:
        """The caller ``token`` identifies; else raises ``Denied``."""
        if len(token) > MAX_TOKEN:
            raise Denied(401, "invalid_token", f"the token is longer than {MAX_TOKEN} characters")
        given = token.encode("utf-8", "surrogatepass")
        matched = None
        for name, value, read_only, groups in self.static:  # each compared, in constant time
            if hmac.compare_digest(given, value.encode()) and matched is None:
                matched = Caller(
                    subject=name, kind="token", groups=groups, read_only=read_only, token=token
                )
        if matched is not None:
            return matched
        if self.oauth is None or self.keys is None:
            raise Denied(401, "invalid_token", "the token is not one this server accepts")
        return await verify_jwt(token, self.oauth, self.keys)


def server_verifier(
    settings: InboundSettings, environ: Mapping[str, str], *, token_env: str | None
) -> Verifier | None:
    """The verifier a server starts with: ``inbound:`` and ``--token-env NAME`` (a static
    token whose caller is "token"); None when neither is given (loopback only)."""
    extra = {}
    if token_env:
        value = environ.get(token_env, "")
        if not value:
            raise UsageError(
                f"--token-env names {token_env}, which is not set",
                suggestion=f"Export {token_env} with the token clients must send.",
            )
        extra["token"] = value
    if not extra and not settings.configured:
        return None
    return Verifier(settings, environ, extra=extra)


def beyond_loopback(host: str, verifier: Verifier | None) -> None:
    """Binding beyond loopback needs authentication; raises ``UsageError`` without it."""
    from appctl.serve.listen import is_loopback

    if verifier is None and not is_loopback(host):
        raise UsageError(
            f"binding to {host} (beyond loopback) needs authentication",
            suggestion="Configure inbound: (tokens or oauth) in .appctl/config.yaml, or pass "
            "--token-env NAME with a bearer token in that variable, or bind 127.0.0.1.",
        )


def guarded(verifier: Verifier | None) -> str:
    """How a server is guarded, for its start-up line."""
    if verifier is None:
        return "no authentication: loopback only"
    kinds = ["bearer tokens"] if verifier.static else []
    if verifier.oauth is not None:
        kinds.append(f"OAuth access tokens of {verifier.oauth.issuer}")
    return " or ".join(kinds) + " required"


def static_tokens(
    settings: InboundSettings, environ: Mapping[str, str]
) -> list[tuple[str, str, bool, tuple[str, ...]]]:
    """(name, value, read_only, groups) of each static token, its ``env:`` reference read."""
    found = []
    for name, entry in settings.tokens.items():
        variable = entry.token[4:]
        value = environ.get(variable, "")
        if not value:
            raise UsageError(
                f"inbound.tokens.{name} names {variable}, which is not set",
                suggestion=f"Export {variable} with the token the caller {name!r} sends.",
            )
        found.append((name, value, entry.read_only, tuple(entry.groups)))
    return found


async def verify_jwt(token: str, oauth: OAuthSettings, keys: KeySet) -> Caller:
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except Exception:  # not three base64url parts, not JSON...: all the same to a caller
        raise Denied(401, "invalid_token", "the token is not a well-formed JWT") from None
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in oauth.algorithms:
        allowed = ", ".join(oauth.algorithms)
        raise Denied(
            401, "invalid_token", f"the token's algorithm is not accepted (allowed: {allowed})"
        )
    if kid is not None and not isinstance(kid, str):
        raise Denied(401, "invalid_token", "the token's key id (kid) is not a string")
    try:
        key = await keys.key(kid)
    except KeysUnavailable as exc:
        raise Denied(503, "temporarily_unavailable", exc.message) from None
    if key is None:
        message = "the token is signed by a key the issuer does not publish"
        if kid is None:
            message = "the token names no key (kid) and the issuer publishes several"
        raise Denied(401, "invalid_token", message)
    if not fits(key, alg):
        raise Denied(401, "invalid_token", "the token's algorithm does not fit the issuer's key")
    claims = decode(token, key, alg, oauth)
    return caller_of(claims, oauth, token)


def fits(key: SigningKey, alg: str) -> bool:
    """Whether ``alg`` may be checked with ``key``: its type's family, and the key's own
    ``alg`` when the JWKS names one (no algorithm confusion)."""
    if key.alg is not None and key.alg != alg:
        return False
    return any(alg.startswith(p) for p in _FAMILIES.get(key.kty, ()))


def decode(token: str, key: SigningKey, alg: str, oauth: OAuthSettings) -> dict[str, Any]:
    import jwt

    resource = oauth.resource
    audiences = [resource, resource[:-1] if resource.endswith("/") else resource + "/"]
    try:
        claims = jwt.decode(
            token,
            key.jwk.key,
            algorithms=[alg],
            audience=audiences,
            issuer=oauth.issuer,
            leeway=oauth.leeway,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Denied(401, "invalid_token", "the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise Denied(401, "invalid_token", "the token is not valid yet (nbf or iat)") from None
    except jwt.InvalidAudienceError:
        message = f"the token's audience is not this server ({resource})"
        raise Denied(401, "invalid_token", message) from None
    except jwt.InvalidIssuerError:
        message = f"the token's issuer is not {oauth.issuer}"
        raise Denied(401, "invalid_token", message) from None
    except jwt.InvalidSignatureError:
        message = "the token's signature does not verify against the issuer's key"
        raise Denied(401, "invalid_token", message) from None
    except jwt.MissingRequiredClaimError as exc:
        message = f"the token has no {exc.claim} claim"
        raise Denied(401, "invalid_token", message) from None
    except Exception:  # malformed claims (a non-numeric exp...), a key the library refuses
        raise Denied(401, "invalid_token", "the token's claims are not valid") from None
    if not isinstance(claims, dict):
        raise Denied(401, "invalid_token", "the token's claims are not a JSON object")
    return claims


def caller_of(claims: dict[str, Any], oauth: OAuthSettings, token: str) -> Caller:
    subject = claim(claims, oauth.subject_claim)
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT:
        message = f"the token has no usable subject ({oauth.subject_claim} claim)"
        raise Denied(401, "invalid_token", message)
    scopes = granted(claims)
    read, write = oauth.scopes.read, oauth.scopes.write
    if write not in scopes and read not in scopes:
        raise Denied(403, "insufficient_scope", f"the token grants neither {read} nor {write}")
    return Caller(
        subject=subject,
        kind="oauth",
        groups=groups(claims, oauth.group_claims),
        scopes=frozenset(scopes),
        read_only=write not in scopes,
        claims=claims,
        token=token,
    )


def granted(claims: Mapping[str, Any]) -> set[str]:
    """The scopes a token grants: ``scope`` (a space-separated string, RFC 9068) or ``scp``
    (a list, or a string, as some issuers write it)."""
    found: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
    return found


def groups(claims: Mapping[str, Any], names: list[str]) -> tuple[str, ...]:
    """The groups and roles the named claims hold (a list, or a space-separated string)."""
    found: list[str] = []
    for name in names:
        value = claim(claims, name)
        items = value.split() if isinstance(value, str) else value
        if isinstance(items, list):
            found += [v for v in items if isinstance(v, str) and v and v not in found]
    return tuple(found)


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def header_safe(text: str) -> str:
    """Text an RFC 6750 ``error_description`` may hold (no quotes, backslashes, controls)."""
    return _UNSAFE.sub("?", text)[:300]
