"""``appctl call --pages N`` and a cursor passed back on the command line, on a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import runner
from tests.execute.pagingapi import DOC, ITEMS, Api, serving


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, Api]]:
    with serving() as api:
        (tmp_path / "spec.json").write_text(json.dumps(DOC))
        runner.invoke("sync", "--openapi", "spec.json", "--base-url", api.url, cwd=tmp_path)
        yield tmp_path, api


def test_pages_then_the_printed_cursor_goes_on(project: tuple[Path, Api]) -> None:
    folder, _api = project
    merged = runner.invoke("call", "list_stripe", "limit=4", "--pages", "3", "--json", cwd=folder)
    envelope = json.loads(merged.stdout)
    assert [r["id"] for r in envelope["data"]["data"]] == [it["id"] for it in ITEMS[:12]]
    assert "read 3 pages" in " ".join(envelope["notes"])
    cursor = envelope["next"]["cursor"]
    plain = runner.invoke("call", "list_stripe", "limit=4", f"cursor={cursor}", cwd=folder)
    assert [r["id"] for r in json.loads(plain.stdout)["data"]] == [it["id"] for it in ITEMS[12:16]]
    assert "next page: pass cursor=c1." in plain.stderr
    changed = runner.invoke(
        "call", "list_stripe", "limit=5", f"cursor={cursor}", cwd=folder, code=2
    )
    assert "issued for other arguments" in changed.stderr
    key = folder / ".appctl" / "cursor.key"
    assert key.stat().st_mode & 0o777 == 0o600
