"""``--strict`` output judged by OpenAI's documented subset and by the OpenAI Agents SDK's
converter: a tool is ``strict: true`` only when both accept it as it is, otherwise
``strict: false`` with a warning naming the tool and the reason."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from agents.strict_schema import ensure_strict_json_schema

from appctl.contract.models import Contract
from appctl.generate.formats import render
from appctl.generate.formats.openai_subset import problems
from appctl.generate.toolspec import build_tool_specs
from appctl.sync.db.api import sync_db
from appctl.sync.openapi.api import sync_openapi
from tests.conftest import REPO
from tests.corpus import ABSENT, DIRECTORY, GITHUB


def _chinook(tmp_path: Path) -> Contract:
    shutil.copy(REPO / "examples" / "chinook.db", tmp_path / "chinook.db")
    return sync_db(f"sqlite:///{tmp_path / 'chinook.db'}", root=tmp_path).schema


def _spec(path: Path) -> Any:
    def load(tmp_path: Path) -> Contract:
        if not path.is_file():
            pytest.skip(ABSENT)
        return sync_openapi(str(path)).schema

    return load


SOURCES = {
    "chinook": _chinook,
    "github": _spec(GITHUB),  # 1,223 tools, converted in well under a second
    "image-charts": _spec(DIRECTORY / "image-charts.com.json"),  # 1,004 enum values in a tool
}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_strict_tools_pass_the_subset_and_the_sdk_others_are_named(
    source: str, tmp_path: Path
) -> None:
    rendered = render("openai", build_tool_specs(SOURCES[source](tmp_path)), strict=True)
    named = {w.split(":", 1)[0] for w in rendered.warnings if ": not strict-compatible (" in w}
    loose = set()
    for tool in rendered.document:
        function = tool["function"]
        if not function["strict"]:
            loose.add(function["name"])
            continue
        parameters = function["parameters"]
        assert problems(parameters) == [], function["name"]
        converted = ensure_strict_json_schema(copy.deepcopy(parameters))
        assert converted == parameters, function["name"]
    assert loose == named
    if source == "image-charts":
        assert "get_chart" in loose


def _object(props: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
        **more,
    }


def _nested(levels: int) -> dict[str, Any]:
    node = _object({"x": {"type": "string"}})
    for _ in range(levels - 1):
        node = _object({"x": node})
    return node


CASES = [
    ({"anyOf": [_object({})], "type": "object"}, "the root is an anyOf"),
    (_object({"a": {"type": "object", "properties": {}}}), "without additionalProperties"),
    ({**_object({"a": {"type": "string"}}), "required": []}, "not every property is required"),
    (_object({"a": {"allOf": [{"type": "string"}]}}), "unsupported allOf"),
    (_object({"a": {"type": "string", "minLength": 2}}), "unsupported minLength"),
    (_object({"a": {"type": "string", "format": "uri"}}), "format 'uri'"),
    (_object({"a": {"$ref": "#/definitions/A"}}), "is not # or #/$defs/NAME"),
    (_nested(11), "nested deeper than 10 levels"),
    (_object({f"p{i}": {"type": "string"} for i in range(5001)}), "5001 object properties"),
    (_object({"a": {"enum": list(range(1001))}}), "1001 enum values"),
    (_object({"a": {"enum": [f"{i:0>60}" for i in range(251)]}}), "251 enum values of 15,060"),
    (
        _object({"a": {"type": "string"}}, **{"$defs": {"x" * 120_001: {"type": "string"}}}),
        "characters",
    ),
]


@pytest.mark.parametrize(("schema", "said"), CASES, ids=[said for _, said in CASES])
def test_the_subset_check_names_each_rule(schema: dict[str, Any], said: str) -> None:
    found = problems(schema)
    assert any(said in p for p in found), found


def test_what_the_subset_allows_passes() -> None:
    schema = _object(
        {
            "when": {"type": ["string", "null"], "format": "date-time"},
            "n": {"type": "integer", "minimum": 1, "maximum": 9, "multipleOf": 1},
            "tags": {"type": "array", "items": {"type": "string", "pattern": "^a"}, "maxItems": 3},
            "pick": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]},
            "deep": _nested(9),
        },
        **{"$defs": {"A": _object({"self": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}})}},
    )
    assert problems(schema) == []


def test_a_tool_left_non_strict_is_named_with_the_reason_and_the_place() -> None:
    from tests.helpers import spec, sync_doc

    body = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "object"}}},
    }
    doc = spec(
        {
            "/runs": {
                "post": {
                    "operationId": "createRun",
                    "requestBody": {"content": {"application/json": {"schema": body}}},
                }
            }
        }
    )
    rendered = render("openai", build_tool_specs(sync_doc(doc).schema), strict=True)
    assert rendered.document[0]["function"]["strict"] is False
    assert rendered.warnings == [
        "create_run: not strict-compatible (a free-form object at /properties/items/items); "
        "emitted with strict false"
    ]
