"""Sync repairs or refuses, never passes an invalid schema through.

One small case per real-world mistake: the schema inline beside the warning it must give and
the valid JSON Schema 2020-12 it must become (checked against the metaschema with Python's
``jsonschema``, independently of the Rust check sync uses).
"""

from __future__ import annotations

from typing import Any

import pytest

from appctl.errors import REPAIR
from appctl.sync.openapi.parse import SyncResult
from tests.corpus import metaschema_validator
from tests.helpers import spec, sync_doc

OP = "/paths/~1things/post/requestBody/content/application~1json/schema"


def _sync_body(schema: Any) -> SyncResult:
    body = {"required": True, "content": {"application/json": {"schema": schema}}}
    return sync_doc(spec({"/things": {"post": {"operationId": "make", "requestBody": body}}}))


def assert_valid(result: SyncResult) -> None:
    """Every schema the contract holds passes the 2020-12 metaschema."""
    meta = metaschema_validator()
    for action in result.schema.actions():
        for f in action.parameters:
            meta.validate(f.schema_)
    for definition in result.schema.definitions.values():
        meta.validate(definition)


def _body_value(result: SyncResult) -> Any:
    action = result.schema.action("make")
    assert action is not None
    return {f.name: f.schema_ for f in action.parameters}


def _warnings(result: SyncResult) -> list[tuple[str, str]]:
    return [(d.pointer, d.message) for d in result.diagnostics if d.kind == REPAIR]


# (source schema of one property "x", the converted schema, the pointer under x, message part)
CASES: list[tuple[str, Any, Any, str, str]] = [
    ("int", {"type": "int"}, {"type": "integer"}, "/type", "type 'int'"),
    ("integer32", {"type": "integer32"}, {"type": "integer"}, "/type", "'integer32'"),
    ("long", {"type": "long"}, {"type": "integer"}, "/type", "'long'"),
    ("float", {"type": "float"}, {"type": "number"}, "/type", "'float'"),
    ("double", {"type": "double"}, {"type": "number"}, "/type", "'double'"),
    ("bool", {"type": "bool"}, {"type": "boolean"}, "/type", "'bool'"),
    ("boolean?", {"type": "boolean?"}, {"type": ["boolean", "null"]}, "/type", "'boolean?'"),
    ("dict", {"type": "dict"}, {"type": "object"}, "/type", "'dict'"),
    ("list", {"type": "list"}, {"type": "array"}, "/type", "'list'"),
    ("str", {"type": "str"}, {"type": "string"}, "/type", "'str'"),
    ("string?", {"type": "string?"}, {"type": ["string", "null"]}, "/type", "'string?'"),
    ("String", {"type": "String"}, {"type": "string"}, "/type", "'String'"),
    ("int[]", {"type": "int[]"}, {"type": "array", "items": {"type": "integer"}}, "/type", ""),
    ("any", {"type": "any", "title": "A"}, {"title": "A"}, "/type", "no type (any value)"),
    ("int-list", {"type": ["int", "null"]}, {"type": ["integer", "null"]}, "/type", "'int'"),
    (
        "file outside form data",
        {"type": "file"},
        {"type": "string", "format": "binary"},
        "/type",
        "type 'file'",
    ),
    ("string minimum", {"type": "number", "minimum": "1.5"}, None, "/minimum", "minimum '1.5'"),
    ("string maxLength", {"type": "string", "maxLength": "10"}, None, "/maxLength", "'10'"),
    ("negative minItems", {"type": "array", "minItems": -1}, None, "/minItems", "minItems -1"),
    ("zero multipleOf", {"type": "number", "multipleOf": 0}, None, "/multipleOf", "multipleOf"),
    ("string uniqueItems", {"type": "array", "uniqueItems": "true"}, None, "/uniqueItems", ""),
    ("bad pattern", {"type": "string", "pattern": "(["}, None, "/pattern", "pattern '(['"),
    ("enum not a list", {"type": "string", "enum": "a"}, None, "/enum", "enum 'a'"),
    ("numeric title", {"title": 7}, None, "/title", "title 7"),
    ("empty items", {"type": "array", "items": []}, {"type": "array"}, "/items", "empty list"),
    ("empty anyOf", {"type": "string", "anyOf": []}, {"type": "string"}, "/anyOf", "empty"),
]
EXPECTED_AFTER: dict[str, Any] = {
    "string minimum": {"type": "number", "minimum": 1.5},
    "string maxLength": {"type": "string", "maxLength": 10},
    "negative minItems": {"type": "array"},
    "zero multipleOf": {"type": "number"},
    "string uniqueItems": {"type": "array", "uniqueItems": True},
    "bad pattern": {"type": "string"},
    "enum not a list": {"type": "string", "enum": ["a"]},
    "numeric title": {"title": "7"},
}


@pytest.mark.parametrize(
    ("case", "given", "expected", "under", "said"), CASES, ids=[c[0] for c in CASES]
)
def test_known_mistake_is_repaired_with_a_warning_naming_its_pointer(
    case: str, given: Any, expected: Any, under: str, said: str
) -> None:
    result = _sync_body({"type": "object", "properties": {"x": given}})
    assert _body_value(result)["x"] == (expected or EXPECTED_AFTER[case])
    warnings = _warnings(result)
    assert len(warnings) == 1, warnings
    pointer, message = warnings[0]
    assert pointer == f"{OP}/properties/x{under}"
    assert said in message
    assert_valid(result)


def test_a_ref_keeps_its_siblings_repaired() -> None:
    doc = spec(
        {
            "/things": {
                "post": {
                    "operationId": "make",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "x": {
                                            "$ref": "#/components/schemas/X",
                                            "readOnly": "false",
                                            "title": 3,
                                        }
                                    },
                                }
                            }
                        }
                    },
                }
            }
        },
        components={"schemas": {"X": {"type": "array", "items": {"type": "string"}}}},
    )
    result = sync_doc(doc)
    assert _body_value(result)["x"] == {"$ref": "#/definitions/X", "readOnly": False, "title": "3"}
    prop = f"{OP}/properties/x"
    assert sorted(p for p, _ in _warnings(result)) == [f"{prop}/readOnly", f"{prop}/title"]
    assert_valid(result)


def test_required_true_on_a_property_moves_to_the_objects_required_list() -> None:
    result = _sync_body(
        {"type": "object", "properties": {"name": {"type": "string", "required": True}}}
    )
    action = result.schema.action("make")
    assert action is not None
    assert [(f.name, f.required) for f in action.parameters] == [("name", True)]
    assert action.parameters[0].schema_ == {"type": "string"}
    assert [p for p, _ in _warnings(result)] == [f"{OP}/properties/name/required"]
    assert "required: true" in _warnings(result)[0][1]
    assert_valid(result)


def test_what_cannot_be_repaired_is_loosened_with_its_description() -> None:
    result = _sync_body(
        {
            "type": "object",
            "properties": {
                "odd": {"type": "money", "description": "An amount."},
                "fine": {"type": "string"},
            },
        }
    )
    fields = _body_value(result)
    assert fields["odd"] == {}  # the description moved to the field, as for any property
    assert fields["fine"] == {"type": "string"}
    action = result.schema.action("make")
    assert action is not None
    assert next(f for f in action.parameters if f.name == "odd").description == "An amount."
    [(pointer, message)] = _warnings(result)
    assert pointer == f"{OP}/properties/odd"
    assert "loosened to accept any value" in message and "money" in message
    assert_valid(result)


def test_an_invalid_definition_is_loosened_where_it_is_invalid() -> None:
    doc = spec(
        {
            "/things": {
                "post": {
                    "operationId": "make",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/T"},
                                }
                            }
                        }
                    },
                }
            }
        },
        components={
            "schemas": {
                "T": {
                    "type": "object",
                    "properties": {
                        "tags": {"type": "array", "items": {"type": ["string", 5]}},
                        "n": {"type": "int64"},
                    },
                }
            }
        },
    )
    result = sync_doc(doc)
    assert result.schema.definitions["T"]["properties"] == {
        "tags": {"type": "array", "items": {}},
        "n": {"type": "integer"},
    }
    pointers = sorted(p for p, _ in _warnings(result))
    assert pointers == [
        "/components/schemas/T/properties/n/type",
        "/components/schemas/T/properties/tags/items",
    ]
    assert_valid(result)


def test_swagger2_parameter_type_names_are_repaired_at_their_own_pointer() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/delay/{delay}": {
                "get": {
                    "operationId": "delay",
                    "parameters": [{"name": "delay", "in": "path", "type": "int"}],
                }
            },
            "/upload": {
                "post": {
                    "operationId": "upload",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "f", "in": "formData", "type": "file"},
                        {"name": "code", "in": "formData", "type": "int"},
                    ],
                }
            },
        },
    }
    result = sync_doc(doc)
    delay = result.schema.action("delay")
    upload = result.schema.action("upload")
    assert delay is not None and upload is not None
    assert delay.parameters[0].schema_ == {"type": "integer"}
    # type: file in Swagger 2.0 form data is legal: converted without a warning
    binary = {"type": "string", "format": "binary", "contentEncoding": "base64"}
    assert upload.parameters[0].schema_ == binary  # given as base64 text
    assert upload.parameters[1].schema_ == {"type": "integer"}
    said = "type 'int' is not a JSON Schema type; read as type: 'integer'"
    assert _warnings(result) == [
        ("/paths/~1delay~1{delay}/get/parameters/0/type", said),
        ("/paths/~1upload/post/parameters/1/type", said),  # the formData parameter
    ]
    assert_valid(result)


def test_undeclared_path_variables_become_required_string_arguments() -> None:
    doc = spec(
        {
            "/etag/{etag}": {"get": {"operationId": "etag"}},
            "/users/{id}/keys/{key-id}": {
                "get": {
                    "operationId": "key",
                    "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}],
                }
            },
        }
    )
    result = sync_doc(doc)
    etag, key = result.schema.action("etag"), result.schema.action("key")
    assert etag is not None and key is not None
    [f] = etag.parameters
    assert (f.name, f.location.value, f.required, f.schema_) == (
        "etag",
        "path",
        True,
        {"type": "string"},
    )
    assert [(f.name, f.wire, f.required) for f in key.parameters] == [
        ("id", "id", True),
        ("key-id", "key-id", True),
    ]
    assert _warnings(result) == [
        (
            "/paths/~1etag~1{etag}/get",
            "path variable {etag} has no path parameter; added as a required string argument",
        ),
        (
            "/paths/~1users~1{id}~1keys~1{key-id}/get",
            "path variable {key-id} has no path parameter; added as a required string argument",
        ),
    ]


def test_a_valid_document_gets_no_repair_warning() -> None:
    result = _sync_body(
        {
            "type": "object",
            "required": ["a"],
            "properties": {
                "a": {"type": "integer", "minimum": 1, "maxLength": 3, "nullable": True},
                "b": {"type": "string", "pattern": "^[a-z]+$", "format": "date"},
                # ECMA-262 (and Rust's engine) reads \p{L}; Python's re does not: kept
                "tag": {"type": "string", "pattern": "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"},
                "c": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
            },
        }
    )
    assert _warnings(result) == []
    assert _body_value(result)["tag"]["pattern"] == "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"
    assert_valid(result)
