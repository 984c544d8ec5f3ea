"""The harness itself: Debian's Chromium, started offline through the system chromedriver,
renders what a real ``appctl serve`` answers, and the page checks see what they should."""

from __future__ import annotations

import json

import pytest

from tests.console.conftest import SHOTS, Browser, Console


@pytest.mark.parametrize("console_config", [""])
def test_chromium_reads_a_real_serve(browser: Browser, console: Console) -> None:
    browser.open("/health")
    assert json.loads(browser.text()) == {"ok": True, "tools": 5}
    shot = browser.shot("harness-health")
    assert shot.parent == SHOTS and shot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("console_config", [""])
def test_the_page_checks_see_unlabelled_inputs_and_sideways_scroll(
    browser: Browser, console: Console
) -> None:
    """The accessibility checks the console tests rely on can fail: on a page with one input
    lacking a label and a box wider than a phone, they say so."""
    page = (
        "<label for=a>Name</label><input id=a name=a>"
        "<input name=nolabel><select name=s2 aria-label=Pick></select>"
        "<div style='width:600px'>wide</div>"
    )
    browser.open("/health")
    browser.js("document.body.innerHTML = arguments[0]", page)
    assert browser.field("Name").get_attribute("id") == "a"
    assert browser.unlabelled() == ['<input name="nolabel">']
    browser.phone()
    assert browser.layout_width() == 980  # no viewport meta: a phone's desktop-like layout
    browser.js(
        "const m = document.createElement('meta'); m.name = 'viewport';"
        "m.content = 'width=device-width, initial-scale=1'; document.head.appendChild(m);"
    )
    assert browser.layout_width() == 390
    assert browser.overflows() > 0
    browser.js("document.querySelector('div').style.width = '100px'")
    assert browser.overflows() == 0
