"""Console sign-in, the signed cookie, CSRF and roles, over the real app."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from appctl.config import ConsoleSettings
from appctl.execute.caller import Caller
from appctl.serve.console.auth import (
    COOKIE,
    Cookies,
    roles_of,
)
from appctl.serve.rest import ServeState, create_app
from tests.serve.console.conftest import (
    SERVE_TOKEN,
    Make,
    csrf_of,
    once_of,
    open_session,
    result_of,
)
from tests.serve.console.conftest import sign_in as sign_in_page

APPROVER = "console: {approvers: [token]}\n"
VIEWER = "console: {approvers: [alice]}\n"  # the serve token's caller is "token"


def test_a_server_with_a_token_sends_browsers_to_sign_in(make_client: Make) -> None:
    client = make_client(token=SERVE_TOKEN)
    page = client.get("/ui/tools/list_pets", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/login?next=%2Fui%2Ftools%2Flist_pets"
    login = client.get(page.headers["location"])
    assert 'id="token"' in login.text and ">Sign in</button>" in login.text


def test_sign_in_with_the_serve_token(make_client: Make) -> None:
    client = make_client(token=SERVE_TOKEN)
    wrong = sign_in_page(client, "not-the-token")
    assert wrong.status_code == 401 and "not one this server accepts" in wrong.text
    assert client.get("/ui/", follow_redirects=False).status_code == 303
    signed = sign_in_page(client, SERVE_TOKEN)
    assert signed.status_code == 303 and signed.headers["location"] == "/ui/"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert SERVE_TOKEN not in cookie
    page = client.get("/ui/")
    assert page.status_code == 200 and '<span id="who">token</span>' in page.text


def test_sign_in_goes_back_to_the_page_asked_for_and_nowhere_else(make_client: Make) -> None:
    client = make_client(token=SERVE_TOKEN)
    for target, expected in [
        ("/ui/history?tool=x", "/ui/history?tool=x"),
        ("//evil.example/", "/ui/"),
        ("https://evil.example/", "/ui/"),
        ("/ui/\\evil", "/ui/"),
        ("/health", "/ui/"),
    ]:
        login = client.get("/ui/login")  # each sign-in sends a new CSRF token
        answer = client.post(
            "/ui/login",
            data={"csrf": csrf_of(login.text), "token": SERVE_TOKEN, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == expected, target


def test_sign_out_ends_the_session(make_client: Make) -> None:
    client = make_client(token=SERVE_TOKEN)
    sign_in_page(client, SERVE_TOKEN)
    page = client.get("/ui/")
    out = client.post("/ui/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert client.get("/ui/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("where", ["/ui/tools/list_pets/try", "/ui/login", "/ui/logout"])
def test_a_post_without_the_csrf_token_is_403(make_client: Make, where: str) -> None:
    client = make_client()  # loopback, no auth: still a CSRF token on every form
    page = client.get("/ui/tools/list_pets")
    assert client.post(where, data={"mode": "dry"}).status_code == 403
    wrong = client.post(where, data={"csrf": csrf_of(page.text) + "x", "mode": "dry"})
    assert wrong.status_code == 403 and "CSRF" in wrong.text


def test_a_post_from_a_browser_with_no_cookie_is_403(make_client: Make) -> None:
    client = make_client()
    csrf = csrf_of(client.get("/ui/tools/list_pets").text)
    client.cookies.clear()
    answer = client.post("/ui/tools/list_pets/try", data={"csrf": csrf, "mode": "dry"})
    assert answer.status_code == 403


def test_a_tampered_cookie_is_sent_to_sign_in(make_client: Make) -> None:
    client = make_client(token=SERVE_TOKEN)
    sign_in_page(client, SERVE_TOKEN)
    value = client.cookies[COOKIE]
    payload, mac = value.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["s"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    for bad in [f"{forged}.{mac}", "garbage", "a.b.c", f"{payload}.", "%%%.###", ""]:
        client.cookies.clear()
        client.cookies.set(COOKIE, bad, domain="testserver.local")
        answer = client.get("/ui/", follow_redirects=False)
        assert answer.status_code == 303, bad
        assert answer.headers["location"].startswith("/ui/login")


def test_an_expired_cookie_is_refused() -> None:
    now = [1000.0]
    cookies = Cookies(b"k" * 32, ttl=60, clock=lambda: now[0])
    sealed = cookies.seal(cookies.fresh(Caller("alice", "token", groups=("ops",))))
    opened = cookies.open(sealed)
    assert opened is not None and opened.caller == Caller("alice", "token", groups=("ops",))
    now[0] += 61
    assert cookies.open(sealed) is None
    assert Cookies(b"j" * 32).open(sealed) is None  # another key


def test_a_viewer_may_dry_run_but_not_run(make_client: Make, pets: Any) -> None:
    client = make_client(token=SERVE_TOKEN, config=VIEWER)
    sign_in_page(client, SERVE_TOKEN)
    page = client.get("/ui/tools/create_pet")
    assert ">Dry run</button>" in page.text and ">Run</button>" not in page.text
    data = {"csrf": csrf_of(page.text), "arg:name": "Rex"}
    before = len(pets.seen)
    dry = client.post("/ui/tools/create_pet/try", data={**data, "mode": "dry"})
    assert dry.status_code == 200 and result_of(dry.text)["request"]["method"] == "POST"
    run = client.post("/ui/tools/create_pet/try", data={**data, "mode": "run"})
    assert run.status_code == 403 and "may dry-run but not call" in run.text
    assert len(pets.seen) == before


def test_an_approver_may_run(make_client: Make, pets: Any) -> None:
    client = make_client(token=SERVE_TOKEN, config=APPROVER)
    sign_in_page(client, SERVE_TOKEN)
    page = client.get("/ui/tools/create_pet")
    data = {
        "csrf": csrf_of(page.text),
        "once": once_of(page.text),
        "arg:name": "Rex",
        "mode": "run",
    }
    assert client.post("/ui/tools/create_pet/try", data=data).status_code == 200
    assert pets.seen[-1][:2] == ("POST", "/api/pets")


def test_someone_in_neither_role_sees_nothing(make_client: Make) -> None:
    config = "console: {approvers: [bob], viewers: [alice]}\n"
    client = make_client(token=SERVE_TOKEN, config=config)
    sign_in_page(client, SERVE_TOKEN)
    page = client.get("/ui/")
    assert page.status_code == 403 and "not a console viewer" in page.text
    assert "list_pets" not in page.text


def test_roles_by_name_and_group() -> None:
    settings = ConsoleSettings(approvers=["group:ops-*", "alice"], viewers=["bob", "group:dev"])
    assert roles_of(Caller("alice", "oauth"), settings).approver
    assert roles_of(Caller("x", "oauth", groups=("ops-eu",)), settings).approver
    bob = roles_of(Caller("bob", "oauth"), settings)
    assert bob.viewer and not bob.approver
    assert roles_of(Caller("y", "oauth", groups=("dev",)), settings).viewer
    assert not roles_of(Caller("y", "oauth", groups=("ops",)), settings).viewer
    assert roles_of(Caller("carol", "local"), ConsoleSettings(viewers=["local:*"])).viewer


def test_without_approvers_everyone_let_in_approves_but_read_only_callers() -> None:
    assert roles_of(Caller("anyone", "oauth"), ConsoleSettings()).approver
    reader = roles_of(Caller("reader", "oauth", read_only=True), ConsoleSettings())
    assert reader.viewer and not reader.approver
    assert not roles_of(Caller("anyone", "oauth"), ConsoleSettings(approvers=[])).approver


def test_named_inbound_tokens_sign_in_as_themselves(make_client: Make) -> None:
    config = (
        "inbound:\n  tokens:\n"
        "    ci-bot: {token: env:CI_TOKEN, groups: [ci]}\n"
        "console: {approvers: ['group:ci']}\n"
    )
    client = make_client(config=config, environ={"CI_TOKEN": "ci-secret-123"})
    for refused in ("", "ci-secret", "env:CI_TOKEN"):
        assert sign_in_page(client, refused).status_code == 401
    assert sign_in_page(client, "Bearer ci-secret-123").status_code == 303
    page = client.get("/ui/tools/create_pet")
    assert '<span id="who">ci-bot</span> <span class="badge">approver</span>' in page.text


def test_pages_carry_security_headers(make_client: Make) -> None:
    page = make_client().get("/ui/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_loopback_without_auth_is_the_os_user_with_every_role(make_client: Make) -> None:
    page = make_client().get("/ui/tools/create_pet")
    assert '<span id="who">local:tester</span> <span class="badge">approver</span>' in page.text
    assert make_client().get("/ui/login", follow_redirects=False).status_code == 303


class Denied(Exception):
    """As ``serve/inbound``'s: a refusal with a description to show."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class IssuerVerifier:
    """The shape of ``serve/inbound``'s ``Verifier`` (``async caller(token)``, no OAuth
    metadata to publish) with fixed answers, so that the console's use of whatever the
    verifier says is tested apart from token checking (``tests/identity``)."""

    oauth = None

    async def caller(self, token: str) -> Caller:
        if token == "jwt-for-ops":
            return Caller("ops-1", "oauth", groups=("ops",), token=token)
        if token == "jwt-read-only":
            return Caller("reader", "oauth", read_only=True, token=token)
        raise Denied("the token expired 40 s ago")


def test_sign_in_through_the_servers_own_verifier(project: Path) -> None:
    state = ServeState(session=open_session(project))
    state.verifier = IssuerVerifier()  # type: ignore[attr-defined]  # ServeState.verifier (A)
    client = TestClient(create_app(state), base_url="https://testserver")
    expired = sign_in_page(client, "jwt-expired")
    assert expired.status_code == 401 and "the token expired 40 s ago" in expired.text
    assert sign_in_page(client, SERVE_TOKEN).status_code == 401  # the verifier decides
    assert sign_in_page(client, "Bearer jwt-for-ops").status_code == 303
    page = client.get("/ui/tools/create_pet")
    assert '<span id="who">ops-1</span> <span class="badge">approver</span>' in page.text
    assert "jwt-for-ops" not in client.cookies[COOKIE]  # never the token itself
    client.cookies.clear()
    sign_in_page(client, "jwt-read-only")
    page = client.get("/ui/tools/create_pet")
    assert '<span class="badge">viewer</span>' in page.text and ">Run</button>" not in page.text


def test_a_cookie_from_a_server_without_auth_signs_nobody_in_later(make_client: Make) -> None:
    open_client = make_client()  # the same app dir, so the same cursor key
    open_client.get("/ui/")
    cookie = open_client.cookies[COOKIE]
    guarded = make_client(token=SERVE_TOKEN)
    guarded.cookies.set(COOKIE, cookie, domain="testserver.local")
    answer = guarded.get("/ui/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/login")
    sealed = Cookies(b"k" * 32).seal(Cookies(b"k" * 32).fresh(Caller("me", "local")))
    assert Cookies(b"k" * 32).open(sealed) is None  # only a sign-in names someone
