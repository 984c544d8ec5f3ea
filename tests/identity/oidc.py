"""A real OAuth issuer for the identity tests: panva's ``oidc-provider`` (npm 9.13.3, an
OpenID Certified provider), run offline by ``oidc_issuer.mjs`` on 127.0.0.1.

``running_issuer(...)`` starts it and yields an ``Issuer``: its URL, its signing key's id,
``token(...)`` for client-credentials tokens, ``restart()`` for key rotation (the same port,
so the same issuer URL, with a new key). ``login(...)`` drives an authorization request
through the issuer's login step (``/interaction/UID?account=NAME``, no person needed) to
the client's redirect URI and returns the code, state and iss from there.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest

from tests.conftest import NPM

SCRIPT = Path(__file__).with_name("oidc_issuer.mjs")
PROVIDER = NPM / "oidc-provider" / "lib" / "index.js"
SCOPES = ("appctl:read", "appctl:write")


@dataclass(frozen=True)
class Account:
    """Someone who may sign in: the claims their access tokens carry, the scopes they may be
    granted (None: every scope the issuer has)."""

    claims: Mapping[str, Any] = field(default_factory=dict)
    scopes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StaticClient:
    """A client-credentials client acting as ``account``; ``ttl``: its tokens' lifetime."""

    client_id: str
    secret: str
    account: str
    ttl: int | None = None


class Issuer:
    """oidc-provider in a child process; ``url`` is its issuer identifier (no trailing slash,
    as the tokens' ``iss`` says)."""

    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self._workdir = workdir
        self._config = config
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.kid = ""
        self.starts = 0
        self._start()

    def _start(self) -> None:
        node = shutil.which("node")
        assert node, "node is not installed: run scripts/setup"
        self.starts += 1
        path = self._workdir / f"oidc-issuer-{self.starts}.json"
        path.write_text(json.dumps(self._config))
        stderr = (self._workdir / f"oidc-issuer-{self.starts}.log").open("w")
        self._proc = subprocess.Popen(
            [node, str(SCRIPT), str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NODE_ENV": "test"},
        )
        stderr.close()
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], 30)
        line = self._proc.stdout.readline() if ready else ""  # the ready line, or "" if not
        if not line:
            self.stop()
            log = (self._workdir / f"oidc-issuer-{self.starts}.log").read_text()
            raise AssertionError(f"oidc_issuer.mjs did not start: {log}")
        ready = json.loads(line)
        self.url, self.kid = ready["issuer"], ready["kid"]
        self._config["port"] = urlsplit(self.url).port  # a restart keeps the issuer URL

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None

    def restart(self) -> None:
        """Key rotation: the same issuer at the same URL, signing with a new key."""
        old = self.kid
        self.stop()
        self._start()
        assert self.kid != old

    def token(self, client: StaticClient, *, resource: str, scope: str = " ".join(SCOPES)) -> str:
        """A client-credentials access token (a JWT) for ``resource``."""
        response = httpx.post(
            f"{self.url}/token",
            data={"grant_type": "client_credentials", "resource": resource, "scope": scope},
            auth=(client.client_id, client.secret),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        assert isinstance(token, str)
        return token

    def jwks(self) -> dict[str, Any]:
        keys = httpx.get(f"{self.url}/jwks", timeout=10).json()
        assert isinstance(keys, dict)
        return keys


@contextmanager
def running_issuer(
    workdir: Path,
    *,
    accounts: Mapping[str, Account],
    clients: tuple[StaticClient, ...] = (),
    scopes: tuple[str, ...] = SCOPES,
    ttl: int = 300,
) -> Iterator[Issuer]:
    """oidc-provider on a free port of 127.0.0.1, stopped at the end."""
    if not PROVIDER.exists():
        pytest.skip("oidc-provider is not installed: run scripts/setup")
    config: dict[str, Any] = {
        "npm": str(NPM),
        "port": 0,
        "scopes": list(scopes),
        "ttl": ttl,
        "accounts": {
            name: {
                "claims": dict(a.claims),
                **({"scopes": list(a.scopes)} if a.scopes is not None else {}),
            }
            for name, a in accounts.items()
        },
        "clients": [
            {
                "client_id": c.client_id,
                "client_secret": c.secret,
                "account": c.account,
                **({"ttl": c.ttl} if c.ttl is not None else {}),
            }
            for c in clients
        ],
    }
    issuer = Issuer(workdir, config)
    try:
        yield issuer
    finally:
        issuer.stop()


@dataclass(frozen=True)
class Redirect:
    """What the issuer sent the client's redirect URI (``url``: all of it)."""

    url: str
    code: str
    state: str | None
    iss: str | None


def login(authorization_url: str, *, account: str, redirect_uri: str) -> Redirect:
    """Follow an authorization request through the issuer as a browser would, signing in as
    ``account`` at the login step, until the issuer redirects to ``redirect_uri``."""
    with httpx.Client(timeout=10) as browser:
        url = authorization_url
        for _ in range(10):
            if url.startswith(redirect_uri):
                query = parse_qs(urlsplit(url).query)
                assert "code" in query, f"the issuer refused: {query}"
                return Redirect(
                    url=url,
                    code=query["code"][0],
                    state=query.get("state", [None])[0],
                    iss=query.get("iss", [None])[0],
                )
            if urlsplit(url).path.startswith("/interaction/"):
                url = f"{url}?{urlencode({'account': account})}"
            response = browser.get(url)
            assert response.status_code in (302, 303), (url, response.text)
            url = urljoin(url, response.headers["location"])
    raise AssertionError(f"no redirect to {redirect_uri} after 10 hops")
