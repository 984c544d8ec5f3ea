"""The approval queue in a real headless Chromium: a person approves a write an MCP client
waits on and the client gets the result; denies one with a reason that reaches the caller;
a destructive approval with a mistyped name is refused; an approval made with the
keyboard alone (TAB to the button, ENTER); a viewer who sees the queue but can neither
decide nor call; an approver's real call from the try form (destructive: name typed)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from appctl.execute.audit.history import History
from appctl.execute.caller import Caller
from appctl.session.queue import open_queue
from tests import dbs
from tests.console.conftest import (
    AGENT_TOKEN,
    CONFIG,
    Browser,
    Console,
    browsing,
    project_for,
    serving,
    sign_in,
)
from tests.serve.test_mcp import _envelope, mcp_over_http

T = TypeVar("T")
ANSWER = 90  # seconds a waiting caller may take to get its answer once decided


def waiting(work: Callable[[], T]) -> Future[T]:
    """``work()`` in a thread of its own (a caller blocked on the queue); its future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # the test reads it from the future
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future


def rest_call(console: Console, tool: str, arguments: dict[str, Any]) -> Future[Any]:
    """``POST /tools/{tool}/call`` by an agent with the serve token, waiting in a thread."""

    def call() -> Any:
        with console.client() as api:
            return api.post(f"/tools/{tool}/call", json={"arguments": arguments})

    return waiting(call)


def pending_card(browser: Browser, tool: str) -> Any:
    """The queue page's card of the one call of ``tool`` waiting, once it shows (the page is
    opened again until it does: the call reaches the queue from another thread)."""
    from selenium.webdriver.common.by import By

    def shown() -> list[Any]:
        from selenium.common.exceptions import StaleElementReferenceException

        cards = browser.driver.find_elements(By.CSS_SELECTOR, "article.pending")
        try:
            return [c for c in cards if c.find_element(By.TAG_NAME, "h3").text.split()[0] == tool]
        except StaleElementReferenceException:  # the page reloaded itself meanwhile
            return []

    def arrived() -> bool:
        if not shown():
            browser.open("/ui/approvals")
        return bool(shown())

    browser.until(arrived, f"listed a pending {tool} call")
    [card] = shown()
    return card


def decide(browser: Browser, tool: str, button: str, *fields: tuple[str, str]) -> None:
    """Fill ``fields`` (label, text) in the waiting ``tool`` call's card and press ``button``.
    The queue page reloads itself every 5 s while idle: a reload between finding the card
    and typing leaves the card stale, and the steps start again (nothing was sent yet; a
    page with a focused or filled form is never reloaded)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(3):
        try:
            card = pending_card(browser, tool)
            for label, text in fields:
                browser.fill(label, text)
            browser.button(button, within=card).click()
            return
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"the {tool} card went stale three times on {browser.path}")


def test_an_approval_releases_the_write_an_mcp_client_waits_on(
    browser: Browser, console: Console
) -> None:
    """``appctl mcp --transport http`` on the same project (one history file, one queue):
    its client's create_pet waits; approved in the console, the client gets the pet."""

    async def session(url: str) -> Any:
        agent = create_mcp_http_client(headers={"Authorization": f"Bearer {AGENT_TOKEN}"})
        async with Client(streamable_http_client(url, http_client=agent)) as client:
            return await client.call_tool("create_pet", {"name": "Tom"})

    with mcp_over_http(console.project, env={"AGENT_TOKEN": AGENT_TOKEN}) as url:
        answer = waiting(lambda: anyio.run(session, url))
        sign_in(browser, token=console.token)
        browser.wait_for("Approvals")
        card = pending_card(browser, "create_pet")
        assert "over mcp" in card.text and '"name": "Tom"' in card.text, card.text
        assert "POST" in card.text and f"{console.pets.url}/pets" in card.text
        assert not any(method == "POST" for method, *_ in console.pets.seen)
        browser.shot("approvals", whole=True)  # docs/console.png
        decide(browser, "create_pet", "Approve")
        result = answer.result(timeout=ANSWER)
    assert not result.is_error, result
    assert _envelope(result)["data"]["name"] == "Tom"
    assert [s[:2] for s in console.pets.seen] == [("POST", "/api/pets")]
    text = browser.wait_for("approved")
    assert "create_pet for" in text and "by token" in text, text
    assert "Nothing is waiting." in text


def test_a_denial_with_a_reason_reaches_the_caller(browser: Browser, console: Console) -> None:
    answer = rest_call(console, "create_pet", {"name": "Tom"})
    sign_in(browser, token=console.token)
    card = pending_card(browser, "create_pet")
    entry = card.get_attribute("id").removeprefix("pending-")
    # the decision form is CSRF-protected too: without the token nothing is decided
    forged = browser.fetch(f"/ui/approvals/{entry}", method="POST", form={"decision": "approve"})
    assert forged == 403 and not answer.done()
    decide(browser, "create_pet", "Deny", ("Reason", "no new pets during the freeze"))
    refused = answer.result(timeout=ANSWER)
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["reason"] == "declined"
    assert "no new pets during the freeze" in error["message"]
    text = browser.wait_for("denied")
    assert "“no new pets during the freeze”" in text and "by token" in text
    assert console.pets.seen == []
    browser.shot("denied")


def test_a_destructive_approval_with_a_mistyped_name_is_refused(
    browser: Browser, console: Console
) -> None:
    answer = rest_call(console, "delete_pet", {"petId": 1})
    sign_in(browser, token=console.token)
    pending_card(browser, "delete_pet")
    assert browser.unlabelled() == []
    browser.phone()  # the queue on a phone: the long request wraps or scrolls in its box
    assert browser.layout_width() == 390 and browser.overflows() == 0
    browser.shot("approvals")
    browser.desktop()
    decide(browser, "delete_pet", "Approve", ("Type delete_pet to approve", "delete_pets"))
    text = browser.wait_for("delete_pet")
    assert "type its name, delete_pet" in text, text
    assert not answer.done() and 1 in console.pets.pets  # still waiting, nothing deleted
    browser.shot("mistyped")

    decide(browser, "delete_pet", "Approve", ("Type delete_pet to approve", "delete_pet"))
    deleted = answer.result(timeout=ANSWER)
    assert deleted.status_code in (200, 204), deleted.text
    assert 1 not in console.pets.pets
    assert [s[:2] for s in console.pets.seen] == [("DELETE", "/api/pets/1")]


def test_an_approval_with_the_keyboard_alone(browser: Browser, console: Console) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    answer = rest_call(console, "create_pet", {"name": "Kbd"})
    sign_in(browser, token=console.token)
    card = pending_card(browser, "create_pet")
    approve = browser.button("Approve", within=card).get_attribute("id")
    browser.js("document.activeElement && document.activeElement.blur()")
    for _ in range(40):  # TAB through the page as a keyboard user does
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
        if browser.driver.switch_to.active_element.get_attribute("id") == approve:
            break
    else:
        raise AssertionError(f"TAB never reached the Approve button on {browser.path}")
    focused = browser.driver.switch_to.active_element
    assert focused.value_of_css_property("outline-style") != "none"  # the focus shows
    browser.shot("keyboard-focus")
    ActionChains(browser.driver).send_keys(Keys.ENTER).perform()
    created = answer.result(timeout=ANSWER)
    assert created.status_code == 200, created.text
    assert created.json()["data"]["name"] == "Kbd"


VIEWER_ONLY = """\
policy:
  - {match: {safety: mutating}, approval: {timeout: 120}}
console:
  approvers: [alice]  # the serve token's caller ("token") is a viewer only
"""


@pytest.mark.parametrize("console_config", [VIEWER_ONLY])
def test_a_viewer_sees_the_queue_but_cannot_decide_or_run(
    browser: Browser, console: Console
) -> None:
    answer = rest_call(console, "create_pet", {"name": "Tom"})
    sign_in(browser, token=console.token)
    assert "viewer" in browser.wait_for("token")
    card = pending_card(browser, "create_pet")
    assert "Approve" not in card.text and "Deny" not in card.text
    entry = card.get_attribute("id").removeprefix("pending-")
    browser.open("/ui/tools/create_pet")
    token = browser.js("return document.querySelector('#try-form input[name=csrf]').value")
    decided = browser.fetch(
        f"/ui/approvals/{entry}", method="POST", form={"decision": "approve", "csrf": token}
    )
    assert decided == 403 and not answer.done()  # a right CSRF token, but not an approver
    browser.button("Dry run")  # a viewer may dry-run ...
    assert "Run" not in _buttons(browser)  # ... but not call
    ran = browser.fetch(
        "/ui/tools/create_pet/try",
        method="POST",
        form={"mode": "run", "name": "Tom", "csrf": token},
    )
    assert ran == 403
    assert console.pets.seen == []
    queue = open_queue(History(f"sqlite:///{console.project / '.appctl' / 'history.db'}"))
    queue.decide(entry, approve=False, by=Caller(subject="alice", kind="oauth"), reason="test over")
    assert answer.result(timeout=ANSWER).status_code == 403


def test_an_approver_runs_a_tool_from_the_try_form(browser: Browser, console: Console) -> None:
    sign_in(browser, token=console.token)
    browser.wait_for("create_pet")
    browser.open("/ui/tools/delete_pet")
    browser.fill("petId", "1")
    browser.button("Run").click()
    browser.wait_for("type its name to run it")  # destructive: as on a terminal
    assert 1 in console.pets.pets and console.pets.seen == []
    browser.fill("Type delete_pet to run this destructive tool", "delete_pet")
    browser.button("Run").click()
    browser.wait_for("Result")
    assert 1 not in console.pets.pets
    assert [s[:2] for s in console.pets.seen] == [("DELETE", "/api/pets/1")]
    browser.shot("ran")


def _buttons(browser: Browser) -> list[str]:
    return list(
        browser.js(
            "return [...document.querySelectorAll('main button')]"
            ".filter(b => b.offsetParent !== null).map(b => b.innerText.trim())"
        )
    )


POSTGRES = pytest.param(
    "postgresql",
    marks=pytest.mark.skipif(
        "postgresql" not in dbs.kinds() and not dbs.required(),
        reason="no PostgreSQL server: scripts/dbservers start, source .cache/db/env",
    ),
)


@pytest.mark.parametrize("fresh_db", [POSTGRES], indirect=True)
def test_an_approval_in_one_instances_console_releases_a_call_on_another(
    chromium: Any, tmp_path: Path, pets: Any, fresh_db: str
) -> None:
    """Two ``appctl serve`` processes, each with its own app dir (two hosts), sharing only a
    PostgreSQL history: a write sent to B waits; A's console lists it; approved there, B's
    caller gets the result."""
    env = {"APPCTL_HISTORY_URL": fresh_db}
    one, other = (project_for(tmp_path / host, pets, CONFIG) for host in ("a", "b"))
    with serving(one, pets, env=env) as first, serving(other, pets, env=env) as second:
        answer = rest_call(second, "create_pet", {"name": "Tom"})
        with browsing(chromium, first.url) as browser:
            sign_in(browser, token=first.token)
            decide(browser, "create_pet", "Approve")
            created = answer.result(timeout=ANSWER)
            assert created.status_code == 200, created.text
            assert created.json()["data"]["name"] == "Tom"
            assert "approved" in browser.wait_for("Nothing is waiting.")
    assert [s[:2] for s in pets.seen] == [("POST", "/api/pets")]
