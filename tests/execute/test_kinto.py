"""Kinto end to end: a real API that pages by its ``Next-Page`` header (Kinto 26.5.0, memory
backends, in ``.cache/kinto-venv`` made by scripts/setup, on 127.0.0.1 for the session).

Its OpenAPI document (``/v1/__api__``) is synced as a user would; records are paged through
with the sealed cursors appctl returns and compared with a direct listing: no record lost or
repeated. A refused cursor sends nothing (the requests are counted on the transport)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from appctl.execute.http.transport import Answer, Transport
from appctl.execute.result import ErrorCategory
from appctl.session.core import Session
from tests import runner

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".cache" / "kinto-venv" / "bin" / "python"
SERVER = REPO / "tests" / "kinto_server.py"
AUTH = ("alice", "not-a-real-password")
ENV = {"APPCTL_BASICAUTH_USERNAME": AUTH[0], "APPCTL_BASICAUTH_PASSWORD": AUTH[1]}
RECORDS = 23  # four pages of _limit=6 (a direct listing takes them all: paginate_by 100)


@pytest.fixture(scope="session")
def kinto() -> Iterator[str]:
    """Kinto's base URL (``http://127.0.0.1:PORT``), with a collection of RECORDS records."""
    if not PYTHON.exists():
        message = f"Kinto is not installed at {PYTHON.parent.parent}: run scripts/setup"
        if os.environ.get("APPCTL_REQUIRE_DBS"):  # scripts/test: everything must be there
            pytest.fail(message)
        pytest.skip(message)
    child = subprocess.Popen(
        [str(PYTHON), str(SERVER)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert child.stdout is not None
        port = child.stdout.readline().strip()
        assert port.isdigit(), f"Kinto did not start (said {port!r})"
        url = f"http://127.0.0.1:{port}"
        _fill(url)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)


def _fill(url: str) -> None:
    with httpx.Client(base_url=url + "/v1", auth=AUTH, timeout=10) as client:
        for _ in range(50):  # up to ~5 s for the server to answer
            try:
                client.get("/")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        client.put("/buckets/b1").raise_for_status()
        client.put("/buckets/b1/collections/c1").raise_for_status()
        for n in range(RECORDS):
            client.post("/buckets/b1/collections/c1/records", json={"data": {"n": n}})


def _direct(url: str) -> list[str]:
    got = httpx.get(f"{url}/v1/buckets/b1/collections/c1/records?_limit=100", auth=AUTH)
    return [r["id"] for r in got.json()["data"]]


class Counting(Transport):
    """The real transport, counting the requests it sends."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self.sent = 0

    def exchange(self, *args: Any, **kwargs: Any) -> Answer:
        self.sent += 1
        return super().exchange(*args, **kwargs)


@pytest.fixture
def session(kinto: str, tmp_path: Path) -> Session:
    runner.invoke("sync", "--openapi", f"{kinto}/v1/__api__", cwd=tmp_path, code=0)
    opened = Session.open(tmp_path / ".appctl", approver=_nobody(), environ=ENV)
    opened.transport = Counting()
    return opened


def _nobody() -> Any:
    from appctl.session.core import NOBODY

    return NOBODY


ARGS = {"bucket_id": "b1", "collection_id": "c1", "_limit": 6}


def test_paging_kinto_by_cursor_matches_a_direct_listing(kinto: str, session: Session) -> None:
    seen: list[str] = []
    given: dict[str, Any] = dict(ARGS)
    for _ in range(10):
        result = session.call("get_records", given)
        assert result.ok, result.error
        seen += [r["id"] for r in result.data["data"]]
        if result.next is None:
            break
        assert (result.headers or {}).get("next-page", "").startswith(kinto)
        given = {**ARGS, "cursor": result.next["cursor"]}
    assert len(seen) == RECORDS and seen == _direct(kinto)


def test_kinto_cursors_are_checked_before_any_request(session: Session) -> None:
    first = session.call("get_records", ARGS)
    cursor = (first.next or {})["cursor"]
    transport = session.transport
    assert isinstance(transport, Counting)
    sent = transport.sent
    for given in (
        {**ARGS, "_limit": 7, "cursor": cursor},  # other arguments
        {**ARGS, "cursor": cursor[:-3]},  # truncated
        {"bucket_id": "b1", "cursor": cursor},  # another tool's
    ):
        tool = "get_records" if "collection_id" in given else "get_collections"
        result = session.call(tool, given)
        assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
    assert transport.sent == sent


def test_kinto_pages_merge_and_the_next_goes_on(kinto: str, session: Session) -> None:
    merged = session.call("get_records", ARGS, max_pages=3)
    ids = [r["id"] for r in merged.data["data"]]
    assert ids == _direct(kinto)[:18] and any("read 3 pages" in n for n in merged.notes)
    rest = session.call("get_records", {**ARGS, "cursor": (merged.next or {})["cursor"]})
    assert [r["id"] for r in rest.data["data"]] == _direct(kinto)[18:] and rest.next is None
