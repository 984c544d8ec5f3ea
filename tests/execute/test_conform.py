"""``execute.conform`` against the outputSchema ``generate.formats.mcp`` lists: whatever the
check lets through as ``data`` validates against the tool's outputSchema, after the ways a
result changes on its way out (a projection drops members, the budget keeps leading items,
the redactor replaces secrets); what it does not is under ``unchecked``, which validates
too. Random JSON against real documents' schemas never makes the check raise."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from appctl.contract.io import parse_schema
from appctl.contract.models import Action, Contract
from appctl.execute.conform import conform, mismatch
from appctl.execute.result import ToolResult
from appctl.generate.formats.mcp import output_schema
from appctl.generate.outputs import OutputShapes
from tests.conftest import REPO
from tests.helpers import spec, sync_doc

ITEM = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
SCHEMAS: dict[str, Any] = {
    "choice": {
        "oneOf": [
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
            {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}},
        ]
    },
    "pair": {"type": "array", "minItems": 2, "items": {"$ref": "#/components/schemas/Item"}},
    "without_x": {"type": "object", "not": {"required": ["x"]}},
    "token": {
        "type": "object",
        "properties": {"token": {"type": "string", "pattern": "^ghp_", "minLength": 8}},
    },
    "account": {
        "type": "object",
        "required": ["name", "password"],
        "properties": {
            "name": {"type": "string"},
            "password": {"type": "string", "writeOnly": True},
        },
    },
    "either": {"type": "integer"},  # 201 answers a number, 202 an Item
}
# (schema, data that conforms, the same data as it may reach the client)
CASES = [
    ("choice", {"a": "x"}, {}),  # projected: no member left, both branches match
    ("pair", [{"id": 1}, {"id": 2}], [{"id": 1}]),  # cut to the budget
    ("without_x", {"y": 1}, {"y": 1}),
    ("token", {"token": "ghp_abcdefgh"}, {"token": "***"}),  # redacted
    ("account", {"name": "n"}, {}),  # a server never sends a writeOnly password back
    ("either", 5, 5),
    ("either", {"id": 3}, {}),
]


def _contract() -> Contract:
    paths = {
        f"/{name}": {
            "get": {
                "operationId": name,
                "responses": {
                    "201": {"description": "d", "content": {"application/json": {"schema": s}}},
                    **(
                        {"202": {"$ref": "#/components/responses/Item"}} if name == "either" else {}
                    ),
                },
            }
        }
        for name, s in SCHEMAS.items()
    }
    components = {
        "schemas": {"Item": ITEM},
        "responses": {
            "Item": {
                "description": "i",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
            }
        },
    }
    return sync_doc(spec(paths, components=components)).schema


CONTRACT = _contract()
SHAPES = OutputShapes(CONTRACT.definitions)


def _envelope_ok(action: Action, envelope: dict[str, Any]) -> bool:
    shape = output_schema(action, None, shapes=SHAPES)
    assert shape is not None
    Draft202012Validator.check_schema(shape)
    return Draft202012Validator(shape).is_valid(envelope)


def _result(action: Action, data: Any, status: int = 201) -> ToolResult:
    return ToolResult(ok=True, tool=action.name, status=status, data=data)


@pytest.mark.parametrize(("name", "data", "shown"), CASES)
def test_conforming_data_still_fits_the_output_schema_as_the_client_gets_it(
    name: str, data: Any, shown: Any
) -> None:
    action = CONTRACT.action(name)
    assert action is not None
    status = 202 if isinstance(data, dict) and name == "either" else 201
    checked = conform(_result(action, data, status), action, CONTRACT.definitions)
    assert checked.data == data and checked.unchecked is None, checked.notes
    envelope = {"ok": True, "tool": name, "status": status, "data": shown}
    assert _envelope_ok(action, envelope)


@pytest.mark.parametrize(
    ("name", "data", "where"),
    [
        ("choice", {"a": "x", "b": 1}, ""),  # both branches: oneOf says no
        ("pair", [{"id": 1}], ""),
        ("pair", [{"id": 1}, {"id": "2"}], "/1/id"),
        ("without_x", {"x": 1}, ""),
        ("account", {"password": "p"}, ""),
        ("either", "five", None),  # text is left alone: the outputSchema allows a string
    ],
)
def test_off_spec_data_is_moved_whole_to_unchecked(name: str, data: Any, where: str | None) -> None:
    action = CONTRACT.action(name)
    assert action is not None
    checked = conform(_result(action, data), action, CONTRACT.definitions)
    if where is None:
        assert checked.data == data and checked.unchecked is None
        return
    assert checked.data is None and checked.unchecked == data
    [note] = checked.notes
    assert f"at {where or 'the top level'}," in note and "status 201" in note
    envelope = checked.model_dump(mode="json", exclude_none=True)
    assert _envelope_ok(action, envelope)


def test_an_undocumented_status_is_checked_against_every_documented_body() -> None:
    action = CONTRACT.action("either")
    assert action is not None
    assert mismatch(action, CONTRACT.definitions, 200, {"id": 1}) is None  # 202's Item
    assert mismatch(action, CONTRACT.definitions, 200, 4) is None  # 201's number
    assert mismatch(action, CONTRACT.definitions, 200, [1]) is not None


def test_failures_and_non_success_answers_are_left_alone() -> None:
    action = CONTRACT.action("pair")
    assert action is not None
    failed = ToolResult(ok=False, tool="pair", status=500, data={"oops": 1})
    assert conform(failed, action, CONTRACT.definitions) is failed
    moved = _result(action, {"oops": 1}, status=304)
    assert conform(moved, action, CONTRACT.definitions) is moved


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["id", "name", "a", "b", "x", "tags", "status"]), inner)
    ),
    max_leaves=20,
)
REAL = [
    parse_schema(path.read_bytes(), origin=str(path))
    for path in sorted((REPO / "fixtures" / "golden").glob("*/schema.json"))
    if b'"responses"' in path.read_bytes()
] + [CONTRACT]
ACTIONS = [(c, a) for c in REAL for a in c.actions() if a.responses]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ACTIONS), JSON, st.sampled_from([200, 201, 204, 299]))
def test_random_json_never_raises_and_the_envelope_always_validates(
    pair: tuple[Contract, Action], data: Any, status: int
) -> None:
    contract, action = pair
    result = ToolResult(ok=True, tool=action.name, status=status, data=copy.deepcopy(data))
    checked = conform(result, action, contract.definitions)
    assert (checked.data, checked.unchecked) in ((data, None), (None, data))
    shape = output_schema(action, None, shapes=OutputShapes(contract.definitions))
    if shape is not None:
        envelope = checked.model_dump(mode="json", exclude_none=True)
        assert Draft202012Validator(shape).is_valid(envelope), (shape, envelope)


def test_the_real_contracts_hold_actions_with_response_schemas() -> None:
    assert len([p for p in (REPO / "fixtures" / "golden").glob("*/schema.json")]) > 3
    assert len(ACTIONS) > 20 and Path(REPO).is_dir()
