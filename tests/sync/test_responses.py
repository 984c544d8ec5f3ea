"""Each operation's documented success responses are recorded: status, body schema per media
type (refs shared through the contract's definitions), and the response headers."""

from __future__ import annotations

from typing import Any

from appctl.contract.io import dump_schema, parse_schema
from appctl.contract.models import Contract
from appctl.contract.responses import json_schemas
from appctl.errors import REPAIR
from tests.helpers import spec, sync_doc

PET = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
BIG = {
    "title": "Big Thing",
    "type": "object",
    "properties": {f"field_{i}": {"type": "string", "description": "x" * 20} for i in range(8)},
}


def _json(schema: Any, **more: Any) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema}}, **more}


DOC = spec(
    {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "responses": {
                    "200": _json(
                        {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                        headers={
                            "Link": {"$ref": "#/components/headers/Link"},
                            "X-Total": {"description": "How many", "schema": {"type": "int"}},
                            "Content-Type": {"schema": {"type": "string"}},
                        },
                    ),
                    "404": _json({"type": "object"}),
                },
            },
            "post": {
                "operationId": "createPet",
                "responses": {
                    "201": {"$ref": "#/components/responses/Made"},
                    "2XX": {"description": "other", "content": {"text/plain": {}}},
                    "default": _json({"type": "object"}),
                },
            },
        },
        "/pets/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True}],
            "get": {"operationId": "getPet", "responses": {"default": _json(BIG)}},
            "delete": {"operationId": "deletePet", "responses": {"204": {"description": "gone"}}},
            "put": {"operationId": "putPet", "responses": {"200": _json(BIG)}},
        },
    },
    components={
        "schemas": {"Pet": PET},
        "headers": {"Link": {"description": "Next page", "schema": {"type": "string"}}},
        "responses": {"Made": _json({"$ref": "#/components/schemas/Pet"})},
    },
)


def _actions(schema: Contract) -> dict[str, Any]:
    return {a.name: a for a in schema.actions()}


def test_success_statuses_media_types_and_headers_are_recorded() -> None:
    result = sync_doc(DOC)
    actions = _actions(result.schema)
    [listed] = actions["list_pets"].responses
    assert listed.status == "200"  # the 404 is not a success
    assert listed.content == {
        "application/json": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}
    }
    assert list(listed.headers) == ["Link", "X-Total"]  # Content-Type is ignored, as specified
    assert listed.headers["Link"].description == "Next page"
    assert listed.headers["Link"].schema_ == {"type": "string"}
    assert listed.headers["X-Total"].schema_ == {"type": "integer"}  # repaired, with a warning
    assert any(
        d.kind == REPAIR and d.pointer.endswith("/headers/X-Total/schema/type")
        for d in result.diagnostics
    )
    created = actions["create_pet"].responses
    assert [(r.status, list(r.content)) for r in created] == [
        ("201", ["application/json"]),
        ("2XX", ["text/plain"]),
    ]  # default is left out: success statuses are declared
    assert created[1].content == {"text/plain": {}}
    assert result.schema.definitions["Pet"] == PET  # shared, exactly as arguments share
    assert actions["delete_pet"].responses[0].status == "204"
    assert actions["delete_pet"].responses[0].content == {}


def test_default_only_when_no_success_status_and_large_inline_bodies_shared() -> None:
    schema = sync_doc(DOC).schema
    actions = _actions(schema)
    [fallback] = actions["get_pet"].responses
    assert fallback.status == "default" and fallback.matches(200) and fallback.matches(503)
    ref = fallback.content["application/json"]
    assert ref == actions["put_pet"].responses[0].content["application/json"]
    assert set(ref) == {"$ref"}  # written once in definitions, named after its title
    name = ref["$ref"].rsplit("/", 1)[1]
    assert name.startswith("Big_Thing.") and schema.definitions[name] == BIG


def test_json_schemas_by_status() -> None:
    actions = _actions(sync_doc(DOC).schema)
    created = actions["create_pet"].responses
    assert json_schemas(created, 201) == [{"$ref": "#/definitions/Pet"}]
    assert json_schemas(created, 202) == []  # 2XX documents only text
    assert json_schemas(actions["get_pet"].responses, 299) != []  # default covers any


def test_the_file_is_byte_identical_on_resync_and_round_trips() -> None:
    first = dump_schema(sync_doc(DOC).schema)
    assert first == dump_schema(sync_doc(DOC).schema)
    assert dump_schema(parse_schema(first, origin="schema.json")) == first
    # an action without documented responses writes no key at all
    bare = spec({"/x": {"get": {"operationId": "x", "responses": {"404": _json({})}}}})
    assert b'"responses"' not in dump_schema(sync_doc(bare).schema)


def test_swagger2_responses_schema_produces_and_headers() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "produces": ["application/json"],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                            "headers": {"X-Next": {"type": "string", "description": "Cursor"}},
                        }
                    },
                },
            },
            "/file": {
                "get": {
                    "operationId": "getFile",
                    "produces": ["application/octet-stream"],
                    "responses": {"200": {"description": "f", "schema": {"type": "file"}}},
                }
            },
        },
        "definitions": {"Pet": PET},
    }
    actions = _actions(sync_doc(doc).schema)
    [listed] = actions["list_pets"].responses
    assert listed.content == {
        "application/json": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}
    }
    assert listed.headers["X-Next"].description == "Cursor"
    assert listed.headers["X-Next"].schema_ == {"type": "string"}
    file = actions["get_file"].responses[0].content
    assert file == {"application/octet-stream": {"type": "string", "format": "binary"}}


def test_a_broken_response_is_a_warning_and_the_operation_stays() -> None:
    doc = spec(
        {
            "/a": {
                "get": {
                    "operationId": "a",
                    "responses": {
                        "200": {"$ref": "#/components/responses/Missing"},
                        "201": _json({"type": "object", "properties": {"n": {"minimum": "x"}}}),
                    },
                }
            }
        }
    )
    result = sync_doc(doc)
    [action] = result.schema.actions()
    assert [r.status for r in action.responses] == ["201"]
    pointers = [d.pointer for d in result.diagnostics]
    assert "/paths/~1a/get/responses/200" in pointers
    assert any(p.startswith("/paths/~1a/get/responses/201/content") for p in pointers)
