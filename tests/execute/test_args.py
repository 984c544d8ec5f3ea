"""Argument checking: the compiled fast path and the reference validator agree."""

from __future__ import annotations

from typing import Any

import pytest

from appctl.contract.models import Contract
from appctl.execute.args import check_arguments
from tests.helpers import spec, sync_doc


def _contract(parameters: list[dict[str, Any]], body: dict[str, Any] | None = None) -> Contract:
    operation: dict[str, Any] = {"operationId": "op", "parameters": parameters, "responses": {}}
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return sync_doc(spec({"/things": {"post": operation}})).schema


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "required": required}


NODE = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {}}},
    "required": ["name"],
}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"n": 3, "s": "abc"}, None),
        ({"n": 0, "s": "abc"}, "minimum"),
        ({"n": "3", "s": "abc"}, "type"),
        ({"n": 3, "s": "ab"}, "minLength"),
        ({"n": 3, "s": "ABC"}, "pattern"),
        ({"n": 3, "s": "abc", "e": "blue"}, "enum"),
        ({"s": "abc"}, "'n' is a required property"),
        ({"n": 3, "s": "abc", "nn": 1}, "unknown argument 'nn'. Did you mean 'n'?"),
    ],
)
def test_each_problem_is_named(args: dict[str, Any], problem: str | None) -> None:
    schema = _contract(
        [
            _query("n", {"type": "integer", "minimum": 1}, required=True),
            _query("s", {"type": "string", "minLength": 3, "pattern": "^[a-z]+$"}),
            _query("e", {"type": "string", "enum": ["red", "green"]}),
        ]
    )
    action = schema.action("op")
    assert action is not None
    checked = check_arguments(action, schema.definitions, args)
    if problem is None:
        assert checked.problems == ()
        assert checked.arguments == args
    else:
        assert len(checked.problems) == 1
        assert problem in checked.problems[0]


def test_a_pattern_rust_cannot_compile_is_still_enforced() -> None:
    # Python's ``\\Z`` and ``{,3}`` are not ECMA-262; the Rust validator refuses the schema
    schema = _contract([_query("s", {"type": "string", "pattern": "^a{,3}\\Z"}, required=True)])
    action = schema.action("op")
    assert action is not None
    assert check_arguments(action, schema.definitions, {"s": "aa"}).problems == ()
    problems = check_arguments(action, schema.definitions, {"s": "b"}).problems
    assert problems and "pattern" in problems[0]


def test_recursive_definitions_are_checked_at_depth() -> None:
    node = {
        **NODE,
        "properties": {
            **NODE["properties"],
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    }
    document = spec(
        {
            "/things": {
                "post": {
                    "operationId": "op",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                        },
                    },
                    "responses": {},
                }
            }
        }
    )
    document["components"] = {"schemas": {"Node": node}}
    schema = sync_doc(document).schema
    action = schema.action("op")
    assert action is not None
    good = {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}
    assert check_arguments(action, schema.definitions, good).problems == ()
    bad = {"name": "a", "children": [{"name": "b", "children": [{"nam": "c"}]}]}
    problems = check_arguments(action, schema.definitions, bad).problems
    assert problems and "'name' is a required property" in problems[0]
