"""An OAuth issuer for the inbound-auth tests: RSA and EC signing keys made with
``cryptography``, its RFC 8414 / OpenID metadata and JWKS served over a threaded HTTP server
on 127.0.0.1, and access tokens minted with any claims, header or key (rotation included).

It signs exactly as an authorization server does (PyJWT over real keys); what it does not do
is authenticate anyone: a test asks for the token it needs. ``hits`` counts each path served,
``mode`` makes the JWKS fail ("down": HTTP 503, "hang": no answer for ``hang_for`` seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "http://127.0.0.1/mcp"  # the resource the tests' servers say they are


@dataclass
class Key:
    kid: str
    alg: str
    private: Any

    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.algorithms.RSAAlgorithm if self.alg.startswith("RS") else None
        if algorithm is None:
            algorithm = jwt.algorithms.ECAlgorithm
        jwk = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def public_pem(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


def new_key(alg: str = "RS256") -> Key:
    if alg.startswith("RS"):
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = ec.generate_private_key(ec.SECP256R1())
    return Key(kid=f"{alg.lower()}-{uuid.uuid4().hex[:8]}", alg=alg, private=private)


class Issuer:
    def __init__(self, *algs: str) -> None:
        self.keys = [new_key(alg) for alg in (algs or ("RS256",))]
        self.hits: Counter[str] = Counter()
        self.mode = ""  # "", "down" or "hang"
        self.hang_for = 30.0
        self.release = threading.Event()  # ends a hang early (at shutdown)
        self.hidden: set[str] = set()  # paths answered 404
        self.claimed = ""  # the issuer its metadata names, when not its own URL
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True

    def __enter__(self) -> Issuer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def key(self) -> Key:
        return self.keys[0]

    def rotate(self, alg: str = "RS256") -> Key:
        """A new signing key replaces every published one."""
        self.keys = [new_key(alg)]
        return self.keys[0]

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.claimed or self.url,
            "jwks_uri": f"{self.url}/jwks",
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.keys]}

    def claims(self, **claims: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {
            "iss": self.url,
            "sub": "alice",
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "scope": "appctl:read appctl:write",
            "client_id": "test-client",
        }
        base.update(claims)
        return {k: v for k, v in base.items() if v is not None}  # None: leave the claim out

    def mint(
        self, *, key: Key | None = None, header: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        """A token signed with ``key`` (default: the first published one); ``claims``
        override the defaults (None removes one)."""
        key = key or self.key
        headers = {"kid": key.kid, **(header or {})}
        headers = {k: v for k, v in headers.items() if v is not None}  # None: left out
        return jwt.encode(self.claims(**claims), key.private, algorithm=key.alg, headers=headers)

    def signed(self, claims: dict[str, Any], *, key: Key | None = None) -> str:
        """Any JSON ``claims`` signed as they are (PyJWT's encode refuses wrong types)."""
        key = key or self.key
        payload = json.dumps(claims).encode()
        return jwt.PyJWS().encode(payload, key.private, algorithm=key.alg, headers={"kid": key.kid})

    def unsigned(self, **claims: Any) -> str:
        """``alg: none``: a token with no signature at all."""
        return ".".join([b64({"alg": "none", "typ": "JWT"}), b64(self.claims(**claims)), ""])

    def hmac_with_public_key(self, **claims: Any) -> str:
        """HS256 keyed with the issuer's public key (the algorithm-confusion attack)."""
        head = b64({"alg": "HS256", "typ": "JWT", "kid": self.key.kid})
        body = b64(self.claims(**claims))
        mac = hmac.new(self.key.public_pem(), f"{head}.{body}".encode(), hashlib.sha256)
        return f"{head}.{body}.{b64raw(mac.digest())}"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                issuer.hits[path] = issuer.hits[path] + 1
                if path in issuer.hidden:
                    self._json(404, {"error": "not found"})
                elif path in (
                    "/.well-known/oauth-authorization-server",
                    "/.well-known/openid-configuration",
                ):
                    self._json(200, issuer.metadata())
                elif path == "/jwks" and issuer.mode == "hang":
                    issuer.release.wait(issuer.hang_for)
                    self._json(503, {})
                elif path == "/jwks" and issuer.mode == "down":
                    self._json(503, {"error": "down"})
                elif path == "/jwks":
                    self._json(200, issuer.jwks())
                else:
                    self._json(404, {"error": "not found"})

            def _json(self, status: int, data: Any) -> None:
                body = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (a hang test)
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def b64(data: dict[str, Any]) -> str:
    return b64raw(json.dumps(data).encode())


def b64raw(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
