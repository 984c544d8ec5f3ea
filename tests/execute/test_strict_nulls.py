"""HTTP tools made strict (appctl's converter and the OpenAI Agents SDK's), called with the
nulls a strict model sends: optional properties left out are not sent, at every level, and
nothing is refused; a non-strict call's explicit null on a nullable property is still sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appctl.contract.io import load_schema
from appctl.execute.args import check_arguments
from appctl.execute.executor import CallOptions, call
from appctl.execute.nulls import null_rule, without_strict_nulls
from tests.conftest import TOKEN
from tests.helpers import spec, sync_doc
from tests.strict_model import CannotOmit, strict_call, strict_tools

OWNER = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "phone": {"type": "string", "nullable": True},
    },
}
LINK = {  # recursive
    "type": "object",
    "properties": {"label": {"type": "string"}, "next": {"$ref": "#/components/schemas/Link"}},
}
PET = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "tag": {"type": "string", "nullable": True},
        "age": {"type": "integer", "minimum": 0},
        "owner": {"$ref": "#/components/schemas/Owner"},
        "friends": {"type": "array", "items": {"$ref": "#/components/schemas/Owner"}},
        "chain": {"$ref": "#/components/schemas/Link"},
        "toy": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["ball"],
                    "properties": {"ball": {"type": "string"}, "color": {"type": "string"}},
                },
                {
                    "type": "object",
                    "required": ["bone"],
                    "properties": {
                        "bone": {"type": "integer"},
                        "size": {"type": "integer", "nullable": True},
                    },
                },
            ]
        },
    },
}
DOC = spec(
    {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
            }
        },
        "/pets/{id}": {
            "patch": {
                "operationId": "patchPet",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                    }
                },
            }
        },
    },
    components={"schemas": {"Pet": PET, "Owner": OWNER, "Link": LINK}},
)
SCHEMA = sync_doc(DOC).schema
CONVERTERS = ["appctl", "sdk-on-appctl-strict"]


def _call(app: Any, tool: str, args: dict[str, Any]) -> Any:
    options = CallOptions(base_url=app.url, approved=True)
    return call(SCHEMA, tool, args, options, environ={})


@pytest.mark.parametrize("converter", CONVERTERS)
def test_a_strict_read_sends_only_what_was_given(app: Any, converter: str) -> None:
    tools = strict_tools(SCHEMA, converter)
    arguments = strict_call(tools["list_pets"], {})
    # cursor: the continuation argument of a tool that pages (generate/cursor.py); fields:
    # appctl's projection; a strict model sends both as null
    assert arguments == {
        "limit": None,
        "q": None,
        "X-Trace": None,
        "cursor": None,
        "fields": None,
    }
    assert _call(app, "list_pets", arguments).ok
    assert _call(app, "list_pets", strict_call(tools["list_pets"], {"q": "rex"})).ok
    first, second = app.seen
    assert first.query == [] and "x-trace" not in first.headers
    assert second.query == [("q", "rex")]


@pytest.mark.parametrize("converter", CONVERTERS)
def test_a_strict_patch_sends_exactly_the_fields_given_at_every_level(
    app: Any, converter: str
) -> None:
    tools = strict_tools(SCHEMA, converter)
    intent = {
        "id": 7,
        "name": "Rex",
        "owner": {"name": "Ann"},
        "friends": [{"name": "Bob", "email": "bob@example.org"}],
        "toy": {"bone": 3},
    }
    arguments = strict_call(tools["patch_pet"], intent)
    assert arguments["tag"] is None and arguments["owner"]["phone"] is None
    assert arguments["toy"] == {"bone": 3, "size": None}
    result = _call(app, "patch_pet", arguments)
    assert result.ok, result.error
    (seen,) = app.seen
    assert seen.method == "PATCH" and seen.path == "/api/pets/7"
    assert json.loads(seen.body) == {k: v for k, v in intent.items() if k != "id"}


def test_a_call_that_leaves_arguments_out_sends_its_explicit_nulls(app: Any) -> None:
    """Not a strict call: null on a nullable property is a value, sent as given; null on one
    that cannot be null is still "not given"."""
    result = _call(app, "patch_pet", {"id": 7, "tag": None, "owner": {"name": "A", "phone": None}})
    assert result.ok, result.error
    assert _call(app, "patch_pet", {"id": 7, "age": None, "name": "Rex"}).ok
    first, second = app.seen
    assert json.loads(first.body) == {"tag": None, "owner": {"name": "A", "phone": None}}
    assert json.loads(second.body) == {"name": "Rex"}


def test_nulls_that_are_values_are_kept() -> None:
    """Null in an array, or given for a required property, is not strict mode's: kept, and
    validation says what is wrong with it."""
    action = SCHEMA.find("patch_pet")
    assert action is not None
    checked = check_arguments(
        action[1], SCHEMA.definitions, {"id": None, "friends": [None, {"name": None}]}
    )
    assert "friends" in checked.arguments and checked.arguments["id"] is None
    assert any("'id'" in p for p in checked.problems)
    assert any("friends.0" in p for p in checked.problems)
    assert any("friends.1.name" in p for p in checked.problems)


def test_the_fixture_api_read_tools_take_a_strict_models_nulls(project: Path, pets: Any) -> None:
    schema = load_schema(project / ".appctl")
    environ = {"APPCTL_BEARER_TOKEN": TOKEN}
    for converter in CONVERTERS:
        tools = strict_tools(schema, converter)
        for tool, intent in (("list_pets", {}), ("get_pet", {"petId": 1})):
            arguments = strict_call(tools[tool], intent)
            result = call(schema, tool, arguments, CallOptions(), environ=environ)
            assert result.ok, (converter, tool, result.error)
    assert pets.seen == [("GET", "/api/pets", []), ("GET", "/api/pets/1", [])] * 2
    # the SDK on plain tools lists limit and tags as required and not nullable: a strict
    # model cannot leave them out, so give a strict model appctl's --strict tools
    with pytest.raises(CannotOmit):
        strict_call(strict_tools(schema, "sdk-on-plain")["list_pets"], {})


def test_reading_nulls_never_raises_on_adversarial_arguments() -> None:
    """Deep nesting, a lone surrogate, a huge number: the nulls are read without raising
    (validation, run next, has its own limits)."""
    found = SCHEMA.find("patch_pet")
    assert found is not None
    rule = null_rule(found[1], SCHEMA.definitions)
    deep: Any = None
    for _ in range(2000):
        deep = {"next": deep, "label": None}
    odd = {"id": 2**70, "name": "\ud800", "tag": None, "owner": {"name": "\ud800", "phone": None}}
    read = without_strict_nulls(rule, {"id": 1, "chain": deep})
    assert read["chain"] == {"next": read["chain"]["next"]}  # label left out
    for _ in range(100):
        read = read.get("chain") or read["next"]
    assert read["label"] is None  # past the depth limit: left as given
    assert without_strict_nulls(rule, odd) == odd  # not a strict call; the nulls can be null
    lists = {"id": 1, "friends": [[[[None]]]] * 3}
    assert without_strict_nulls(rule, lists) == lists
