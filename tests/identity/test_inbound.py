"""Inbound OAuth 2.1 for ``appctl serve``: JWT validation against a real issuer's JWKS on
127.0.0.1 (tests/identity/issuer.py), the challenges' exact headers, scopes, key rotation,
static tokens, and the caller each call runs as. The app is ``appctl serve``'s own, driven
in process; the issuer and the upstream API are real HTTP servers in threads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from appctl.serve.inbound.jwks import KeySet
from tests.identity.inbound_app import Spied, Upstream, project, rest_app
from tests.identity.issuer import AUDIENCE, Issuer, new_key

METADATA = "http://127.0.0.1/.well-known/oauth-protected-resource/mcp"
SCOPE = 'scope="appctl:read appctl:write"'
STATIC = {"CI_TOKEN": "ci-secret-1234", "DASH_TOKEN": "dash-secret-5678"}
TOKENS = {
    "ci-bot": {"token": "env:CI_TOKEN", "groups": ["ci"]},
    "dashboard": {"token": "env:DASH_TOKEN", "read_only": True},
}


class Served:
    def __init__(self, client: TestClient, spied: Spied, upstream: Upstream) -> None:
        self.client, self.spied, self.upstream = client, spied, upstream

    def call(self, tool: str, token: str | None, **arguments: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        url = f"/tools/{tool}/call"
        return self.client.post(url, json={"arguments": arguments}, headers=headers)


@pytest.fixture
def served(tmp_path: Path, issuer: Issuer, upstream: Upstream) -> Iterator[Served]:
    inbound = {"oauth": {"issuer": issuer.url, "resource": AUDIENCE}, "tokens": TOKENS}
    app, spied = rest_app(project(tmp_path, upstream.url, inbound), STATIC)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Served(client, spied, upstream)


def challenge(error: str = "", description: str = "") -> str:
    said = f'error="{error}", error_description="{description}", ' if error else ""
    return f'Bearer {said}resource_metadata="{METADATA}", {SCOPE}'


def test_a_valid_token_calls_as_its_subject(served: Served, issuer: Issuer) -> None:
    token = issuer.mint(groups=["ops", "eng"], roles="admin")
    reply = served.call("list_items", token)
    assert reply.status_code == 200, reply.text
    assert reply.json()["data"] == [{"id": 1, "name": "one"}]
    caller = served.spied.callers[-1]
    assert caller is not None
    assert (caller.name, caller.kind, caller.groups) == ("alice", "oauth", ("ops", "eng", "admin"))
    assert caller.scopes == {"appctl:read", "appctl:write"} and not caller.read_only
    assert caller.token == token and caller.claims["client_id"] == "test-client"
    es = issuer.mint(key=issuer.keys[1], sub="bob")  # the EC key (ES256) too
    assert served.call("create_item", es, name="x").status_code == 200
    assert served.spied.callers[-1] is not None and served.spied.callers[-1].name == "bob"
    assert token.encode() not in served.upstream.everything()
    assert es.encode() not in served.upstream.everything()


def test_without_a_token_the_challenge_points_at_the_metadata(served: Served) -> None:
    reply = served.call("list_items", None)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == challenge()
    assert "Bearer" in reply.json()["error"]["message"]
    basic = served.client.get("/tools", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401 and basic.headers["www-authenticate"] == challenge()
    assert served.client.get("/health").status_code == 200  # open to all
    assert served.spied.callers == [] and served.upstream.seen == []


def _refused(issuer: Issuer) -> dict[str, tuple[str, str]]:
    """Each refused token and the description its challenge gives."""
    now = int(time.time())
    stranger = new_key("RS256")
    stranger.kid = issuer.key.kid  # the published key's id, another key's signature
    confused = new_key("RS256")
    confused.kid = issuer.keys[1].kid  # an RSA signature naming the EC key
    return {
        "wrong audience": (
            issuer.mint(aud="https://elsewhere.example/mcp"),
            f"the token's audience is not this server ({AUDIENCE})",
        ),
        "wrong issuer": (
            issuer.mint(iss="https://evil.example"),
            f"the token's issuer is not {issuer.url}",
        ),
        "expired": (issuer.mint(exp=now - 120), "the token has expired"),
        "expired within leeway is fine, not yet valid is not": (
            issuer.mint(exp=now - 5, nbf=now + 600),
            "the token is not valid yet (nbf or iat)",
        ),
        "issued in the future": (
            issuer.mint(iat=now + 600),
            "the token is not valid yet (nbf or iat)",
        ),
        "no exp": (issuer.mint(exp=None), "the token has no exp claim"),
        "no subject": (issuer.mint(sub=None), "the token has no usable subject (sub claim)"),
        "bad signature": (
            issuer.mint(key=stranger),
            "the token's signature does not verify against the issuer's key",
        ),
        "unpublished key": (
            issuer.mint(key=new_key("RS256")),
            "the token is signed by a key the issuer does not publish",
        ),
        "alg none": (
            issuer.unsigned(),
            "the token's algorithm is not accepted (allowed: RS256, ES256)",
        ),
        "HS256 keyed with the public key": (
            issuer.hmac_with_public_key(),
            "the token's algorithm is not accepted (allowed: RS256, ES256)",
        ),
        "RS256 on the EC key's id": (
            issuer.mint(key=confused),
            "the token's algorithm does not fit the issuer's key",
        ),
        "no kid, two keys": (
            issuer.mint(header={"kid": None}),
            "the token names no key (kid) and the issuer publishes several",
        ),
        "not a JWT": ("not-a-jwt", "the token is not a well-formed JWT"),
    }


def test_refused_tokens_say_why(served: Served, issuer: Issuer) -> None:
    for case, (token, why) in _refused(issuer).items():
        reply = served.call("list_items", token)
        assert reply.status_code == 401, (case, reply.text)
        assert reply.headers["www-authenticate"] == challenge("invalid_token", why), case
        assert reply.json()["error"] == {"message": why, "code": "invalid_token"}, case
        assert token not in reply.text and token not in str(reply.headers), case
    assert served.spied.callers == [] and served.upstream.seen == []


def test_missing_scope_is_403_before_any_call(served: Served, issuer: Issuer) -> None:
    reply = served.call("list_items", issuer.mint(scope="openid profile"))
    assert reply.status_code == 403
    why = "the token grants neither appctl:read nor appctl:write"
    assert reply.headers["www-authenticate"] == challenge("insufficient_scope", why)
    assert served.spied.callers == [] and served.upstream.seen == []


def test_the_read_scope_reads_and_is_refused_a_write(served: Served, issuer: Issuer) -> None:
    reader = issuer.mint(scope="appctl:read")
    assert served.call("list_items", reader).status_code == 200
    refused = served.call("create_item", reader, name="x")
    assert refused.status_code == 403
    assert "lacks the write scope" in refused.json()["error"]["message"]
    caller = served.spied.callers[-1]
    assert caller is not None and caller.read_only
    assert [r.split(b" ")[0] for r in served.upstream.seen] == [b"GET"]  # the write never left
    writer = issuer.mint(scope=None, scp=["appctl:write"])  # scp as a list (Azure, Okta)
    assert served.call("create_item", writer, name="x").status_code == 200


def test_a_rotated_key_is_fetched_once_and_the_old_one_dropped(
    served: Served, issuer: Issuer
) -> None:
    old = issuer.mint()
    assert served.call("list_items", old).status_code == 200
    assert issuer.hits["/jwks"] == 1
    assert served.call("list_items", issuer.mint()).status_code == 200
    assert issuer.hits["/jwks"] == 1  # cached
    issuer.rotate()
    assert served.call("list_items", issuer.mint()).status_code == 200  # no restart
    assert issuer.hits["/jwks"] == 2
    reply = served.call("list_items", old)
    assert reply.status_code == 401 and "does not publish" in reply.json()["error"]["message"]


def test_a_flood_of_unknown_key_ids_does_not_hammer_the_issuer(
    served: Served, issuer: Issuer
) -> None:
    assert served.call("list_items", issuer.mint()).status_code == 200
    strangers = [new_key("ES256") for _ in range(4)]
    for n in range(200):
        key = strangers[n % 4]
        key.kid = f"made-up-{n}"
        assert served.call("list_items", issuer.mint(key=key)).status_code == 401
    assert issuer.hits["/jwks"] <= 2  # one refetch in the interval, however many tokens


def test_static_tokens_are_named_callers(served: Served) -> None:
    assert served.call("create_item", STATIC["CI_TOKEN"], name="x").status_code == 200
    caller = served.spied.callers[-1]
    assert caller is not None
    assert (caller.name, caller.kind, caller.groups, caller.read_only) == (
        "ci-bot",
        "token",
        ("ci",),
        False,
    )
    refused = served.call("create_item", STATIC["DASH_TOKEN"], name="x")
    assert refused.status_code == 403 and "lacks the write scope" in refused.text
    caller = served.spied.callers[-1]
    assert caller is not None and (caller.name, caller.read_only) == ("dashboard", True)
    wrong = served.call("list_items", "ci-secret-123")  # a prefix of a real one
    why = "the token is not a well-formed JWT"  # not a static token: tried as a JWT
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == challenge("invalid_token", why)
    for value in STATIC.values():
        assert value.encode() not in served.upstream.everything()


def test_protected_resource_metadata(served: Served, issuer: Issuer) -> None:
    expected = {
        "resource": AUDIENCE,
        "authorization_servers": [issuer.url],
        "scopes_supported": ["appctl:read", "appctl:write"],
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": ["RS256", "ES256"],
        "resource_name": "appctl",
    }
    for path in (
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ):
        reply = served.client.get(path)  # no token needed
        assert reply.status_code == 200 and reply.json() == expected
        assert reply.headers["content-type"] == "application/json"
    assert served.client.post("/.well-known/oauth-protected-resource").status_code == 405
    other = served.client.get("/.well-known/oauth-protected-resource/other")
    assert other.status_code == 401  # not a metadata path: guarded like any other


def test_unreachable_keys_are_a_503_saying_so(
    tmp_path: Path, issuer: Issuer, upstream: Upstream
) -> None:
    inbound = {"oauth": {"issuer": issuer.url, "resource": AUDIENCE}}
    app_dir = project(tmp_path, upstream.url, inbound)
    from appctl.config import load_config

    keys = KeySet(load_config(app_dir).inbound.oauth, timeout=1.0)  # type: ignore[arg-type]
    app, spied = rest_app(app_dir, {}, keys=keys)
    with TestClient(app, raise_server_exceptions=False) as client:
        for mode, why in (("down", "answered HTTP 503"), ("hang", "did not answer in time")):
            issuer.mode = mode
            started = time.monotonic()
            reply = client.get("/tools", headers={"Authorization": f"Bearer {issuer.mint()}"})
            assert time.monotonic() - started < 20  # bounded: no hang
            assert reply.status_code == 503, reply.text
            assert why in reply.json()["error"]["message"], reply.text
            assert reply.headers["retry-after"] == "5"
            issuer.release.set()
            time.sleep(5.1)  # past RETRY_AFTER: the next request fetches again
            issuer.release.clear()
        issuer.mode = ""
        reply = client.get("/tools", headers={"Authorization": f"Bearer {issuer.mint()}"})
        assert reply.status_code == 200
    assert spied.callers == []


def test_run_turns_get_the_requests_caller(
    tmp_path: Path, issuer: Issuer, upstream: Upstream
) -> None:
    turns: list[Any] = []

    def run_turn(prompt: str, settings: dict[str, Any], caller: Any) -> Any:
        turns.append(caller)
        raise RuntimeError("no provider in this test")

    inbound = {"oauth": {"issuer": issuer.url, "resource": AUDIENCE}}
    app, _ = rest_app(project(tmp_path, upstream.url, inbound), {}, run_turn=run_turn)
    reader = issuer.mint(sub="carol", scope="appctl:read")
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = {"Authorization": f"Bearer {reader}"}
        client.post("/run", json={"prompt": "hi"}, headers=headers)
        assert client.post("/run", json={"prompt": "hi"}).status_code == 401
    assert [(c.name, c.read_only) for c in turns] == [("carol", True)]


RFC8414 = "/.well-known/oauth-authorization-server"
OIDC = "/.well-known/openid-configuration"


@pytest.mark.parametrize(
    ("hidden", "claimed", "outcome"),
    [
        ((), "", 200),  # RFC 8414 metadata, asked first
        ((RFC8414,), "", 200),  # OpenID Connect discovery when there is none
        ((), "https://other.example", 503),  # metadata naming another issuer is not used
        ((RFC8414, OIDC), "", 503),
    ],
)
def test_the_keys_are_found_from_the_issuers_metadata(
    tmp_path: Path,
    issuer: Issuer,
    upstream: Upstream,
    hidden: tuple[str, ...],
    claimed: str,
    outcome: int,
) -> None:
    issuer.hidden, issuer.claimed = set(hidden), claimed
    inbound = {"oauth": {"issuer": issuer.url, "resource": AUDIENCE}}
    app, _ = rest_app(project(tmp_path, upstream.url, inbound), {})
    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.get("/tools", headers={"Authorization": f"Bearer {issuer.mint()}"})
    assert reply.status_code == outcome, reply.text
    assert issuer.hits[RFC8414] == 1
    assert issuer.hits[OIDC] == (0 if outcome == 200 and not hidden else 1)
    assert issuer.hits["/jwks"] == (1 if outcome == 200 else 0)
    if outcome == 503:
        message = reply.json()["error"]["message"]
        assert message.startswith("no metadata of the issuer gives its keys (set inbound.oauth")
        assert ("names issuer 'https://other.example'" in message) == bool(claimed)


def test_a_configured_jwks_url_needs_no_metadata(
    tmp_path: Path, issuer: Issuer, upstream: Upstream
) -> None:
    issuer.hidden = {RFC8414, OIDC}
    oauth = {"issuer": issuer.url, "resource": AUDIENCE, "jwks_url": f"{issuer.url}/jwks"}
    app, _ = rest_app(project(tmp_path, upstream.url, {"oauth": oauth}), {})
    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.get("/tools", headers={"Authorization": f"Bearer {issuer.mint()}"})
    assert reply.status_code == 200
    assert issuer.hits[RFC8414] == issuer.hits[OIDC] == 0
