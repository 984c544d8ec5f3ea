"""The issuer's signing keys: fetched over HTTPS, cached, refetched when a token names a key
the cache does not hold (a rotated key works without a restart), at most once per
``refetch_interval`` so that a flood of tokens with made-up key ids cannot hammer the issuer.

The JWKS URL is ``oauth.jwks_url``, else the ``jwks_uri`` of the issuer's metadata (RFC 8414
``/.well-known/oauth-authorization-server``, then OpenID Connect discovery), whose ``issuer``
must equal the configured one. Every fetch is bounded in size and time; a failure is a
``KeysUnavailable`` (a 503 for the request), retried no sooner than ``RETRY_AFTER`` seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

from appctl.contract.inbound import OAuthSettings, secure_url

if TYPE_CHECKING:
    import httpx
    from jwt import PyJWK

MAX_BYTES = 512_000  # of a JWKS or metadata document
TIMEOUT = 5.0  # seconds for one fetch, connection to last byte
RETRY_AFTER = 5  # seconds after a failed fetch before the next attempt
TTL = 3600.0  # seconds keys are used before a scheduled refetch
REFETCH_INTERVAL = 10.0  # seconds between refetches caused by an unknown key id


@dataclass(frozen=True)
class SigningKey:
    """One public key of the issuer's JWKS: ``alg`` the algorithm the JWKS ties it to."""

    jwk: PyJWK
    kid: str | None
    kty: str
    alg: str | None


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched (nothing cached to fall back on)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KeySet:
    """The signing keys of one issuer, by key id."""

    def __init__(
        self,
        oauth: OAuthSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        refetch_interval: float = REFETCH_INTERVAL,
        ttl: float = TTL,
        timeout: float = TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.oauth = oauth
        self.transport = transport
        self.refetch_interval, self.ttl, self.timeout = refetch_interval, ttl, timeout
        self.clock = clock
        self.jwks_url = oauth.jwks_url
        self.fetches = 0  # how many times the JWKS was fetched (for the logs and tests)
        self._keys: list[SigningKey] = []
        self._fetched: float | None = None  # when the keys were last fetched
        self._refetched: float | None = None  # when an unknown key id last caused a fetch
        self._failed: tuple[float, str] | None = None
        self._lock = anyio.Lock()

    async def key(self, kid: str | None) -> SigningKey | None:
        """The key ``kid`` names (the only signing key when ``kid`` is None), or None when
        the issuer does not publish it. Raises ``KeysUnavailable``."""
        async with self._lock:
            now = self.clock()
            if self._fetched is None or now - self._fetched >= self.ttl:
                await self._refresh(now)
            found = pick(self._keys, kid)
            fresh = self._fetched is not None and self._fetched >= now
            may = self._refetched is None or now - self._refetched >= self.refetch_interval
            if found is None and not fresh and may:
                self._refetched = now
                await self._refresh(now)
                found = pick(self._keys, kid)
            return found

    async def _refresh(self, now: float) -> None:
        if self._failed is not None and now - self._failed[0] < RETRY_AFTER:
            if not self._keys:
                raise KeysUnavailable(self._failed[1])
            return
        try:
            with anyio.fail_after(self.timeout * 2):
                self._keys = await self._fetch()
        except KeysUnavailable as exc:
            self._failed = (now, exc.message)
            if not self._keys:  # keys cached before stay in use while the issuer is down
                raise
            return
        except TimeoutError:
            message = f"the issuer's keys did not arrive within {self.timeout * 2:g} s"
            self._failed = (now, message)
            if not self._keys:
                raise KeysUnavailable(message) from None
            return
        self._fetched, self._failed = now, None
        self.fetches += 1

    async def _fetch(self) -> list[SigningKey]:
        import httpx

        async with httpx.AsyncClient(
            timeout=self.timeout, transport=self.transport, follow_redirects=False
        ) as client:
            if self.jwks_url is None:
                self.jwks_url = await discover(client, self.oauth.issuer)
            return parse_jwks(await get_json(client, self.jwks_url))


async def discover(client: httpx.AsyncClient, issuer: str) -> str:
    """The ``jwks_uri`` of the issuer's metadata (RFC 8414, then OpenID Connect discovery)."""
    problems = []
    for url in metadata_urls(issuer):
        try:
            metadata = await get_json(client, url)
        except KeysUnavailable as exc:
            problems.append(exc.message)
            continue
        if metadata.get("issuer") != issuer:
            problems.append(f"{url} names issuer {str(metadata.get('issuer'))[:200]!r}")
            continue
        jwks_uri = metadata.get("jwks_uri")
        try:
            secure_url(str(jwks_uri))
        except ValueError as exc:
            problems.append(f"{url}: jwks_uri: {exc}")
            continue
        return str(jwks_uri)
    raise KeysUnavailable(
        "no metadata of the issuer gives its keys (set inbound.oauth.jwks_url): "
        + "; ".join(problems)
    )


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer publishes its metadata: RFC 8414 puts the well-known segment before
    the issuer's path; OpenID Connect appends it."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]


async def get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """A JSON object from ``url``, at most ``MAX_BYTES``; else ``KeysUnavailable``."""
    import httpx

    try:
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as reply:
            if reply.status_code != 200:
                raise KeysUnavailable(f"{url} answered HTTP {reply.status_code}")
            body = bytearray()
            async for chunk in reply.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise KeysUnavailable(f"{url} sent more than {MAX_BYTES:,} bytes")
    except httpx.TimeoutException:
        raise KeysUnavailable(f"{url} did not answer in time") from None
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise KeysUnavailable(f"{url} could not be fetched: {reason}") from None
    try:
        data = json.loads(bytes(body))
    except ValueError:
        raise KeysUnavailable(f"{url} did not answer with JSON") from None
    if not isinstance(data, dict):
        raise KeysUnavailable(f"{url} did not answer with a JSON object")
    return data


def parse_jwks(data: dict[str, Any]) -> list[SigningKey]:
    """The signature keys of a JWK Set (keys for encryption, or of unknown types, skipped)."""
    from jwt import PyJWK
    from jwt.exceptions import PyJWKError

    entries = data.get("keys")
    if not isinstance(entries, list):
        raise KeysUnavailable("the issuer's JWKS has no keys list")
    keys = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in ("RSA", "EC", "OKP"):  # never a shared (HMAC) secret
            continue
        try:
            jwk = PyJWK(entry)
        except (PyJWKError, ValueError, TypeError):
            continue  # a key type or curve this server cannot use
        kid, alg = entry.get("kid"), entry.get("alg")
        keys.append(
            SigningKey(
                jwk=jwk,
                kid=kid if isinstance(kid, str) else None,
                kty=str(entry["kty"]),
                alg=alg if isinstance(alg, str) else None,
            )
        )
    return keys


def pick(keys: list[SigningKey], kid: str | None) -> SigningKey | None:
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((k for k in keys if k.kid == kid), None)
