"""A generated large spec (many operations repeating big schemas, inline and through $ref):
large schemas are shared as named definitions, referenced correctly, called against, and
every tool format still gets self-contained schemas whose refs resolve."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from appctl.contract.io import dump_schema, parse_schema
from appctl.execute.args import check_arguments
from appctl.generate.formats import FORMATS, render
from appctl.generate.toolspec import build_tool_specs
from appctl.sync.openapi.share import SHARE_MIN
from tests.corpus import metaschema_validator
from tests.helpers import spec, sync_doc

OPERATIONS = 120
ORDER = [f"field{i:02}{suffix}" for i in range(30) for suffix in ("", " desc")]
STAMP = {  # Graph's own, in 4,000 operations
    "type": "string",
    "format": "date-time",
    "pattern": "^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]"
    ":[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$",
}
META = metaschema_validator()
META_FORMATS = ("jsonschema", "mcp", "anthropic")  # 2020-12 input schemas


def _orderby() -> dict[str, Any]:  # written inline in every operation, as Graph does
    return {
        "name": "$orderby",
        "in": "query",
        "explode": False,
        "schema": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "enum": ORDER},
        },
    }


def large_spec(order: list[int] | None = None) -> dict[str, Any]:
    widget = {
        "type": "object",
        "properties": {f"p{i}": {"type": "string", "description": f"Part {i}."} for i in range(20)}
        | {
            "made": dict(STAMP),
            "changed": dict(STAMP),
            "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Part"}},
        },
    }
    part = {"type": "object", "properties": {"code": {"type": "string", "enum": ORDER}}}
    paths: dict[str, Any] = {}
    for i in order if order is not None else range(OPERATIONS):
        paths[f"/things{i}"] = {
            "get": {"operationId": f"listThings{i}", "parameters": [_orderby()]},
            "post": {
                "operationId": f"createThing{i}",
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Widget"}}
                    }
                },
            },
        }
    return spec(paths, components={"schemas": {"Widget": widget, "Part": part}})


def _digest(schema: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(schema)).hexdigest()[:8]


def test_large_inline_schemas_become_one_named_definition_each() -> None:
    schema = sync_doc(large_spec()).schema
    orderby = _orderby()["schema"]
    name = f"orderby.{_digest(orderby)}"
    assert schema.definitions[name] == orderby
    stamp = f"changed.{_digest(STAMP)}"  # used as "changed" and "made": the first name wins
    assert schema.definitions[stamp] == STAMP
    for i in range(OPERATIONS):
        listed = schema.action(f"list_things{i}")
        assert listed is not None
        # the keywords front ends read stay beside the reference
        assert listed.parameters[0].schema_ == {"type": "array", "$ref": f"#/definitions/{name}"}
        created = schema.action(f"create_thing{i}")
        assert created is not None
        made = created.field("made")
        assert made is not None
        assert made.schema_ == {
            "type": "string",
            "format": "date-time",
            "$ref": f"#/definitions/{stamp}",
        }
        assert created.field("p1").schema_ == {"type": "string"}  # type: ignore[union-attr]
    written = dump_schema(schema)
    assert written.count(b'"field29 desc"') == 2  # the shared $orderby and Part's enum: once each
    assert len(orjson.dumps(orderby)) >= SHARE_MIN > len(orjson.dumps({"type": "string"}))
    assert dump_schema(parse_schema(written, origin="x")) == written


def test_shared_names_do_not_depend_on_operation_order() -> None:
    forward = sync_doc(large_spec()).schema
    backward = sync_doc(large_spec(list(reversed(range(OPERATIONS))))).schema
    assert forward.definitions == backward.definitions
    assert (
        dump_schema(forward).split(b'"definitions"')[1]
        == dump_schema(backward).split(b'"definitions"')[1]
    )


def test_calls_still_validate_against_the_shared_definitions() -> None:
    schema = sync_doc(large_spec()).schema
    listed = schema.action("list_things7")
    created = schema.action("create_thing7")
    assert listed is not None and created is not None
    ok = check_arguments(listed, schema.definitions, {"orderby": ["field03 desc"]})
    assert not ok.problems
    bad = check_arguments(listed, schema.definitions, {"orderby": ["nope"]})
    assert bad.problems and "nope" in str(bad.problems)
    wrong_type = check_arguments(listed, schema.definitions, {"orderby": "field03"})
    assert wrong_type.problems
    assert not check_arguments(
        created, schema.definitions, {"made": "2024-01-02T03:04:05Z"}
    ).problems
    stamp = check_arguments(created, schema.definitions, {"made": "yesterday"})
    assert stamp.problems and "made" in str(stamp.problems)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for k, v in node.items() if k not in ("enum", "const") for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _input_schemas(fmt: str, document: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("input_schema", "inputSchema", "parameters"):
                if isinstance(node.get(key), dict) and node[key].get("type") == "object":
                    found.append(node[key])
                    return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_gets_self_contained_valid_tools(fmt: str) -> None:
    schema = sync_doc(large_spec()).schema
    schemas = _input_schemas(fmt, render(fmt, build_tool_specs(schema)).document)
    assert len(schemas) == 2 * OPERATIONS
    for tool in schemas:
        for ref in _refs(tool):  # every ref points into the tool's own $defs
            assert ref.startswith("#/$defs/"), ref
            assert ref[len("#/$defs/") :] in tool.get("$defs", {}), ref
        if fmt in META_FORMATS:
            assert META.is_valid(tool), tool
        text = orjson.dumps(tool)
        assert b"#/definitions/" not in text
        assert b"too large to include" not in text  # nothing cut to a stub
    listed = next(s for s in schemas if "orderby" in s["properties"])
    assert b'"field29 desc"' in orjson.dumps(listed)  # the shared enum reaches the tool


def test_a_schema_shared_twice_in_one_tool_is_a_plain_reference_there() -> None:
    """Two arguments of one tool share the date-time schema: the tool keeps one definition
    and plain references (no type beside them), so OpenAI's strict mode can make the
    optional ones accept null."""
    schema = sync_doc(large_spec()).schema
    specs = build_tool_specs(schema, include=["create_thing0"])
    neutral = _input_schemas("jsonschema", render("jsonschema", specs).document)[0]
    name = f"changed.{_digest(STAMP)}"
    assert neutral["properties"]["made"] == {"description": "Made", "$ref": f"#/$defs/{name}"}
    assert neutral["$defs"][name]["type"] == "string"
    strict = _input_schemas("openai", render("openai", specs, strict=True).document)[0]
    assert {"type": "null"} in strict["properties"]["made"]["anyOf"]


def test_an_array_of_files_stays_inline_so_each_item_goes_as_a_file_part() -> None:
    """The multipart encoder sends each item of an array of binary items as its own file part,
    reading ``items`` from the argument's own schema: such a schema is never moved out, however
    large and often repeated."""
    from appctl.execute.args import _binary_fields

    files = {
        "type": "array",
        "description": "The attachments, each one file as uploaded by the person asking.",
        "items": {
            "type": "string",
            "format": "binary",
            "description": "One attachment: a file as the person asking uploaded it, any type.",
        },
    }
    assert len(orjson.dumps({**files, "description": None})) >= SHARE_MIN  # without its own
    form = {"multipart/form-data": {"schema": {"properties": {"files": files}}}}
    doc = spec(
        {
            f"/upload{i}": {"post": {"operationId": f"upload{i}", "requestBody": {"content": form}}}
            for i in range(3)
        }
    )
    schema = sync_doc(doc).schema
    assert schema.definitions == {}
    for i in range(3):
        action = schema.action(f"upload{i}")
        assert action is not None
        assert action.field("files").schema_["items"]["format"] == "binary"  # type: ignore[union-attr]
        assert _binary_fields(action) == (("files[]", True),)
