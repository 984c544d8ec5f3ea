"""The JSON layout of written files: a line per value that fits, deep values on one line,
the same data back when read, and the usual operation pointer left out of schema.json."""

from __future__ import annotations

from typing import Any

import orjson

from appctl.contract import jsonfmt
from appctl.contract.io import dump_schema, parse_schema
from appctl.contract.models import operation_pointer
from tests.helpers import spec, sync_doc


def test_short_values_share_a_line_and_long_ones_are_indented() -> None:
    data: dict[str, Any] = {
        "short": {"type": "string"},
        "long": {f"key{i}": "x" * 10 for i in range(10)},
        "empty": [],
    }
    text = jsonfmt.dumps(data).decode()
    assert text.startswith('{\n  "short": {"type":"string"},\n  "long": {\n    "key0": "')
    assert '\n  "empty": []\n}\n' in text
    assert orjson.loads(text) == data


def test_values_deeper_than_depth_stay_on_one_line_whatever_their_length() -> None:
    deep: Any = {"leaf": ["y" * 30] * 10}
    for _ in range(jsonfmt.DEPTH):
        deep = {"k": deep, "other": "z" * 100}
    text = jsonfmt.dumps(deep).decode()
    assert '"leaf":["' + "y" * 30 in text  # compact: past the depth nothing is indented
    assert orjson.loads(text) == deep


def test_each_writes_the_same_as_a_list() -> None:
    items = [{"n": i, "text": "w" * 60} for i in range(5)]
    made = jsonfmt.dumps({"a": jsonfmt.Each(range(5), lambda i: items[i]), "b": 1})
    assert made == jsonfmt.dumps({"a": items, "b": 1})


def test_the_usual_pointer_is_left_out_and_restored_an_unusual_one_is_kept() -> None:
    schema = sync_doc(spec({"/a~b/{id}": {"get": {"operationId": "getA"}}})).schema
    action = schema.actions()[0]
    assert action.pointer == operation_pointer("/a~b/{id}", "GET") == "/paths/~1a~0b~1{id}/get"
    written = dump_schema(schema)
    assert b'"pointer"' not in written
    assert parse_schema(written, origin="x").actions()[0].pointer == action.pointer
    moved = schema.model_copy(
        update={
            "resources": [
                r.model_copy(
                    update={"actions": [a.model_copy(update={"pointer": "/x"}) for a in r.actions]}
                )
                for r in schema.resources
            ]
        }
    )
    again = parse_schema(dump_schema(moved), origin="x")
    assert again.actions()[0].pointer == "/x"
