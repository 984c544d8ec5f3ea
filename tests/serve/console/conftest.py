"""The console over the real ``appctl serve`` app (``create_app``), driven by Starlette's
TestClient over HTTPS (the cookie is Secure), against the pet store fixture app."""

from __future__ import annotations

import html as markup
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from appctl.serve.rest import ServeState, create_app
from appctl.session.approval import PolicyOnly
from appctl.session.core import Session
from tests.conftest import TOKEN

SERVE_TOKEN = "console-serve-token-5150"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')

Make = Callable[..., TestClient]


def open_session(project: Path, environ: dict[str, str] | None = None) -> Session:
    env = {"APPCTL_BEARER_TOKEN": TOKEN, "USER": "tester", **(environ or {})}
    return Session.open(
        project / ".appctl", approver=PolicyOnly("appctl serve"), environ=env, session_id="s1"
    )


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:2000]
    return found.group(1)


def once_of(html: str) -> str:
    """The one-time token of a tool's try form."""
    found = ONCE.search(html)
    assert found, html[:2000]
    return found.group(1)


def sign_in(client: TestClient, token: str) -> Any:
    page = client.get("/ui/login")
    return client.post(
        "/ui/login",
        data={"csrf": csrf_of(page.text), "token": token, "next": ""},
        follow_redirects=False,
    )


@pytest.fixture
def make_client(project: Path) -> Iterator[Make]:
    """A client of a console over ``project``; ``config`` is written to config.yaml first,
    ``token`` is the serve token (None: a loopback server without auth)."""
    clients: list[TestClient] = []

    def make(
        *, token: str | None = None, config: str = "", environ: dict[str, str] | None = None
    ) -> TestClient:
        if config:
            (project / ".appctl" / "config.yaml").write_text(config)
        state = ServeState(session=open_session(project, environ), token=token)
        client = TestClient(create_app(state), base_url="https://testserver")
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def result_of(html: str) -> dict[str, Any]:
    found = re.search(r'<pre id="result" tabindex="0">(.*?)</pre>', html, re.S)
    assert found, html[-3000:]
    return dict(json.loads(markup.unescape(found.group(1))))
