"""The console through the installed command: ``appctl serve`` as a real uvicorn process."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.serve.test_rest import SERVE_TOKEN, Served


def test_appctl_serve_mounts_the_console(project: Path) -> None:
    served = Served(project, "--token-env", "SERVE_TOKEN")
    try:
        with httpx.Client(base_url=served.url, timeout=10) as client:
            first = client.get("/ui/")
            assert first.status_code == 303
            assert first.headers["location"] == "/ui/login?next=%2Fui%2F"
            login = client.get("/ui/login")
            assert login.status_code == 200 and 'id="sign-in"' in login.text
            cookie = login.headers["set-cookie"]
            assert "HttpOnly" in cookie and "Secure" in cookie
            css = client.get("/ui/static/console.css")
            assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
            # the rest of the API keeps its bearer token; the console its cookie
            assert client.get("/tools").status_code == 401
            headers = {"Authorization": f"Bearer {SERVE_TOKEN}"}
            assert client.get("/tools", headers=headers).status_code == 200
    finally:
        served.stop()


def test_console_paths() -> None:
    from appctl.serve.console import is_console_path

    assert is_console_path("/ui") and is_console_path("/ui/login")
    assert is_console_path("/ui/static/console.css")
    assert not any(is_console_path(p) for p in ("/uix", "/tools", "/", "/health"))
