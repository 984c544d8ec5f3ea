"""Inbound auth at its edges: hundreds of malformed and fuzzed tokens (never a 500), the
``inbound:`` config refusing what it must, the headers a caller keeps, loopback without
authentication, and ``appctl serve`` started with ``inbound.tokens``."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from appctl.config import Config
from appctl.errors import UsageError
from appctl.serve.inbound.verify import beyond_loopback, server_verifier
from tests.identity.inbound_app import Upstream, project, rest_app
from tests.identity.issuer import AUDIENCE, Issuer, b64, b64raw
from tests.serve.test_rest import Served


def fuzzed(issuer: Issuer, count: int) -> list[str]:
    """Tokens that are not valid: random text, broken JWT parts, mutated real tokens,
    headers with wrong types, claims of wrong types."""
    rng = random.Random(2121)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/~ "
    real = issuer.mint()
    tokens = [
        ".",
        "..",
        "...",
        "a.b.c",
        "e30.e30.",
        "e30.e30.e30",
        real + ".extra",
        real[: len(real) // 2],
        "x" * 20_000,
        b64({"alg": ["RS256"], "kid": 1}) + "." + b64({}) + ".sig",
        b64({"alg": "RS256", "kid": {"a": 1}}) + "." + b64({}) + ".sig",
        b64({"alg": "RS256", "kid": issuer.key.kid, "crit": ["b64"]}) + ".e30.c2ln",
        b64raw(b"\xff\xfe") + "." + b64raw(b"\x00") + ".",
        b64({"alg": "ES256"}) + "." + b64({"sub": "x"}) + ".",
    ]
    for name, value in (("exp", "soon"), ("aud", 7), ("iss", ["x"]), ("scope", 5), ("sub", 5)):
        tokens.append(issuer.signed(issuer.claims(**{name: value})))
    while len(tokens) < count:
        kind = rng.randrange(3)
        if kind == 0:
            tokens.append("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 400))))
        elif kind == 1:
            chars = list(real)
            for _ in range(rng.randrange(1, 6)):
                chars[rng.randrange(len(chars))] = rng.choice(alphabet[:64])
            mutated = "".join(chars)
            if same_bytes(mutated, real):  # a change in a last character's unused bits
                continue
            tokens.append(mutated)
        else:
            parts = [base64.urlsafe_b64encode(rng.randbytes(rng.randrange(0, 90))).decode()]
            tokens.append(".".join(parts * rng.randrange(1, 5)))
    return [t.strip() or "x" for t in tokens]


def same_bytes(token: str, real: str) -> bool:
    """Whether ``token`` decodes to the very bytes of ``real``: base64url's last character
    of a segment carries bits the decoder drops, so changing them leaves the token valid."""
    if token.count(".") != real.count("."):
        return False
    try:
        pairs = zip(token.split("."), real.split("."), strict=True)
        return all(
            base64.urlsafe_b64decode(a + "=" * (-len(a) % 4))
            == base64.urlsafe_b64decode(b + "=" * (-len(b) % 4))
            for a, b in pairs
        )
    except ValueError:  # not base64 at all: certainly not the same token
        return False


def test_fuzzed_tokens_are_refused_never_a_500(
    tmp_path: Path, issuer: Issuer, upstream: Upstream
) -> None:
    inbound = {"oauth": {"issuer": issuer.url, "resource": AUDIENCE}}
    app, spied = rest_app(project(tmp_path, upstream.url, inbound), {})
    tokens = fuzzed(issuer, 400)
    with TestClient(app, raise_server_exceptions=True) as client:
        for token in tokens:
            reply = client.get("/tools", headers={"Authorization": f"Bearer {token}"})
            assert reply.status_code in (401, 403), (token, reply.text)
            challenge = reply.headers["www-authenticate"]
            assert challenge.startswith("Bearer ")
            message = reply.json()["error"]["message"]
            assert message
            if len(token) >= 8:  # shorter ones occur in the words by chance
                assert token not in challenge and token not in message
    assert spied.callers == [] and upstream.seen == []
    assert issuer.hits["/jwks"] <= 2  # made-up key ids refetch within the rate limit only


@pytest.mark.parametrize(
    ("inbound", "problem"),
    [
        ({"tokens": {"ci": {"token": "literal-secret"}}}, "env:NAME reference"),
        (
            {"oauth": {"issuer": "https://i.example", "resource": "x", "algorithms": ["HS256"]}},
            "algorithms",
        ),
        (
            {
                "oauth": {
                    "issuer": "https://i.example",
                    "resource": "https://r",
                    "algorithms": ["none"],
                }
            },
            "algorithms",
        ),
        (
            {"oauth": {"issuer": "http://login.example.com", "resource": "https://r"}},
            "must use https",
        ),
        ({"oauth": {"issuer": "https://i.example", "resource": "https://r#frag"}}, "fragment"),
        ({"oauth": {"issuer": "https://i.example"}}, "resource"),
        ({"bearer": {}}, "bearer"),
    ],
)
def test_the_config_refuses(inbound: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Config.model_validate({"inbound": inbound})


def test_unset_token_variables_stop_the_server_at_start() -> None:
    settings = Config.model_validate({"inbound": {"tokens": {"ci": {"token": "env:CI_T"}}}})
    with pytest.raises(UsageError, match=r"inbound\.tokens\.ci names CI_T, which is not set"):
        server_verifier(settings.inbound, {}, token_env=None)
    with pytest.raises(UsageError, match="--token-env names NOPE, which is not set"):
        server_verifier(Config().inbound, {}, token_env="NOPE")
    assert server_verifier(Config().inbound, {}, token_env=None) is None
    with pytest.raises(UsageError, match="beyond loopback"):
        beyond_loopback("0.0.0.0", None)
    beyond_loopback("127.0.0.1", None)
    beyond_loopback("0.0.0.0", server_verifier(settings.inbound, {"CI_T": "x"}, token_env=None))


def test_a_caller_keeps_only_the_wanted_headers_never_credentials() -> None:
    """InboundAuth keeps the per-user headers it is given (``wanted_headers(config.auth)``),
    never Authorization or cookies even when named, and the bearer token as ``token``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from appctl.serve.inbound import current_caller, request_caller
    from appctl.serve.inbound.middleware import InboundAuth

    seen = []

    async def probe(request: Request) -> JSONResponse:
        seen.append((request_caller(request), current_caller()))
        return JSONResponse({})

    settings = Config.model_validate({"inbound": {"tokens": {"ci": {"token": "env:CI_T"}}}})
    verifier = server_verifier(settings.inbound, {"CI_T": "ci-value"}, token_env=None)
    wanted = {"X-User-Token", "authorization", "cookie"}
    app = InboundAuth(Starlette(routes=[Route("/p", probe)]), verifier, wanted=wanted)
    headers = {
        "Authorization": "Bearer ci-value",
        "X-User-Token": "per-user",
        "Cookie": "session=abc",
        "X-Other": "nope",
    }
    with TestClient(app) as client:
        assert client.get("/p", headers=headers).status_code == 200
    by_scope, by_context = seen[-1]
    assert by_scope is not None and by_scope == by_context
    assert by_scope.name == "ci" and by_scope.token == "ci-value"
    assert dict(by_scope.headers) == {"x-user-token": "per-user"}


def test_loopback_without_authentication_is_anonymous(tmp_path: Path, upstream: Upstream) -> None:
    app, spied = rest_app(project(tmp_path, upstream.url, {}), {})
    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.post("/tools/list_items/call", json={"arguments": {}})
        assert reply.status_code == 200
        assert client.get("/.well-known/oauth-protected-resource").status_code == 404
    caller = spied.callers[-1]
    assert caller is not None and (caller.name, caller.kind) == ("anonymous", "anonymous")


def test_appctl_serve_with_inbound_tokens(tmp_path: Path, upstream: Upstream) -> None:
    inbound = {"tokens": {"ci-bot": {"token": "env:CI_T"}}}
    project(tmp_path, upstream.url, inbound)
    served = Served(tmp_path, env={"CI_T": "serve-ci-token"})
    try:
        url = f"{served.url}/tools/list_items/call"
        assert httpx.post(url, json={"arguments": {}}, timeout=10).status_code == 401
        headers = {"Authorization": "Bearer serve-ci-token"}
        reply = httpx.post(url, json={"arguments": {}}, headers=headers, timeout=10)
        assert reply.status_code == 200, reply.text
    finally:
        err = served.stop()
    assert "bearer tokens required" in err and "Traceback" not in err
    assert b"serve-ci-token" not in upstream.everything()
    assert json.dumps(inbound)  # the config the server read


def test_websockets_are_closed_when_authentication_is_on(
    tmp_path: Path, upstream: Upstream
) -> None:
    from starlette.websockets import WebSocketDisconnect

    app_dir = project(tmp_path, upstream.url, {"tokens": {"ci": {"token": "env:CI_T"}}})
    app, _ = rest_app(app_dir, {"CI_T": "ci-value"})
    headers = {"Authorization": "Bearer ci-value"}
    with (
        TestClient(app) as client,
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/tools", headers=headers),
    ):
        pass
    assert closed.value.code == 1008
