"""The wire under the HTTP executor: httpcore connection pools and nothing else.

appctl builds every request itself (``execute.request``), follows redirects itself and reads
bodies under a size cap, so httpx's ``Client`` layer (URL and header models, cookie jars,
auth and redirect generators, event hooks) would only add work: about 250 µs a request on a
small machine. The executor talks to httpcore, httpx's own transport, directly, and keeps
what the client layer gave: pooled keep-alive connections, per-phase timeouts, TLS verified
against certifi (or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), proxies from ``HTTP_PROXY`` /
``HTTPS_PROXY`` / ``ALL_PROXY`` with ``NO_PROXY``, and gzip/deflate response decoding (the
size cap applies to the decoded body, so a compressed bomb stops at the cap).

Every pool's network backend is ``execute.deadline.DeadlineBackend``: ``exchange(...,
deadline=)`` bounds the whole exchange (connect, TLS, send, every read of headers and body),
not only each socket operation, so a peer that trickles bytes cannot hold a call past it.

Failures are three exceptions: ``TransportTimeout``, ``TransportFailure`` and
``TransportRefused`` (the request itself could not be written, e.g. a header value the HTTP
library rejects: retrying cannot help), each with a message that names what went wrong.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

if TYPE_CHECKING:
    import ssl

    import httpcore

MAX_CONNECTIONS = 100
MAX_KEEPALIVE = 20
KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept (servers often close at 5-15 s)
ACCEPT_ENCODING = b"gzip, deflate"


class TransportTimeout(Exception):
    """Connecting, sending, waiting for a free connection or reading took too long."""


class TransportFailure(Exception):
    """The exchange failed below HTTP: refused or dropped connection, TLS, proxy, protocol."""


class TransportRefused(Exception):
    """The HTTP library refused to write the request as given (nothing useful was sent)."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    read: float  # also used for writing and for waiting on the pool

    def extension(self) -> dict[str, float]:
        return {"connect": self.connect, "read": self.read, "write": self.read, "pool": self.read}


@dataclass(frozen=True, slots=True)
class Answer:
    """One response: status, headers (lower-case names; repeated ones joined by ``, ``), the
    decoded body up to the cap, and whether it was cut there."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"


class Transport:
    """Thread-safe pools, one per (scheme, proxy), made on first use."""

    def __init__(self, *, trust_env: bool = True) -> None:
        self.trust_env = trust_env
        self._pools: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._proxies: dict[str, str] | None = None

    def exchange(
        self,
        method: str,
        url: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes | None,
        timeouts: Timeouts,
        limit: int,
        deadline: float | None = None,
    ) -> Answer:
        """Send one request and read its decoded body up to ``limit`` bytes (then stop), all
        of it before ``deadline`` (a ``time.monotonic()`` value) when one is given."""
        import httpcore

        from appctl.execute.deadline import within

        scheme = url.partition(":")[0].lower()
        if scheme not in ("http", "https"):
            raise TransportFailure(f"unsupported URL scheme {scheme!r}: use http or https")
        wire = url.encode("ascii") if url.isascii() else _ascii_url(url)
        try:
            pool = self._pool(scheme, self._proxy_for(scheme, url))
            with (
                within(deadline),
                pool.stream(
                    method.encode("ascii"),
                    _target(wire),
                    headers=[(b"Accept-Encoding", ACCEPT_ENCODING), *headers],
                    content=body,
                    extensions={"timeout": timeouts.extension()},
                ) as response,
            ):
                fields = _headers(response.headers)
                data, truncated = _read(response.iter_stream(), fields, limit)
                return Answer(url, response.status, fields, data, truncated)
        except httpcore.TimeoutException as exc:
            raise TransportTimeout(f"{type(exc).__name__}: {exc or 'timed out'}") from None
        except httpcore.LocalProtocolError:
            raise TransportRefused(  # h11's message quotes the value, perhaps a secret
                "the request could not be sent as given: a header HTTP does not allow (a "
                "value with leading or trailing spaces, or a bad name); check the arguments "
                "and the credentials in the env: variables"
            ) from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError) as exc:
            raise TransportFailure(_failure(exc)) from None
        except httpcore.UnsupportedProtocol as exc:
            raise TransportFailure(f"UnsupportedProtocol: {exc}") from None

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    # ----------------------------------------------------------------------- pools, proxies

    def _proxy_for(self, scheme: str, url: str) -> str:
        """The proxy URL for this request ('' for none), the way curl and httpx read the
        environment: ``<scheme>_proxy`` then ``all_proxy``, unless ``no_proxy`` matches."""
        if not self.trust_env:
            return ""
        if self._proxies is None:
            self._proxies = {k: v for k, v in getproxies().items() if v}
        proxies = self._proxies
        found = proxies.get(scheme) or proxies.get("all") or ""
        if not found:
            return ""
        host = urlsplit(url).netloc.rpartition("@")[2]
        if "no" in proxies and proxy_bypass(host):
            return ""
        return found if "://" in found else f"http://{found}"

    def _pool(self, scheme: str, proxy: str) -> Any:
        key = (scheme, proxy)
        pool = self._pools.get(key)
        if pool is not None:
            return pool
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = _make_pool(scheme, proxy, self.trust_env)
        return pool


def _make_pool(scheme: str, proxy: str, trust_env: bool) -> httpcore.ConnectionPool:
    import httpcore

    from appctl.execute.deadline import DeadlineBackend

    options: dict[str, Any] = {
        "network_backend": DeadlineBackend(),
        "max_connections": MAX_CONNECTIONS,
        "max_keepalive_connections": MAX_KEEPALIVE,
        "keepalive_expiry": KEEPALIVE_EXPIRY,
    }
    if scheme == "https" or proxy.startswith("https:"):
        options["ssl_context"] = ssl_context(trust_env)
    if not proxy:
        return httpcore.ConnectionPool(**options)
    parts = urlsplit(proxy)
    auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    kind = parts.scheme.lower()
    if kind in ("http", "https"):
        return httpcore.HTTPProxy(proxy_url=bare, proxy_auth=auth, **options)
    if kind in ("socks5", "socks5h"):
        try:
            return httpcore.SOCKSProxy(proxy_url=bare, proxy_auth=auth, **options)
        except RuntimeError:  # httpcore's way of saying socksio is missing
            raise TransportFailure(
                f"the proxy {bare} is SOCKS: install socksio (pip install socksio) to use it"
            ) from None
    raise TransportFailure(f"unsupported proxy scheme {kind!r} in {bare}: use http(s) or socks5")


def ssl_context(trust_env: bool = True) -> ssl.SSLContext:
    """Verify against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else certifi's bundle."""
    import ssl

    if trust_env and os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if trust_env and os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


# --------------------------------------------------------------------------- helpers


def _ascii_url(url: str) -> bytes:
    """A URL with a non-ASCII host (IDNA) or path (percent-encoded) as bytes for the wire."""
    import httpx

    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    host = parsed.raw_host.decode("ascii")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parsed.scheme}://{host}{port}".encode("ascii") + parsed.raw_path


def _target(wire: bytes) -> Any:
    """The URL as httpcore takes it, split with ``urlsplit``: httpcore's own parsing
    (``urlparse``) drops a last segment's ``;params``, the matrix style's ``;color=blue``."""
    import httpcore

    parts = urlsplit(wire)
    target = (parts.path or b"/") + (b"?" + parts.query if parts.query else b"")
    return httpcore.URL(
        scheme=parts.scheme, host=parts.hostname or b"", port=parts.port, target=target
    )


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def _read(chunks: Iterator[bytes], headers: Mapping[str, str], limit: int) -> tuple[bytes, bool]:
    """The body, decoded per Content-Encoding, up to ``limit`` bytes; True if cut there."""
    coding = headers.get("content-encoding", "").strip().lower()
    decoder: Any = None
    if coding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
    elif coding == "deflate":
        decoder = _Deflate()
    body = bytearray()
    for chunk in chunks:
        if decoder is not None:
            try:
                chunk = decoder.decompress(chunk, limit + 1 - len(body))
            except zlib.error as exc:
                raise TransportFailure(f"DecodingError: bad {coding} body: {exc}") from None
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    if decoder is not None:
        body += decoder.flush()
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


class _Deflate:
    """``deflate`` as servers send it: zlib-wrapped per the RFC, or raw (a common mistake)."""

    def __init__(self) -> None:
        self._decoder: Any = None

    def decompress(self, data: bytes, limit: int) -> bytes:
        if self._decoder is None:
            self._decoder = zlib.decompressobj()
            try:
                return bytes(self._decoder.decompress(data, limit))
            except zlib.error:
                self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
        return bytes(self._decoder.decompress(data, limit))

    def flush(self) -> bytes:
        return bytes(self._decoder.flush()) if self._decoder is not None else b""


def _failure(exc: Exception) -> str:
    text = str(exc) or "the connection failed"
    return f"{type(exc).__name__}: {text}"
