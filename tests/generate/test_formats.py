import re
from typing import Any

import pytest

from appctl.errors import UsageError
from appctl.generate.formats import FORMATS, render
from appctl.generate.formats.openai import strictify
from appctl.generate.toolspec import build_tool_specs
from tests.helpers import spec, sync_doc

DOC = spec(
    {
        "/nodes/{id}": {
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "format": "int64"},
                }
            ],
            "get": {
                "operationId": "getNode",
                "summary": "Get a node",
                "description": "Returns [the node](https://x.example/doc).\n\nMore text.",
            },
            "put": {
                "operationId": "putNode",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Node"}}
                    },
                },
            },
            "delete": {"operationId": "deleteNode", "deprecated": True},
        },
        "/free": {
            "post": {
                "operationId": "free",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"meta": {"type": "object"}}}
                        }
                    }
                },
            }
        },
    },
    components={
        "schemas": {
            "Node": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "description": "Its name."},
                    "kind": {"type": ["integer", "null"], "enum": [1, 2, None]},
                    "parent": {"$ref": "#/components/schemas/Node"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "shape": {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/Box"}]},
                },
            },
            "Box": {
                "allOf": [
                    {"type": "object", "properties": {"w": {"type": "number"}}},
                    {"properties": {"h": {"type": "number"}}, "required": ["h"]},
                ],
                "additionalProperties": False,
            },
        }
    },
)


@pytest.fixture(scope="module")
def specs():
    return build_tool_specs(sync_doc(DOC).schema)


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_neutral_schemas_are_self_contained(specs) -> None:
    for spec_ in specs:
        defs = spec_.input_schema.get("$defs", {})
        for node in _walk(spec_.input_schema):
            ref = node.get("$ref")
            if ref is not None:
                assert ref.startswith("#/$defs/") and ref[len("#/$defs/") :] in defs
    put = next(s for s in specs if s.name == "put_node")
    assert set(put.input_schema["properties"]) == {
        "id",
        "name",
        "kind",
        "parent",
        "children",
        "shape",
    }
    assert put.input_schema["required"] == ["id", "name"]


def test_descriptions_are_condensed_and_every_argument_described(specs) -> None:
    get = next(s for s in specs if s.name == "get_node")
    assert get.description == "Get a node. Returns the node.\nMore text."
    short = build_tool_specs(sync_doc(DOC).schema, descriptions="short")
    assert next(s for s in short if s.name == "get_node").description == (
        "Get a node. Returns the node."
    )
    delete = next(s for s in specs if s.name == "delete_node")
    assert delete.description.startswith("Deprecated.")
    for spec_ in specs:
        for prop in spec_.input_schema["properties"].values():
            assert prop["description"]


def test_gemini_uses_only_its_subset(specs) -> None:
    declarations = render("gemini", specs).document["functionDeclarations"]
    for declaration in declarations:
        for node in _walk(declaration.get("parameters", {})):
            assert not {
                "$ref",
                "$defs",
                "oneOf",
                "allOf",
                "additionalProperties",
                "const",
                "examples",
            } & set(node)
            assert not isinstance(node.get("type"), list)
            if "enum" in node:
                assert all(isinstance(v, str) for v in node["enum"])
            if "required" in node:
                assert set(node["required"]) <= set(node.get("properties", {}))
    put = next(d for d in declarations if d["name"] == "put_node")
    props = put["parameters"]["properties"]
    assert props["kind"]["nullable"] is True and "One of: 1, 2." in props["kind"]["description"]
    assert props["kind"]["type"] == "integer"
    assert "not expanded" in props["parent"]["properties"]["parent"]["description"]
    box = props["shape"]["anyOf"][1]
    assert set(box["properties"]) == {"w", "h"} and box["required"] == ["h"]


def test_openai_strict_mode(specs) -> None:
    rendered = render("openai", specs, strict=True)
    by_name = {t["function"]["name"]: t["function"] for t in rendered.document}
    assert by_name["get_node"]["strict"] is True
    assert by_name["put_node"]["strict"] is True
    put = by_name["put_node"]["parameters"]
    for node in _walk(put):
        if node.get("type") == "object" or "properties" in node:
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])
        assert "oneOf" not in node and "allOf" not in node
    assert by_name["free"]["strict"] is False
    assert any("free" in w for w in rendered.warnings)
    assert strictify({"type": "object", "properties": {"a": {"type": "string"}}})["properties"][
        "a"
    ]["type"] == ["string", "null"]


def test_openai_responses_always_says_strict(specs) -> None:
    tools = render("openai-responses", specs).document
    assert all(t["type"] == "function" and t["strict"] is False for t in tools)


def test_mcp_annotations_follow_safety(specs) -> None:
    tools = {t["name"]: t for t in render("mcp", specs).document["tools"]}
    assert tools["get_node"]["annotations"] == {"readOnlyHint": True}
    assert tools["put_node"]["annotations"] == {
        "readOnlyHint": False,
        "destructiveHint": False,
        "idempotentHint": True,
    }
    assert tools["delete_node"]["annotations"]["destructiveHint"] is True
    assert tools["free"]["annotations"] == {"readOnlyHint": False, "destructiveHint": False}


def test_anthropic_shape_and_names(specs) -> None:
    tools = render("anthropic", specs).document
    for tool in tools:
        assert set(tool) == {"name", "description", "input_schema"}
        assert re.match(r"^[a-zA-Z0-9_-]{1,64}$", tool["name"])
        for key in tool["input_schema"]["properties"]:
            assert re.match(r"^[a-zA-Z0-9_.-]{1,64}$", key)


def test_tool_count_limits_warn(specs) -> None:
    many = specs * 40
    assert render("gemini", many).warnings and render("openai", many).warnings
    assert not render("gemini", specs).warnings


def test_every_format_renders_and_unknown_is_an_error(specs) -> None:
    for name in FORMATS:
        assert render(name, specs).entries
    with pytest.raises(UsageError, match="Did you mean 'gemini'"):
        render("gemeni", specs)


def test_read_only_and_filters() -> None:
    schema = sync_doc(DOC).schema
    assert [s.name for s in build_tool_specs(schema, read_only=True)] == ["get_node"]
    assert [
        s.name for s in build_tool_specs(schema, include=("*_node",), exclude=("delete*",))
    ] == ["get_node", "put_node"]


def test_oversized_definitions_become_stubs_not_dangling_refs() -> None:
    big = {f"p{i}": {"type": "string", "description": "x" * 5} for i in range(3000)}
    doc = spec(
        {
            "/x": {
                "post": {
                    "operationId": "x",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"big": {"$ref": "#/components/schemas/Big"}},
                                }
                            }
                        }
                    },
                }
            }
        },
        components={"schemas": {"Big": {"type": "object", "properties": big}}},
    )
    (tool,) = build_tool_specs(sync_doc(doc).schema)
    assert "$defs" not in tool.input_schema
    assert "too large" in tool.input_schema["properties"]["big"]["description"]


def test_enum_makes_type_redundant_only_when_every_value_has_it(specs) -> None:
    from appctl.generate.toolspec import enum_implies_type

    assert enum_implies_type(["a", "b"], "string")
    assert enum_implies_type([1, 2, None], ["integer", "null"])
    assert enum_implies_type([1, 2.5], "number")
    assert not enum_implies_type(["1", 2], "string")
    assert not enum_implies_type([], "string")
    put = next(s for s in specs if s.name == "put_node")
    assert put.input_schema["$defs"]["Node"]["properties"]["kind"] == {"enum": [1, 2, None]}
    assert put.input_schema["properties"]["kind"] == {"description": "Kind", "enum": [1, 2, None]}


def test_strict_accepts_no_arguments_and_refuses_what_it_cannot_express() -> None:
    empty = strictify({"type": "object", "properties": {}})
    assert empty == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }
    from appctl.generate.formats.openai import NotStrict

    with pytest.raises(NotStrict, match="prefixItems"):
        strictify(
            {
                "type": "object",
                "properties": {
                    "p": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]}
                },
                "required": ["p"],
            }
        )
    noted = strictify(
        {
            "type": "object",
            "properties": {"s": {"type": "string", "minLength": 2}},
            "required": ["s"],
        }
    )
    assert noted["properties"]["s"] == {"type": "string", "description": "At least 2 characters."}
    already = strictify({"type": "object", "properties": {"k": {"enum": ["a", None]}}})
    assert already["properties"]["k"] == {"enum": ["a", None]}


def test_gemini_nulls_type_unions_and_bounds() -> None:
    from appctl.generate.formats.gemini import _Inliner

    convert = _Inliner({}).convert
    assert convert({"anyOf": [{"type": "string"}, {"type": "null"}]}, ()) == {
        "nullable": True,
        "type": "string",
    }
    assert convert({"type": ["integer", "string"]}, ())["anyOf"] == [
        {"type": "integer"},
        {"type": "string"},
    ]
    bounded = convert({"type": "number", "exclusiveMinimum": 0, "description": "Ratio"}, ())
    assert bounded["minimum"] == 0 and bounded["description"] == "Ratio. Greater than 0."


def test_properties_named_like_keywords_keep_their_definitions() -> None:
    doc = spec(
        {
            "/x": {
                "post": {
                    "operationId": "x",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "custom": {"$ref": "#/components/schemas/Limit"},
                                        "default": {"$ref": "#/components/schemas/Limit"},
                                        "required": {"$ref": "#/components/schemas/Limit"},
                                    },
                                }
                            }
                        }
                    },
                }
            }
        },
        components={
            "schemas": {"Limit": {"type": "object", "properties": {"cpu": {"type": "string"}}}}
        },
    )
    (tool,) = build_tool_specs(sync_doc(doc).schema)
    assert set(tool.input_schema["$defs"]) == {"Limit"}
    for name in ("custom", "default", "required"):
        assert tool.input_schema["properties"][name]["$ref"] == "#/$defs/Limit"


def test_gemini_recursion_through_allof_ends() -> None:
    doc = spec(
        {
            "/f": {
                "post": {
                    "operationId": "f",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "filter": {"$ref": "#/components/schemas/Filter"}
                                    },
                                }
                            }
                        }
                    },
                }
            }
        },
        components={
            "schemas": {
                "Filter": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "not": {"allOf": [{"$ref": "#/components/schemas/Filter"}]},
                    },
                }
            }
        },
    )
    (declaration,) = render("gemini", build_tool_specs(sync_doc(doc).schema)).document[
        "functionDeclarations"
    ]
    inner = declaration["parameters"]["properties"]["filter"]["properties"]["not"]
    assert "not expanded" in inner["description"]


def test_strict_optional_arguments_keep_their_descriptions() -> None:
    doc = spec(
        {
            "/p": {
                "get": {
                    "operationId": "p",
                    "parameters": [
                        {
                            "name": "sort",
                            "in": "query",
                            "description": "Sort order.",
                            "schema": {"type": "string", "enum": ["asc", "desc"]},
                        },
                        {
                            "name": "node",
                            "in": "query",
                            "description": "A node.",
                            "schema": {"$ref": "#/components/schemas/N"},
                        },
                    ],
                }
            }
        },
        components={
            "schemas": {
                "N": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
            }
        },
    )
    (tool,) = render("openai", build_tool_specs(sync_doc(doc).schema), strict=True).document
    props = tool["function"]["parameters"]["properties"]
    assert props["sort"] == {"description": "Sort order", "enum": ["asc", "desc", None]}
    assert props["node"]["description"] == "Node" and props["node"]["type"] == ["object", "null"]
