"""Paging an HTTP list end to end on a real server: headers, next, sealed cursors, --pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from appctl.contract.models import Contract
from appctl.execute.continuation import Sealer
from appctl.execute.executor import CallOptions, call
from appctl.execute.pages import call_pages
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.generate.toolspec import build_tool_specs
from tests.execute.pagingapi import API_KEY, DOC, ITEMS, Api, serving
from tests.helpers import sync_doc

SCHEMA: Contract = sync_doc(DOC).schema
ENV = {"APPCTL_KEY": API_KEY}
KEY = b"k" * 32


@pytest.fixture
def api() -> Iterator[Api]:
    with serving() as running:
        yield running


def _options(api: Api, **changes: Any) -> CallOptions:
    return CallOptions(base_url=api.url, sealer=Sealer(KEY), **changes)


def _call(api: Api, tool: str, args: dict[str, Any], **changes: Any) -> ToolResult:
    return call(SCHEMA, tool, args, _options(api, **changes), environ=ENV)


def _ids(data: Any) -> list[str]:
    rows = data if isinstance(data, list) else next(v for v in data.values() if isinstance(v, list))
    return [r["id"] for r in rows]


def _all_pages(api: Api, tool: str, args: dict[str, Any]) -> list[str]:
    """Every id, following next cursors page by page (at most 30 pages)."""
    seen, given = [], dict(args)
    for _ in range(30):
        result = _call(api, tool, given)
        assert result.ok, result.error
        seen += _ids(result.data)
        if result.next is None:
            return seen
        assert set(result.next) == {"cursor", "hint"}
        given = {**args, "cursor": result.next["cursor"]}
    raise AssertionError("more than 30 pages")


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("list_linked", {"per_page": 5}),
        ("list_stripe", {"limit": 4}),
        ("list_tokened", {}),
    ],
)
def test_cursors_page_through_every_item_once(api: Api, tool: str, args: dict[str, Any]) -> None:
    assert _all_pages(api, tool, args) == [it["id"] for it in ITEMS]


def test_link_paging_keeps_the_headers_that_matter_and_never_the_key(api: Api) -> None:
    result = _call(api, "list_linked", {"per_page": 5})
    headers = result.headers or {}
    assert headers["x-ratelimit-remaining"] == "4999" and headers["etag"] == '"page-1"'
    assert headers["x-total-count"] == "23" and 'rel="next"' in headers["link"]
    assert "set-cookie" not in headers
    assert API_KEY not in json.dumps(result.model_dump())  # redacted in the Link header too
    payload = result.next["cursor"].split(".")[1] if result.next else ""
    state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert state["s"]["url"].endswith("/link/items?page=2&per_page=5")
    second = _call(api, "list_linked", {"per_page": 5, "cursor": result.next["cursor"]})
    assert _ids(second.data) == [it["id"] for it in ITEMS[5:10]]
    assert f"api_key={API_KEY}" in api.seen[-1]  # the credential applied again on resume


def test_a_bad_cursor_is_refused_before_any_request(api: Api) -> None:
    first = _call(api, "list_stripe", {"limit": 4})
    cursor = (first.next or {})["cursor"]
    before = len(api.seen)
    other = Sealer(b"o" * 32).seal("list_stripe", {"limit": 4}, {"param": "x", "value": 1})
    expired = Sealer(KEY, ttl=1).seal(
        "list_stripe", {"limit": 4}, {"param": "starting_after", "value": "it_004"}, now=0
    )
    foreign = Sealer(KEY).seal("list_tokened", {"limit": 4}, {"url": api.url + "/x"})
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    bad = {
        "tampered": ({"limit": 4}, flipped),
        "truncated": ({"limit": 4}, cursor[: len(cursor) // 2]),
        "another key": ({"limit": 4}, other),
        "expired": ({"limit": 4}, expired),
        "another tool's": ({"limit": 4}, foreign),
        "other arguments": ({"limit": 5}, cursor),
        "not text": ({"limit": 4}, 12345),
    }
    for why, (args, token) in bad.items():
        result = _call(api, "list_stripe", {**args, "cursor": token})
        assert result.error is not None and result.error.category == ErrorCategory.VALIDATION, why
        assert "without cursor" in result.error.message, why
    assert len(api.seen) == before


def test_a_next_link_to_another_origin_is_reported_not_followed(api: Api) -> None:
    result = _call(api, "list_far", {})
    assert result.ok and result.next is None
    assert any("another origin" in n and "198.51.100.7" in n for n in result.notes)


def test_a_cut_page_continues_after_the_last_item_shown(api: Api) -> None:
    """has_more + last id: the cursor is made from the page as fitted, so nothing is lost."""
    first = _call(api, "list_stripe", {"limit": 10}, result_budget=600)
    shown = _ids(first.data)
    assert 0 < len(shown) < 10 and any(n.startswith("showing ") for n in first.notes)
    cursor = (first.next or {})["cursor"]
    second = _call(api, "list_stripe", {"limit": 10, "cursor": cursor}, result_budget=600)
    assert _ids(second.data)[0] == ITEMS[len(shown)]["id"]


def test_a_cut_link_page_says_its_cursor_skips_what_was_left_out(api: Api) -> None:
    first = _call(api, "list_linked", {"per_page": 10}, result_budget=600)
    assert first.next is not None and "left out" in first.next["hint"]
    assert "per_page" in " ".join(first.notes)


def test_the_budget_hint_names_paging_params_in_the_body(api: Api) -> None:
    result = _call(api, "filter_items", {"limit": 20}, result_budget=500)
    note = next(n for n in result.notes if n.startswith("showing "))
    assert "offset, limit" in note and "narrower filters" not in note


def test_pages_merge_within_the_budget_and_give_the_last_next(api: Api) -> None:
    def page(given: Any) -> ToolResult:
        return _call(api, "list_stripe", dict(given))

    merged = call_pages(page, {"limit": 4}, max_pages=3, budget=100_000)
    assert _ids(merged.data) == [it["id"] for it in ITEMS[:12]]
    assert merged.data["has_more"] is True and any("read 3 pages" in n for n in merged.notes)
    rest = _call(api, "list_stripe", {"limit": 4, "cursor": (merged.next or {})["cursor"]})
    assert _ids(rest.data) == [it["id"] for it in ITEMS[12:16]]
    small = call_pages(page, {"limit": 4}, max_pages=10, budget=800)
    assert 0 < len(_ids(small.data)) < 23 and any("did not fit" in n for n in small.notes)
    after = _call(api, "list_stripe", {"limit": 4, "cursor": (small.next or {})["cursor"]})
    assert _ids(after.data)[0] == ITEMS[len(_ids(small.data))]["id"]  # none lost


def test_pages_stop_at_the_last_page(api: Api) -> None:
    def page(given: Any) -> ToolResult:
        return _call(api, "list_linked", dict(given))

    merged = call_pages(page, {"per_page": 10}, max_pages=50, budget=0)
    assert _ids(merged.data) == [it["id"] for it in ITEMS] and merged.next is None
    assert any(n == "read 3 pages" for n in merged.notes)


def test_only_paging_http_tools_take_a_cursor() -> None:
    specs = {s.name: s.input_schema["properties"] for s in build_tool_specs(SCHEMA)}
    assert all("cursor" in props for props in specs.values())  # every tool here pages
    plain = sync_doc(
        {**DOC, "paths": {"/one": {"get": {"operationId": "one", "responses": {"200": {}}}}}}
    ).schema
    assert "cursor" not in build_tool_specs(plain)[0].input_schema["properties"]


def test_a_write_that_pages_is_approved_with_its_cursor(api: Api) -> None:
    from appctl.config import Config
    from appctl.session.approval import Terminal
    from appctl.session.core import Session

    asked: list[dict[str, Any]] = []

    def yes(action: Any, arguments: Any) -> bool:
        asked.append(dict(arguments))
        return True

    session = Session(SCHEMA, Config(), _options(api), ENV, approver=Terminal(yes))
    first = session.call("archive_stripe", {"limit": 4})
    cursor = (first.next or {})["cursor"]
    second = session.call("archive_stripe", {"limit": 4, "cursor": cursor})
    assert second.ok and _ids(second.data) == [it["id"] for it in ITEMS[4:8]]
    assert len(asked) == 2 and asked[1]["cursor"] == cursor


def test_a_token_goes_into_its_argument_after_an_override_renamed_it(api: Api) -> None:
    from appctl.contract.overrides import Overrides, apply_overrides

    edits = {"actions": {"list_tokened": {"parameters": {"pageToken": {"name": "page_token"}}}}}
    renamed = apply_overrides(SCHEMA, Overrides.model_validate(edits))
    first = call(renamed, "list_tokened", {}, _options(api), environ=ENV)
    cursor = (first.next or {})["cursor"]
    second = call(renamed, "list_tokened", {"cursor": cursor}, _options(api), environ=ENV)
    assert _ids(second.data) == [it["id"] for it in ITEMS[7:14]]


def test_pages_stop_at_a_page_cut_to_the_budget(api: Api) -> None:
    def page(given: Any) -> ToolResult:
        return _call(api, "list_linked", dict(given), result_budget=600)

    merged = call_pages(page, {"per_page": 10}, max_pages=5, budget=600)
    assert len(api.seen) == 1  # the cursor of a cut page would skip what was left out
    assert any("page 1 was cut to the budget" in n for n in merged.notes)
