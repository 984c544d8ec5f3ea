"""The operator console in a real headless Chromium (issue 22's proof): sign in, find a
tool, dry-run it and see the exact request with the secret redacted, the history filters,
CSRF, labels on every input and no sideways scroll on a phone. The approval queue's browser
tests are in test_approvals.py."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import TOKEN
from tests.console.conftest import COOKIE_NAME, Browser, Console, sign_in


def test_sign_in_with_the_serve_token_and_out_again(browser: Browser, console: Console) -> None:
    browser.open("/ui/")
    assert browser.path.startswith("/ui/login"), browser.path  # nobody signed in yet
    browser.wait_for("Sign in")
    browser.shot("login")
    browser.fill("Bearer token", "not-" + console.token)
    browser.button("Sign in").click()
    browser.until(lambda: _shown(browser, "login-problem"), "said the token was refused")
    assert browser.path.startswith("/ui/login")
    assert COOKIE_NAME not in _signed_in_cookies(browser)

    sign_in(browser, token=console.token)
    browser.wait_for("Find a tool", "create_pet", "delete_pet")
    assert browser.path == "/ui/"
    assert browser.driver.find_element("id", "who").text == "token"
    cookie = _signed_in_cookies(browser)[COOKIE_NAME]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert COOKIE_NAME not in browser.js("return document.cookie")  # no script can read it
    browser.shot("tools")

    browser.button("Sign out").click()
    browser.wait_for("Bearer token")
    browser.open("/ui/history")
    assert browser.path.startswith("/ui/login"), browser.path


def test_find_a_tool(browser: Browser, console: Console) -> None:
    sign_in(browser, token=console.token)
    browser.wait_for("list_pets")
    search = browser.fill("Find a tool", "delete")
    # the small script filters as one types: only the matching tool stays visible
    browser.until(lambda: "list_pets" not in _tool_names(browser), "hid list_pets")
    assert _tool_names(browser) == ["delete_pet"]
    search.submit()  # Enter: the server's search, which works without the script too
    browser.until(lambda: "q=delete" in browser.path, "searched")
    assert _tool_names(browser) == ["delete_pet"]
    assert "1 of 5 tools" in browser.text()
    browser.shot("search")
    browser.link("delete_pet").click()
    browser.wait_for("Try it", "Input schema")
    assert browser.path == "/ui/tools/delete_pet"
    assert browser.driver.find_element("id", "tool-safety").text == "destructive"
    browser.shot("tool")


def test_a_dry_run_shows_the_exact_request_with_the_secret_redacted(
    browser: Browser, console: Console
) -> None:
    sign_in(browser, token=console.token)
    browser.wait_for("create_pet")
    browser.open("/ui/tools/create_pet")
    browser.fill("name", "Tom")
    before = len(console.pets.seen)
    browser.button("Dry run").click()
    text = browser.wait_for("Result")
    result = browser.driver.find_element("id", "result").text
    assert "POST" in result and f"{console.pets.url}/pets" in result, result
    assert "Tom" in result and "Authorization" in result, result
    assert TOKEN not in browser.driver.page_source  # the pet store's bearer token
    assert len(console.pets.seen) == before  # nothing was sent
    assert "Run" in text  # an approver may then call it for real
    browser.shot("dry-run")


def test_history_filters_and_export(browser: Browser, console: Console) -> None:
    with console.client() as api:
        assert api.post("/tools/list_pets/call", json={"arguments": {}}).status_code == 200
        missing = api.post("/tools/get_pet/call", json={"arguments": {"petId": 99}})
        assert missing.status_code == 404, missing.text
        assert api.post("/tools/list_pets/call", json={"arguments": {}}).status_code == 200
    sign_in(browser, token=console.token)
    browser.open("/ui/history")
    browser.wait_for("History", "get_pet")
    assert sorted(_history_tools(browser)) == ["get_pet", "list_pets", "list_pets"]

    browser.fill("Tool", "get_*")
    browser.button("Filter").click()
    browser.until(lambda: _history_tools(browser) == ["get_pet"], "filtered by tool")
    browser.fill("Tool", "")
    browser.fill("Outcome", "ok")
    browser.button("Filter").click()
    browser.until(lambda: _history_tools(browser) == ["list_pets"] * 2, "filtered by outcome")
    browser.shot("history")

    href = browser.driver.find_element("id", "export-json").get_attribute("href")
    exported = browser.driver.execute_async_script(
        "fetch(arguments[0]).then(r => r.text()).then(arguments[1])", href
    )
    assert [row["tool"] for row in json.loads(exported)] == ["list_pets"] * 2

    browser.link(browser.driver.find_element("css selector", "#history tbody a").text).click()
    browser.wait_for("Arguments", "Request", "list_pets")
    assert browser.path.startswith("/ui/history/")
    browser.shot("entry")


def test_a_post_without_the_csrf_token_is_refused(browser: Browser, console: Console) -> None:
    sign_in(browser, token=console.token)
    browser.open("/ui/tools/list_pets")
    browser.wait_for("Try it")
    csrf = browser.js("return document.querySelector('#try-form input[name=csrf]').value")
    path = "/ui/tools/list_pets/try"
    assert browser.fetch(path, method="POST", form={"mode": "dry", "csrf": csrf}) == 200
    assert browser.fetch(path, method="POST", form={"mode": "dry"}) == 403
    assert browser.fetch(path, method="POST", form={"mode": "dry", "csrf": csrf + "x"}) == 403
    # the real form with its token taken out, sent by a person's click
    browser.js("document.querySelector('#try-form input[name=csrf]').remove()")
    browser.button("Dry run").click()
    browser.wait_for("CSRF")
    assert "Result" not in browser.text()


PAGES = ["/ui/", "/ui/tools/create_pet", "/ui/tools/delete_pet", "/ui/history"]


def test_every_input_has_a_label_and_a_phone_never_scrolls_sideways(
    browser: Browser, console: Console
) -> None:
    with console.client() as api:  # a history row with arguments, for the entry page
        assert api.post("/tools/get_pet/call", json={"arguments": {"petId": 1}}).is_success
    browser.open("/ui/login")
    browser.wait_for("Sign in")
    pages: dict[str, list[str]] = {"/ui/login": browser.unlabelled()}
    sign_in(browser, token=console.token)
    browser.wait_for("create_pet")
    for path in [*PAGES, "/ui/history/1"]:
        browser.open(path)
        pages[path] = browser.unlabelled()
    assert pages == {path: [] for path in pages}

    browser.phone()
    for path in [*PAGES, "/ui/history/1", "/ui/login"]:
        browser.open(path)
        browser.wait_for("appctl")
        assert browser.layout_width() == 390, path  # the page lays itself out for a phone
        assert browser.overflows() == 0, path
        browser.shot(_shot_name(path))


def _shown(browser: Browser, id: str) -> bool:
    return bool(
        browser.js(
            "const e = document.getElementById(arguments[0]);"
            "return e !== null && e.offsetParent !== null;",
            id,
        )
    )


def _signed_in_cookies(browser: Browser) -> dict[str, dict[str, Any]]:
    return {
        c["name"]: c
        for c in browser.driver.get_cookies()
        if c["name"] == COOKIE_NAME and _signed(c)
    }


def _signed(cookie: dict[str, Any]) -> bool:
    """Whether a console cookie names a caller (its JSON payload has a subject)."""
    import base64

    payload = cookie["value"].split(".")[0]
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return "s" in body


def _tool_names(browser: Browser) -> list[str]:
    """The tool names the overview shows (hidden ones left out)."""
    return list(
        browser.js(
            "return [...document.querySelectorAll('#tools li.tool')]"
            ".filter(li => li.offsetParent !== null)"
            ".map(li => li.querySelector('.tool-name').innerText)"
        )
    )


def _history_tools(browser: Browser) -> list[str]:
    return list(
        browser.js(
            "return [...document.querySelectorAll('#history tbody tr')]"
            ".filter(r => r.cells.length > 2).map(r => r.cells[2].innerText)"
        )
    )


def _shot_name(path: str) -> str:
    """``/ui/tools/create_pet`` → ``tools-create_pet``; the overview is ``tools``."""
    return path.removeprefix("/ui/").strip("/").replace("/", "-") or "tools"
