"""The conform step inside a real call (a server on 127.0.0.1): off-spec data reaches the
caller whole under ``unchecked``, fit to the size budget like data, with secrets redacted;
data that matches its documented schema stays ``data``."""

from __future__ import annotations

import json
from typing import Any

from appctl.execute.executor import CallOptions, call
from appctl.execute.redact import REDACTED, Redactor, Secret
from tests.conftest import Routes
from tests.helpers import spec, sync_doc

ITEM = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
DOC = spec(
    {
        path: {
            "get": {
                "operationId": path.strip("/"),
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": ITEM}}
                        },
                    }
                },
            }
        }
        for path in ("/good", "/odd")
    }
)
SECRET = "s3cr3t-value-that-is-long"


def _serve(routes: Routes, path: str, body: Any) -> None:
    routes[path] = (200, "application/json", json.dumps(body).encode())


def test_off_spec_data_is_unchecked_cut_to_the_budget_and_redacted(
    http_server: tuple[str, Routes],
) -> None:
    url, routes = http_server
    _serve(routes, "/good", [{"id": i} for i in range(3)])
    _serve(routes, "/odd", [{"id": str(i), "note": SECRET} for i in range(200)])
    schema = sync_doc(DOC, base_url=url).schema
    options = CallOptions(base_url=url, result_budget=500)

    good = call(schema, "good", {}, options, environ={})
    assert good.ok and good.data == [{"id": 0}, {"id": 1}, {"id": 2}] and good.unchecked is None

    odd = call(schema, "odd", {}, options, environ={})
    assert odd.ok and odd.data is None
    assert 0 < len(odd.unchecked) < 200 and odd.unchecked[0]["id"] == "0"
    mismatch, cut = odd.notes
    assert "at /0/id" in mismatch and "'integer'" in mismatch
    assert cut.startswith(f"showing {len(odd.unchecked)} of 200 items")

    hide = Redactor([Secret(SECRET, "header", "Authorization", "Bearer")])
    shown = hide.result(odd)
    assert shown.unchecked[0]["note"] == REDACTED and SECRET not in shown.model_dump_json()


def test_fields_project_off_spec_data_too(http_server: tuple[str, Routes]) -> None:
    """``fields`` asked for a few parts of the answer: an answer off its documented schema
    (moved to ``unchecked``) is projected the same, not handed over whole."""
    url, routes = http_server
    _serve(routes, "/odd", [{"id": str(i), "note": "x" * 50, "more": [1, 2]} for i in range(5)])
    schema = sync_doc(DOC, base_url=url).schema
    odd = call(schema, "odd", {"fields": ["id"]}, CallOptions(base_url=url), environ={})
    assert odd.ok and odd.data is None
    assert odd.unchecked == [{"id": str(i)} for i in range(5)]
