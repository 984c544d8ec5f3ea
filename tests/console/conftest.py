"""The harness of the console's browser tests: Debian's Chromium, headless, driven by Selenium
through the system chromedriver (scripts/setup installs both with apt-get; nothing downloads a
browser at test time), against a real ``appctl serve`` process with a bearer token, whose
contract was synced from the fixture pet store running in a thread on 127.0.0.1.

``browser`` is one Chromium per test worker (it takes seconds to start on a busy machine),
with its cookies cleared and the desktop size set again for every test; ``Browser.phone()``
emulates a 390×844 phone. ``Browser.shot(name)`` saves a screenshot under
``.cache/screenshots/`` (gitignored). The tests skip when Chromium, chromedriver or Selenium
is missing, unless APPCTL_REQUIRE_BROWSER=1 (scripts/test sets it): then they fail.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import runner
from tests.conftest import REPO
from tests.serve.test_rest import SERVE_TOKEN, Served

REQUIRE_VAR = "APPCTL_REQUIRE_BROWSER"
COOKIE_NAME = "appctl_console"  # the console's session cookie
SHOTS = REPO / ".cache" / "screenshots"
DESKTOP = (1280, 900)
PHONE = (390, 844)
WAIT = 20.0  # seconds a page may take to show what a test waits for (2 shared busy cores)

# The policy the console tests serve: a change waits in the approval queue for a person.
# the agents' API calls use their own token: nobody approves their own call (session/queue.py)
AGENT_TOKEN = "console-agent-token-4242"
AGENT = """\
inbound:
  tokens:
    agent: {token: env:AGENT_TOKEN}
"""
CONFIG = """\
policy:
  - {match: {safety: mutating}, approval: {timeout: 120}}
  - {match: {safety: destructive}, approval: {timeout: 120}}
console:
  approvers: [token]  # the caller --token-env signs in as
"""


def required() -> bool:
    return os.environ.get(REQUIRE_VAR, "") not in ("", "0")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed: run scripts/setup"
    for program, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
        if shutil.which(program) is None:
            return f"no {program} on PATH: run scripts/setup (apt-get install {package})"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for this test worker (a selenium ``WebDriver``)."""
    why = missing()
    if why is not None:
        if required():
            pytest.fail(f"{REQUIRE_VAR}=1 but {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(shutil.which("chromium"))
    for arg in (
        "--headless=new",
        "--no-sandbox",  # the tests may run as root (CI does)
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(arg)
    service = Service(
        executable_path=str(shutil.which("chromedriver")), log_output=subprocess.DEVNULL
    )
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class Browser:
    """The driver with the few verbs the tests use; every lookup waits up to ``WAIT``."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver, self.base, self.size = driver, base, "desktop"

    # -- where and how big
    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    @property
    def path(self) -> str:
        url: str = self.driver.current_url
        return url.removeprefix(self.base)

    def desktop(self) -> None:
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.driver.set_window_size(*DESKTOP)
        self.size = "desktop"

    def phone(self) -> None:
        width, height = PHONE
        metrics = {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        self.size = "phone"

    def shot(self, name: str, *, whole: bool = False) -> Path:
        """A screenshot, ``.cache/screenshots/NAME-SIZE.png``: the viewport, or the ``whole``
        page however long it is."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{self.size}.png"
        if not whole:
            self.driver.save_screenshot(str(path))
            return path
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    # -- reading
    def text(self) -> str:
        """What a person sees: the body's rendered text (hidden elements left out)."""
        return str(self.driver.execute_script("return document.body.innerText"))

    def wait_for(self, *texts: str, timeout: float = WAIT) -> str:
        """The page's text once it shows every one of ``texts``."""
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(
                lambda _: all(t in self.text() for t in texts)
            )
        except Exception:
            raise AssertionError(f"{self.path} never showed {texts}:\n{self.text()}") from None
        return self.text()

    def until(self, check: Callable[[], bool], what: str, *, timeout: float = WAIT) -> None:
        """Wait until ``check()`` holds (``what`` says what the page never did)."""
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(lambda _: check())
        except Exception:
            raise AssertionError(f"{self.path} never {what}:\n{self.text()}") from None

    def fetch(self, path: str, *, method: str = "GET", form: dict[str, str] | None = None) -> int:
        """The status of a ``fetch()`` made by the page itself (its cookie, its origin)."""
        script = """
        const [path, method, form, done] = arguments;
        const init = {method: method, credentials: 'same-origin', redirect: 'manual'};
        if (form !== null) init.body = new URLSearchParams(form);
        fetch(path, init).then(r => done(r.status), e => done(String(e)));
        """
        return int(self.driver.execute_async_script(script, path, method, form))

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    # -- finding
    def field(self, label: str) -> Any:
        """The form control whose <label> reads ``label`` (its ``for`` or the one it wraps)."""
        found = self.js(LABELLED, label)
        if found is None:
            labels = self.js(
                "return [...document.labels || document.querySelectorAll('label')]"
                ".map(l => l.innerText.trim())"
            )
            raise AssertionError(f"no control labelled {label!r} on {self.path}; labels: {labels}")
        assert found.tag_name in ("input", "select", "textarea"), found.tag_name
        return found

    def button(self, text: str, *, within: Any = None) -> Any:
        """The visible button (or submit input) reading ``text``, in ``within`` if given."""
        from selenium.webdriver.common.by import By

        xpath = (
            f".//button[normalize-space()={_quote(text)}]"
            f" | .//input[@type='submit' and @value={_quote(text)}]"
        )
        root = within if within is not None else self.driver
        shown = [b for b in root.find_elements(By.XPATH, xpath) if b.is_displayed()]
        assert shown, f"no button {text!r} on {self.path}:\n{self.text()}"
        return shown[0]

    def link(self, text: str) -> Any:
        from selenium.webdriver.common.by import By

        links = [a for a in self.driver.find_elements(By.LINK_TEXT, text) if a.is_displayed()]
        assert links, f"no link {text!r} on {self.path}:\n{self.text()}"
        return links[0]

    def fill(self, label: str, value: str) -> Any:
        element = self.field(label)
        if element.tag_name == "select":
            from selenium.webdriver.support.ui import Select

            Select(element).select_by_visible_text(value)
        else:
            element.clear()
            element.send_keys(value)
        return element

    # -- accessibility checks run in the page
    def unlabelled(self) -> list[str]:
        """Every visible form control with no accessible name from a label (or aria)."""
        return list(self.js(UNLABELLED))

    def overflows(self) -> int:
        """How many CSS pixels the page is wider than the viewport (0: no sideways scroll)."""
        return int(
            self.js(
                "const d = document.documentElement;"
                "return Math.max(d.scrollWidth, document.body.scrollWidth) - d.clientWidth;"
            )
        )

    def layout_width(self) -> int:
        """The page's layout width in CSS pixels: a phone's own width only when the page says
        ``<meta name="viewport" content="width=device-width">`` (else a phone lays it out
        980 pixels wide and shrinks it to fit, too small to read or tap)."""
        return int(self.js("return document.documentElement.clientWidth"))


LABELLED = """
const want = arguments[0];
for (const label of document.querySelectorAll('label')) {
  const text = label.innerText.replace(/\\s+/g, ' ').trim();
  // "name * (required) string": a form field's label starts with the argument's name
  if (text !== want && !text.startsWith(want + ' ')) continue;
  if (label.control) return label.control;
}
return null;
"""

UNLABELLED = """
const bad = [];
for (const el of document.querySelectorAll('input, select, textarea')) {
  const type = (el.getAttribute('type') || '').toLowerCase();
  if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
  const named = (el.labels && [...el.labels].some(l => l.innerText.trim()))
    || (el.getAttribute('aria-label') || '').trim()
    || el.getAttribute('aria-labelledby');
  if (!named) bad.push(el.outerHTML.slice(0, 160));
}
return bad;
"""


def _quote(text: str) -> str:
    """``text`` as an XPath string literal."""
    if "'" not in text:
        return f"'{text}'"
    parts = text.split("'")
    return "concat(" + ', "\'", '.join(f"'{p}'" for p in parts) + ")"


@dataclass
class Console:
    """A running ``appctl serve`` with the console, and what it serves."""

    served: Served
    project: Path
    pets: Any  # the fixture app (fixtures/app/server.py), ``pets.seen`` its requests
    token: str = SERVE_TOKEN

    @property
    def url(self) -> str:
        return self.served.url

    def client(self, *, timeout: float = 150) -> httpx.Client:
        """An API client of the server with an agent's own token (caller "agent")."""
        headers = {"Authorization": f"Bearer {AGENT_TOKEN}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)


@pytest.fixture
def console_config() -> str:
    """The config.yaml ``console`` serves (a test may parametrize it)."""
    return CONFIG


def project_for(project: Path, pets: Any, config: str) -> Path:
    """``project`` with a contract synced from the pet store, aimed at it, and ``config``."""
    project.mkdir(parents=True, exist_ok=True)
    # a long path, as real checkouts have, that the pages must wrap on a phone
    spec = project / "pet-store-service-specifications" / "openapi-document-version-2026.yaml"
    spec.parent.mkdir()
    spec.write_bytes((REPO / "fixtures" / "app" / "openapi.yaml").read_bytes())
    runner.invoke("sync", "--openapi", str(spec), "--base-url", pets.url, cwd=project)
    agent = "" if "inbound:" in config else AGENT  # a config naming its own callers keeps them
    (project / ".appctl" / "config.yaml").write_text(agent + config)
    return project


@contextlib.contextmanager
def serving(project: Path, pets: Any, *, env: dict[str, str] | None = None) -> Iterator[Console]:
    """``appctl serve --token-env SERVE_TOKEN`` in ``project`` (a process), stopped after."""
    env = {"AGENT_TOKEN": AGENT_TOKEN, **(env or {})}
    served = Served(project, "--token-env", "SERVE_TOKEN", env=env)
    try:
        yield Console(served, project, pets)
    finally:
        served.stop()


@pytest.fixture
def console(tmp_path: Path, pets: Any, console_config: str) -> Iterator[Console]:
    """``appctl serve`` over the pet store, with ``console_config``."""
    with serving(project_for(tmp_path, pets, console_config), pets) as running:
        yield running


@contextlib.contextmanager
def browsing(chromium: Any, url: str) -> Iterator[Browser]:
    """Chromium at desktop size with no cookies, aimed at the server at ``url``."""
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    page = Browser(chromium, url)
    page.desktop()
    try:
        yield page
    finally:
        with contextlib.suppress(Exception):
            chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})


@pytest.fixture
def browser(chromium: Any, console: Console) -> Iterator[Browser]:
    """Chromium aimed at ``console`` (see ``browsing``)."""
    with browsing(chromium, console.url) as page:
        yield page


def sign_in(page: Browser, *, token: str = SERVE_TOKEN) -> None:
    """Through the sign-in page, as a person would, until the console shows them signed in
    (the sign-in page itself says "token", so a test must not read it as signed in)."""
    page.open("/ui/login")
    page.fill("Bearer token", token)
    page.button("Sign in").click()
    page.until(lambda: "Sign out" in page.text(), "signed in")
