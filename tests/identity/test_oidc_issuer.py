"""The issuer the identity tests rely on does what they need: oidc-provider (npm) on
127.0.0.1 registers a client dynamically, runs authorization code + PKCE with a resource
indicator through its login step without a person, issues client-credentials tokens, and
signs JWT access tokens whose ``aud`` is the requested resource, with each account's claims
and scopes; a restart rotates its signing key. Tokens are checked with PyJWT against the
issuer's published JWKS, as a resource server would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from mcp.client.auth import PKCEParameters

from tests.identity.oidc import Account, Issuer, StaticClient, login, running_issuer

RESOURCE = "http://127.0.0.1:19761/mcp"
REDIRECT = "http://127.0.0.1:19762/callback"
ALICE = Account(claims={"cust": "c-1", "groups": ["ops"]})
READER = Account(claims={"cust": "c-2"}, scopes=("appctl:read",))
CI = StaticClient("ci-bot", "ci-secret-0123456789abcdef", "reader")
BRIEF = StaticClient("brief-bot", "brief-secret-0123456789abcdef", "alice", ttl=5)


@pytest.fixture
def issuer(tmp_path: Path) -> Any:
    accounts = {"alice": ALICE, "reader": READER}
    with running_issuer(tmp_path, accounts=accounts, clients=(CI, BRIEF)) as running:
        yield running


def _claims(issuer: Issuer, token: str, *, audience: str = RESOURCE) -> dict[str, Any]:
    keys = jwt.PyJWKSet.from_dict(issuer.jwks())
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = [k for k in keys.keys if k.key_id == kid] or [None]
    if key is None:
        raise LookupError(f"no key {kid} in the issuer's JWKS")
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer.url)
    assert isinstance(claims, dict)
    return claims


def test_metadata_offers_what_the_mcp_flow_needs(issuer: Issuer) -> None:
    meta = httpx.get(f"{issuer.url}/.well-known/openid-configuration").json()
    assert meta["issuer"] == issuer.url
    assert meta["registration_endpoint"].endswith("/reg")
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "client_credentials"} <= set(meta["grant_types_supported"])
    assert {"appctl:read", "appctl:write"} <= set(meta["scopes_supported"])


def _register(issuer: Issuer) -> str:
    """A public client registered dynamically (RFC 7591), as the MCP SDK registers."""
    client = httpx.post(
        f"{issuer.url}/reg",
        json={
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "scope": "appctl:read appctl:write",
        },
    )
    assert client.status_code == 201, client.text
    client_id = client.json()["client_id"]
    assert isinstance(client_id, str)
    return client_id


def _authorize(issuer: Issuer, client_id: str, pkce: PKCEParameters) -> str:
    query = httpx.QueryParams(
        response_type="code",
        client_id=client_id,
        redirect_uri=REDIRECT,
        scope="appctl:read appctl:write",
        state="s-1",
        code_challenge=pkce.code_challenge,
        code_challenge_method="S256",
        resource=RESOURCE,
    )
    return f"{issuer.url}/auth?{query}"


def test_registration_code_pkce_and_resource_give_an_audience_bound_jwt(issuer: Issuer) -> None:
    client_id, pkce = _register(issuer), PKCEParameters.generate()
    back = login(_authorize(issuer, client_id, pkce), account="alice", redirect_uri=REDIRECT)
    assert back.state == "s-1" and back.iss == issuer.url
    form = {
        "grant_type": "authorization_code",
        "code": back.code,
        "redirect_uri": REDIRECT,
        "client_id": client_id,
        "resource": RESOURCE,
        "code_verifier": "x" * 43,
    }
    refused = httpx.post(f"{issuer.url}/token", data=form)  # PKCE: the wrong verifier
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    back = login(_authorize(issuer, client_id, pkce), account="alice", redirect_uri=REDIRECT)
    form |= {"code": back.code, "code_verifier": pkce.code_verifier}
    tokens = httpx.post(f"{issuer.url}/token", data=form).json()
    claims = _claims(issuer, tokens["access_token"])
    assert claims["sub"] == "alice" and claims["aud"] == RESOURCE
    assert set(claims["scope"].split()) == {"appctl:read", "appctl:write"}
    assert claims["cust"] == "c-1" and claims["groups"] == ["ops"]
    with pytest.raises(jwt.InvalidAudienceError):
        _claims(issuer, tokens["access_token"], audience="http://127.0.0.1:19763/other")


def test_the_login_step_signs_in_only_a_named_known_account(issuer: Issuer) -> None:
    pkce = PKCEParameters.generate()
    url = _authorize(issuer, _register(issuer), pkce)
    with httpx.Client() as browser:
        step = httpx.URL(url).join(browser.get(url).headers["location"])
        assert step.path.startswith("/interaction/")
        for query in ("", "?account=mallory"):
            refused = browser.get(f"{step}{query}")
            assert refused.status_code == 400 and "name a known account" in refused.text
    back = login(url, account="reader", redirect_uri=REDIRECT)
    form = {
        "grant_type": "authorization_code",
        "code": back.code,
        "redirect_uri": REDIRECT,
        "client_id": httpx.URL(url).params["client_id"],
        "resource": RESOURCE,
        "code_verifier": pkce.code_verifier,
    }
    tokens = httpx.post(f"{issuer.url}/token", data=form).json()
    claims = _claims(issuer, tokens["access_token"])  # granted within the account's scopes
    assert claims["sub"] == "reader" and claims["scope"] == "appctl:read"


def test_client_credentials_carry_the_accounts_claims_and_scopes(issuer: Issuer) -> None:
    claims = _claims(issuer, issuer.token(CI, resource=RESOURCE, scope="appctl:read"))
    assert claims["sub"] == "ci-bot" and claims["client_id"] == "ci-bot"
    assert claims["scope"] == "appctl:read" and claims["cust"] == "c-2"
    too_much = httpx.post(
        f"{issuer.url}/token",
        data={"grant_type": "client_credentials", "resource": RESOURCE, "scope": "appctl:write"},
        auth=(CI.client_id, CI.secret),
    )
    assert too_much.json()["error"] == "invalid_scope"


def test_a_clients_tokens_last_its_ttl(issuer: Issuer) -> None:
    brief = _claims(issuer, issuer.token(BRIEF, resource=RESOURCE))
    usual = _claims(issuer, issuer.token(CI, resource=RESOURCE, scope="appctl:read"))
    assert brief["exp"] - brief["iat"] == 5 and usual["exp"] - usual["iat"] == 300
    assert brief["cust"] == "c-1"


def test_a_restart_rotates_the_signing_key(issuer: Issuer) -> None:
    before = issuer.token(CI, resource=RESOURCE, scope="appctl:read")
    old_kid, url = issuer.kid, issuer.url
    issuer.restart()
    assert issuer.url == url and issuer.kid != old_kid
    assert [k["kid"] for k in issuer.jwks()["keys"]] == [issuer.kid]
    with pytest.raises(LookupError):  # the old key is gone from the JWKS
        _claims(issuer, before)
    after = issuer.token(CI, resource=RESOURCE, scope="appctl:read")
    assert jwt.get_unverified_header(after)["kid"] == issuer.kid
    assert _claims(issuer, after)["sub"] == "ci-bot"
