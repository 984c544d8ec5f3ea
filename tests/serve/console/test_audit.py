"""The audit trail pages: filters, one entry, exports, paging; and escaping (XSS)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from appctl.config import Config
from appctl.execute.audit.history import Entry, History
from appctl.execute.executor import CallOptions
from appctl.serve.console.trail import PAGE, as_csv
from appctl.serve.rest import ServeState, create_app
from appctl.session.approval import PolicyOnly
from appctl.session.core import Session
from tests.helpers import spec, sync_doc
from tests.serve.console.conftest import Make

SCRIPT = "<script>alert(1)</script>"
ROW_IDS = re.compile(r'<a href="/ui/history/(\d+)">')


def _calls(client: TestClient) -> None:
    """Three recorded calls through the REST API: two reads and a refused write."""
    client.post("/tools/list_pets/call", json={"arguments": {"limit": 1}})
    client.post(
        "/tools/list_pets/call",
        json={"arguments": {"tags": [SCRIPT]}},
        headers={"x-appctl-session": "other"},
    )
    client.post("/tools/create_pet/call", json={"arguments": {"name": "Rex"}})


def test_filters_by_tool_outcome_session_and_time(make_client: Make) -> None:
    client = make_client()
    _calls(client)
    assert len(ROW_IDS.findall(client.get("/ui/history").text)) == 3
    for params, count in [
        ({"tool": "list_pets"}, 2),
        ({"tool": "list_*"}, 2),
        ({"tool": "create_pet", "outcome": "refused"}, 1),
        ({"outcome": "ok"}, 2),
        ({"session": "other"}, 1),
        ({"since": "2000-01-01"}, 3),
        ({"since": "2999-01-01T00:00"}, 0),
        ({"until": "2000-01-01"}, 0),
        ({"until": "2999-01-01T00:00:00+02:00"}, 3),
    ]:
        page = client.get("/ui/history", params=params)
        assert page.status_code == 200
        assert len(ROW_IDS.findall(page.text)) == count, params


def test_a_bad_filter_is_a_400_saying_why(make_client: Make) -> None:
    client = make_client()
    page = client.get("/ui/history", params={"since": "yesterday"})
    assert page.status_code == 400 and "since must be an ISO date or time" in page.text
    page = client.get("/ui/history", params={"outcome": "nope"})
    assert page.status_code == 400 and "outcome must be one of" in page.text


def test_one_entry_in_full(make_client: Make) -> None:
    client = make_client()
    _calls(client)
    first = ROW_IDS.findall(client.get("/ui/history", params={"tool": "create_pet"}).text)[0]
    page = client.get(f"/ui/history/{first}")
    assert page.status_code == 200
    assert "create_pet" in page.text and "refused" in page.text
    assert "&#34;name&#34;: &#34;Rex&#34;" in page.text  # the arguments, indented JSON
    assert client.get("/ui/history/99999").status_code == 404
    assert client.get("/ui/history/abc").status_code == 404


def test_exports_hold_the_filtered_rows(make_client: Make) -> None:
    client = make_client()
    _calls(client)
    answer = client.get("/ui/history.csv", params={"tool": "list_pets"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["tool"] for r in rows] == ["list_pets", "list_pets"]
    assert {r["outcome"] for r in rows} == {"ok"}
    data = json.loads(client.get("/ui/history.json", params={"outcome": "refused"}).text)
    assert [(r["tool"], r["outcome"]) for r in data] == [("create_pet", "refused")]
    assert json.loads(data[0]["arguments"]) == {"name": "Rex"}
    assert client.get("/ui/history.xml").status_code == 404


def test_csv_cells_a_spreadsheet_would_run_are_quoted() -> None:
    text = as_csv([{"id": 1, "message": "=HYPERLINK(1)", "status": None}])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [{"id": "1", "message": "'=HYPERLINK(1)", "status": ""}]


def test_the_trail_pages_newest_first(make_client: Make, project: Path) -> None:
    history = History(f"sqlite:///{project / '.appctl' / 'history.db'}")
    for n in range(PAGE + 5):
        at = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000+00:00"
        history.record(Entry(at, "s", f"tool_{n}", "{}", "", 200, 1.0, "ok"))
    history.close()
    client = make_client()
    page = client.get("/ui/history")
    ids = [int(i) for i in ROW_IDS.findall(page.text)]
    assert len(ids) == PAGE and ids == sorted(ids, reverse=True)
    older = re.search(r'href="(/ui/history\?[^"]*before=\d+[^"]*)" id="older"', page.text)
    assert older
    rest = client.get(older.group(1).replace("&amp;", "&"))
    assert len(ROW_IDS.findall(rest.text)) == 5


def test_a_script_in_a_history_argument_is_escaped(make_client: Make) -> None:
    client = make_client()
    _calls(client)
    page = client.get("/ui/history")
    assert SCRIPT not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_script_in_a_tool_description_is_escaped(tmp_path: Path) -> None:
    op = {"operationId": "xss", "summary": SCRIPT, "description": f"Says {SCRIPT} <b>hi</b>"}
    doc = spec({"/x": {"get": {**op, "parameters": [_param()]}}})
    schema = sync_doc(doc, base_url="http://127.0.0.1:9").schema
    config = Config()
    session = Session(
        schema=schema,
        config=config,
        options=CallOptions(config=config),
        environ={},
        history=History(f"sqlite:///{tmp_path / 'h.db'}"),
        approver=PolicyOnly("appctl serve"),
    )
    with TestClient(create_app(ServeState(session=session)), base_url="https://t") as client:
        for where in ("/ui/", "/ui/tools/xss"):
            page = client.get(where)
            assert page.status_code == 200
            assert "<script>alert" not in page.text and "<b>hi" not in page.text
            assert "&lt;script&gt;alert(1)" in page.text


def _param() -> dict[str, Any]:
    return {
        "name": "q",
        "in": "query",
        "description": f"{SCRIPT}",
        "schema": {"type": "string", "enum": [SCRIPT, "b"]},
    }


def test_a_tool_page_shows_its_examples(tmp_path: Path) -> None:
    param = {"name": "owner", "in": "query", "schema": {"type": "string", "example": "octocat"}}
    doc = spec({"/repos": {"get": {"operationId": "listRepos", "parameters": [param]}}})
    schema = sync_doc(doc, base_url="http://127.0.0.1:9").schema
    config = Config()
    session = Session(
        schema=schema,
        config=config,
        options=CallOptions(config=config),
        environ={},
        approver=PolicyOnly("appctl serve"),
    )
    with TestClient(create_app(ServeState(session=session)), base_url="https://t") as client:
        page = client.get("/ui/tools/list_repos")
        assert page.status_code == 200, page.text[:500]
        shown = r"<dt>owner \(examples\)</dt><dd><pre>\[\s*&#34;octocat&#34;\s*\]</pre>"
        assert re.search(shown, page.text)
        assert client.get("/ui/history").status_code == 404  # no history kept


def test_the_trail_filters_and_shows_the_caller(make_client: Make, project: Path) -> None:
    client = make_client()
    client.post("/tools/list_pets/call", json={"arguments": {"limit": 1}})
    page = client.get("/ui/history")
    # a loopback server without a token: its HTTP callers are anonymous (serve/inbound)
    assert '<th scope="col">Caller</th>' in page.text and "<td>anonymous</td>" in page.text
    assert len(ROW_IDS.findall(client.get("/ui/history", params={"caller": "anon*"}).text)) == 1
    assert not ROW_IDS.findall(client.get("/ui/history", params={"caller": "ANON*"}).text)
    assert client.get("/ui/history.json").json()[0]["caller"] == "anonymous"
