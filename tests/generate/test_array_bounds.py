"""Array bounds a constrained decoder can expand: at most ARRAY_BOUND_LIMIT in every emitted
tool schema (a larger bound is said in the description), while the executor keeps checking
the contract's own bound; the SQL ``in`` filter's bound is modest in the contract itself."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory
from appctl.generate.formats import FORMATS, render
from appctl.generate.toolspec import ARRAY_BOUND_LIMIT, build_tool_specs
from appctl.sync.db.api import sync_db
from tests.conftest import REPO
from tests.helpers import spec, sync_doc

LABELS = {"type": "array", "items": {"type": "string"}, "maxItems": 1024}
DOC = spec(
    {
        "/issues": {
            "post": {
                "operationId": "createIssue",
                "parameters": [
                    {"name": "labels", "in": "query", "description": "Labels.", "schema": LABELS}
                ],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "ids": {
                                        "type": "array",
                                        "items": {"type": "integer"},
                                        "minItems": 200,
                                        "maxItems": 500,
                                    },
                                    "tags": {"type": "array", "items": {}, "maxItems": 100},
                                },
                            }
                        }
                    }
                },
            }
        }
    }
)


def bounds(node: Any) -> list[int]:
    if isinstance(node, list):
        return [b for item in node for b in bounds(item)]
    if not isinstance(node, dict):
        return []
    own = [node[k] for k in ("minItems", "maxItems") if isinstance(node.get(k), int)]
    return own + [b for value in node.values() for b in bounds(value)]


def test_large_bounds_move_into_the_description() -> None:
    (tool,) = build_tool_specs(sync_doc(DOC).schema)
    props = tool.input_schema["properties"]
    assert "maxItems" not in props["labels"]
    assert props["labels"]["description"] == "Labels. At most 1024 items."
    body = props["ids"] if "ids" in props else props["body"]["properties"]["ids"]
    assert "minItems" not in body and "maxItems" not in body
    assert body["description"].endswith("At least 200 items. At most 500 items.")
    tags = props["tags"] if "tags" in props else props["body"]["properties"]["tags"]
    assert tags["maxItems"] == 100  # a modest bound stays a bound
    for fmt in FORMATS:
        for strict in (False, True):
            document = render(fmt, [tool], strict=strict).document
            assert max(bounds(document)) <= ARRAY_BOUND_LIMIT, fmt


def test_the_executor_still_checks_the_contracts_bound() -> None:
    schema = sync_doc(DOC).schema
    options = CallOptions(base_url="http://127.0.0.1:9", dry_run=True)
    fits = call(schema, "create_issue", {"labels": ["x"] * 1024}, options, environ={})
    assert fits.error is None, fits.error
    over = call(schema, "create_issue", {"labels": ["x"] * 1025}, options, environ={})
    assert over.error is not None and over.error.category == ErrorCategory.VALIDATION


@pytest.fixture(scope="module")
def chinook(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    root = tmp_path_factory.mktemp("chinook")
    shutil.copy(REPO / "examples" / "chinook.db", root / "chinook.db")
    url = f"sqlite:///{root / 'chinook.db'}"
    return url, sync_db(url, root=root).schema


def test_sql_in_filters_are_modest_and_the_executor_takes_all_they_allow(
    chinook: tuple[str, Any],
) -> None:
    url, schema = chinook
    specs = build_tool_specs(schema)
    assert max(bounds([s.input_schema for s in specs])) <= ARRAY_BOUND_LIMIT
    options = CallOptions(database_url=url)
    ids = list(range(1, ARRAY_BOUND_LIMIT + 1))
    where = {"where": {"AlbumId": {"in": ids}}, "limit": 500}
    listed = call(schema, "list_album", where, options, environ={})
    assert listed.error is None, listed.error
    assert len(listed.data["rows"]) == ARRAY_BOUND_LIMIT  # type: ignore[index]
    where["where"]["AlbumId"]["in"] = [*ids, ARRAY_BOUND_LIMIT + 1]  # type: ignore[index]
    over = call(schema, "list_album", where, options, environ={})
    assert over.error is not None and over.error.category == ErrorCategory.VALIDATION
