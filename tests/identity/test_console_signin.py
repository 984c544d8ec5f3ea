"""The console signs people in with the server's own verifier: OAuth access tokens from an
issuer on 127.0.0.1, checked like every other request's, their groups deciding the role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from appctl.serve.console.auth import COOKIE
from appctl.serve.inbound.verify import server_verifier
from appctl.serve.rest import ServeState, create_app
from tests.identity.issuer import AUDIENCE, Issuer
from tests.serve.console.conftest import open_session
from tests.serve.console.conftest import sign_in as sign_in_page


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with Issuer("RS256") as running:
        yield running


@pytest.fixture
def client(project: Path, issuer: Issuer) -> Iterator[TestClient]:
    (project / ".appctl" / "config.yaml").write_text(
        f"inbound:\n  oauth: {{issuer: '{issuer.url}', resource: '{AUDIENCE}'}}\n"
        "console: {approvers: ['group:ops']}\n"
    )
    session = open_session(project)
    verifier = server_verifier(session.config.inbound, {}, token_env=None)
    state = ServeState(session=session, verifier=verifier)
    with TestClient(create_app(state), base_url="https://testserver") as running:
        yield running


def role_on_a_tool_page(client: TestClient) -> str:
    page = client.get("/ui/tools/create_pet")
    assert page.status_code == 200, page.text[:300]
    return "approver" if '<span class="badge">approver</span>' in page.text else "viewer"


def test_an_access_token_signs_in_and_its_groups_give_the_role(
    client: TestClient, issuer: Issuer
) -> None:
    token = issuer.mint(sub="ops-anna", groups=["ops"])
    assert sign_in_page(client, token).status_code == 303
    assert role_on_a_tool_page(client) == "approver"
    assert '<span id="who">ops-anna</span>' in client.get("/ui/").text
    assert token not in client.cookies[COOKIE]  # the cookie names the caller, never the token
    client.cookies.clear()
    assert sign_in_page(client, issuer.mint(sub="dev-dan", groups=["dev"])).status_code == 303
    assert role_on_a_tool_page(client) == "viewer"
    client.cookies.clear()
    read_only = issuer.mint(sub="ro", groups=["ops"], scope="appctl:read")
    assert sign_in_page(client, read_only).status_code == 303
    assert role_on_a_tool_page(client) == "viewer"  # a read-only token never approves


@pytest.mark.parametrize(
    ("claims", "said"),
    [
        ({"exp": 1_000}, "expired"),
        ({"aud": "https://elsewhere.example/mcp"}, "audience"),
        ({"iss": "https://not-the-issuer.example"}, "issuer"),
    ],
)
def test_a_refused_token_is_refused_at_sign_in_saying_why(
    client: TestClient, issuer: Issuer, claims: dict[str, Any], said: str
) -> None:
    token = issuer.mint(sub="ops-anna", groups=["ops"], **claims)
    answer = sign_in_page(client, token)
    assert answer.status_code == 401 and said in answer.text
    assert token not in answer.text
    assert client.get("/ui/", follow_redirects=False).status_code == 303  # still signed out


def test_a_token_from_a_rotated_key_signs_in(client: TestClient, issuer: Issuer) -> None:
    assert sign_in_page(client, issuer.mint(sub="ops-anna", groups=["ops"])).status_code == 303
    client.cookies.clear()
    issuer.rotate()
    assert sign_in_page(client, issuer.mint(sub="ops-anna", groups=["ops"])).status_code == 303
