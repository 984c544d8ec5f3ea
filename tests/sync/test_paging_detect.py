"""Sync reads how an operation pages: its paging arguments (query or body) and how its
responses say where the next page is. One small spec per case, the expectation beside it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from appctl.contract.io import dump_schema
from appctl.contract.paging import NextPage, Pagination
from tests.helpers import spec, sync_doc


def _op(params: list[str], response: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "get": {
            "operationId": "listThings",
            "parameters": [
                {"name": p, "in": "query", "schema": {"type": "string"}} for p in params
            ],
            "responses": {"200": response},
            **extra,
        }
    }


def _json(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema}}, **extra}


def _paging(paths: dict[str, Any], **extra: Any) -> Pagination | None:
    result = sync_doc(spec(paths, **extra))
    (action,) = result.schema.actions()
    return action.pagination


LIST = {"type": "array", "items": {"type": "object"}}
CASES: list[tuple[str, dict[str, Any], Pagination | None]] = [
    ("no paging", _op(["q"], _json(LIST)), None),
    (
        "query params, nothing declared",
        _op(["page", "per_page"], _json(LIST)),
        Pagination(style="page", params=["page", "per_page"]),
    ),
    (
        "a documented Link header",
        _op(["page"], _json(LIST, headers={"Link": {"schema": {"type": "string"}}})),
        Pagination(style="page", params=["page"], next=NextPage(kind="link"), headers=["Link"]),
    ),
    (
        "Kinto's Next-Page header, declared",
        _op(
            ["_limit", "_token"],
            _json(LIST, headers={"Next-Page": {}, "Total-Records": {}, "ETag": {}}),
        ),
        Pagination(
            style="cursor",
            params=["_token", "_limit"],
            next=NextPage(kind="header", name="Next-Page", param="_token"),
            headers=["Next-Page", "Total-Records"],
        ),
    ),
    (
        "GitLab's X-Next-Page: a page number into page",
        _op(["page"], _json(LIST, headers={"X-Next-Page": {}})),
        Pagination(
            style="page",
            params=["page"],
            next=NextPage(kind="header", name="X-Next-Page", param="page"),
            headers=["X-Next-Page"],
        ),
    ),
    (
        "nextPageToken in the body goes into pageToken",
        _op(
            ["pageToken", "pageSize"],
            _json({"properties": {"items": LIST, "nextPageToken": {"type": "string"}}}),
        ),
        Pagination(
            style="cursor",
            params=["pageToken", "pageSize"],
            next=NextPage(kind="body", path="nextPageToken", param="pageToken"),
        ),
    ),
    (
        "links.next through a $ref, no paging params",
        _op([], _json({"$ref": "#/components/schemas/Page"})),
        Pagination(style="cursor", params=[], next=NextPage(kind="body", path="links.next")),
    ),
    (
        "Stripe: has_more beside data, with starting_after",
        _op(
            ["limit", "starting_after"],
            _json({"properties": {"data": LIST, "has_more": {"type": "boolean"}}}),
        ),
        Pagination(
            style="cursor",
            params=["starting_after", "limit"],
            next=NextPage(kind="has_more", path="has_more", items="data", param="starting_after"),
        ),
    ),
    (
        "Stripe's search: next_page in the body goes into page",
        _op(
            ["page", "limit"],
            _json({"properties": {"data": LIST, "next_page": {"type": "string"}}}),
        ),
        Pagination(
            style="page",
            params=["page", "limit"],
            next=NextPage(kind="body", path="next_page", param="page"),
        ),
    ),
    (
        "a lone cursor field without a list is not a next page",
        _op(["q"], _json({"properties": {"cursor": {"type": "string"}}})),
        None,
    ),
]
COMPONENTS = {
    "schemas": {
        "Page": {
            "allOf": [
                {"properties": {"results": LIST}},
                {"properties": {"links": {"properties": {"next": {"type": "string"}}}}},
            ]
        }
    }
}


@pytest.mark.parametrize(("why", "item", "expected"), CASES, ids=[c[0] for c in CASES])
def test_paging_is_read_from_params_and_responses(
    why: str, item: dict[str, Any], expected: Pagination | None
) -> None:
    assert _paging({"/things": item}, components=COMPONENTS) == expected


def test_paging_params_in_the_json_body_are_found() -> None:
    """Prefect's POST /flows/filter: limit and offset in the request body."""
    body = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"limit": {"type": "integer"}, "offset": {"type": "integer"}},
                }
            }
        }
    }
    item = {"post": {"operationId": "readFlows", "requestBody": body, "responses": {"200": {}}}}
    found = _paging({"/flows/filter": item})
    assert found == Pagination(style="offset", params=["offset", "limit"], location="body")


def test_swagger2_response_headers_and_schema_are_read() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/things": {
                "get": {
                    "parameters": [{"name": "cursor", "in": "query", "type": "string"}],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "schema": {"properties": {"data": LIST, "next_cursor": {}}},
                        }
                    },
                }
            }
        },
    }
    (action,) = sync_doc(doc).schema.actions()
    assert action.pagination == Pagination(
        style="cursor",
        params=["cursor"],
        next=NextPage(kind="body", path="next_cursor", param="cursor"),
    )


def test_the_new_paging_facts_are_left_out_of_the_file_when_empty() -> None:
    schema = sync_doc(spec({"/things": _op(["page"], _json(LIST))})).schema
    text = dump_schema(schema).decode()
    # the whole line: no location, next or headers written (responses may follow it)
    assert re.search(r'\n *"pagination": \{"style":"page","params":\["page"\]\},?\n', text)


def test_a_writes_body_limit_is_data_not_paging() -> None:
    body = {
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"limit": {"type": "integer"}}}
            }
        }
    }
    item = {"post": {"operationId": "createQuota", "requestBody": body, "responses": {"201": {}}}}
    assert _paging({"/quotas": item}) is None
