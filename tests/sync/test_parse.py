from typing import Any

import pytest

from appctl.contract.models import HttpTransport, Location, Safety, Verb
from appctl.sync.openapi.parse import count_operations
from tests.helpers import spec, sync_doc


def _action(result: Any, name: str) -> Any:
    action = result.schema.action(name)
    assert action is not None, [a.name for a in result.schema.actions()]
    return action


def test_every_method_is_one_action_with_verb_and_safety() -> None:
    doc = spec(
        {
            "/pets": {
                m: {} for m in ("get", "post", "put", "patch", "delete", "head", "options", "trace")
            },
            "/pets/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": True}]}},
        }
    )
    result = sync_doc(doc)
    assert len(result.schema.actions()) == count_operations(doc) == 9
    by_method = {
        a.transport.method: a for a in result.schema.actions() if a.transport.path == "/pets"
    }
    assert by_method["GET"].verb == Verb.LIST and by_method["GET"].safety == Safety.READ_ONLY
    assert by_method["HEAD"].safety == Safety.READ_ONLY
    assert by_method["OPTIONS"].safety == Safety.READ_ONLY
    assert by_method["POST"].verb == Verb.CREATE and by_method["POST"].safety == Safety.MUTATING
    assert by_method["PATCH"].verb == Verb.UPDATE
    assert by_method["DELETE"].safety == Safety.DESTRUCTIVE
    assert by_method["PUT"].idempotent and not by_method["POST"].idempotent
    assert _action(result, "get_pets_id").verb == Verb.GET


def test_path_level_parameters_and_operation_override_and_ref_params() -> None:
    doc = spec(
        {
            "/items/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "fields", "in": "query", "description": "path-level"},
                ],
                "get": {
                    "operationId": "getItem",
                    "parameters": [
                        {
                            "name": "fields",
                            "in": "query",
                            "description": "operation-level",
                            "schema": {"type": "array", "items": {"type": "string"}},
                            "style": "form",
                            "explode": False,
                        },
                        {"$ref": "#/components/parameters/Trace"},
                    ],
                },
            }
        },
        components={
            "parameters": {
                "Trace": {
                    "name": "X-Trace",
                    "in": "header",
                    "schema": {"type": "string", "format": "uuid"},
                }
            }
        },
    )
    action = _action(sync_doc(doc), "get_item")
    fields = {f.name: f for f in action.parameters}
    assert list(fields) == ["id", "fields", "X-Trace"]
    assert fields["fields"].description == "operation-level"
    assert fields["fields"].explode is False and fields["fields"].style == "form"
    assert fields["X-Trace"].location == Location.HEADER
    assert fields["X-Trace"].schema_ == {"type": "string", "format": "uuid"}
    assert fields["id"].required


def test_collisions_are_renamed_deterministically_keeping_wire_names() -> None:
    doc = spec(
        {
            "/things/{id}": {
                "put": {
                    "operationId": "putThing",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True},
                        {"name": "id", "in": "query"},
                        {"name": "page[size]", "in": "query"},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id"],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "name": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                }
            }
        }
    )
    first = _action(sync_doc(doc), "put_thing")
    assert first == _action(sync_doc(doc), "put_thing")
    names = [(f.name, f.wire, f.location.value, f.required) for f in first.parameters]
    assert names == [
        ("id", "id", "path", True),
        ("query_id", "id", "query", False),
        ("page_size", "page[size]", "query", False),
        ("body_id", "id", "body", True),
        ("name", "name", "body", False),
    ]


def test_names_from_operation_id_or_method_and_path_are_unique_and_valid() -> None:
    doc = spec(
        {
            "/a": {"get": {"operationId": "dup"}, "post": {"operationId": "dup"}},
            "/b/{x}": {"get": {}},
            "/c": {"get": {"operationId": "L" * 80}},
        }
    )
    names = [a.name for a in sync_doc(doc).schema.actions()]
    assert len(set(names)) == 4
    assert "dup" in names and "get_b_x" in names
    assert all(len(n) <= 64 for n in names)


def test_filters_do_not_rename() -> None:
    doc = spec(
        {
            "/a": {"get": {"operationId": "dup", "tags": ["keep"]}},
            "/b": {"get": {"operationId": "dup", "tags": ["drop"]}},
        }
    )
    everything = {a.transport.path: a.name for a in sync_doc(doc).schema.actions()}
    only_b = sync_doc(doc, include=("tag:drop",))
    assert [a.name for a in only_b.schema.actions()] == [everything["/b"]]
    assert only_b.filtered == 1
    assert [a.name for a in sync_doc(doc, exclude=("/b",)).schema.actions()] == ["dup"]
    assert [a.name for a in sync_doc(doc, include=("op:dup", "path:/a")).schema.actions()]


def test_x_appctl_safety_and_bad_values() -> None:
    doc = spec(
        {
            "/search": {"post": {"operationId": "search", "x-appctl-safety": "read_only"}},
            "/odd": {"post": {"operationId": "odd", "x-appctl-safety": "harmless"}},
        }
    )
    result = sync_doc(doc)
    assert _action(result, "search").safety == Safety.READ_ONLY
    assert _action(result, "odd").safety == Safety.MUTATING
    assert any("x-appctl-safety" in d.pointer for d in result.diagnostics)


def test_bodies_json_form_multipart_and_value_mode() -> None:
    doc = spec(
        {
            "/form": {
                "post": {
                    "operationId": "form",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "meta": {
                                            "type": "object",
                                            "additionalProperties": {"type": "string"},
                                        },
                                        "n": {"type": "integer"},
                                    },
                                },
                                "encoding": {"meta": {"style": "deepObject", "explode": True}},
                            }
                        }
                    },
                }
            },
            "/upload": {
                "post": {
                    "operationId": "upload",
                    "requestBody": {
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                },
                                "encoding": {"file": {"contentType": "image/png"}},
                            }
                        }
                    },
                }
            },
            "/list": {
                "post": {
                    "operationId": "bulk",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"type": "string"}}
                            }
                        },
                    },
                }
            },
            "/raw": {
                "put": {
                    "operationId": "raw",
                    "requestBody": {"content": {"application/octet-stream": {}}},
                }
            },
        }
    )
    result = sync_doc(doc)
    form = _action(result, "form")
    assert isinstance(form.transport, HttpTransport)
    assert form.transport.body is not None
    assert form.transport.body.content_type == "application/x-www-form-urlencoded"
    meta = form.field("meta")
    assert meta is not None and (meta.style, meta.explode) == ("deepObject", True)
    upload = _action(result, "upload")
    file_field = upload.field("file")
    assert file_field is not None and file_field.content_type == "image/png"
    assert file_field.schema_ == {"type": "string", "format": "binary", "contentEncoding": "base64"}
    bulk = _action(result, "bulk")
    assert bulk.transport.body.mode == "value"
    assert bulk.parameters[0].name == "body" and bulk.parameters[0].required
    raw = _action(result, "raw")
    binary = {"type": "string", "format": "binary", "contentEncoding": "base64"}
    assert raw.parameters[0].schema_ == binary


def test_allof_body_is_flattened_with_required_merged() -> None:
    doc = spec(
        {
            "/pets": {
                "post": {
                    "operationId": "addPet",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "allOf": [
                                        {"$ref": "#/components/schemas/Base"},
                                        {
                                            "type": "object",
                                            "required": ["name"],
                                            "properties": {"name": {"type": "string"}},
                                        },
                                    ]
                                }
                            }
                        },
                    },
                }
            }
        },
        components={
            "schemas": {
                "Base": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "integer"}},
                }
            }
        },
    )
    action = _action(sync_doc(doc), "add_pet")
    assert [(f.name, f.required) for f in action.parameters] == [("id", True), ("name", True)]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        (
            {"type": "string", "enum": ["a"], "nullable": True},
            {"type": ["string", "null"], "enum": ["a", None]},
        ),
        (
            {"type": "integer", "minimum": 1, "exclusiveMinimum": True},
            {"type": "integer", "exclusiveMinimum": 1},
        ),
        (
            {"type": "string", "example": "x", "xml": {"name": "y"}, "x-foo": 1},
            {"type": "string", "examples": ["x"]},
        ),
        (
            {"$ref": "#/components/schemas/S", "nullable": True},
            {"anyOf": [{"$ref": "#/definitions/S"}, {"type": "null"}]},
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "required": True}}},
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
        ),
        (
            {
                "oneOf": [{"type": "string"}, {"type": "integer"}],
                "readOnly": True,
                "deprecated": True,
            },
            {
                "oneOf": [{"type": "string"}, {"type": "integer"}],
                "readOnly": True,
                "deprecated": True,
            },
        ),
    ],
)
def test_schema_conversion(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    doc = spec(
        {
            "/x": {
                "get": {
                    "operationId": "x",
                    "parameters": [{"name": "q", "in": "query", "schema": schema}],
                }
            }
        },
        components={"schemas": {"S": {"type": "string"}}},
    )
    field = _action(sync_doc(doc), "x").parameters[0]
    assert field.schema_ == expected


def test_openapi_31_type_arrays_kept() -> None:
    doc = spec(
        {
            "/x": {
                "get": {
                    "operationId": "x",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {"type": ["string", "null"], "const": "a"},
                        }
                    ],
                }
            }
        }
    )
    doc["openapi"] = "3.1.0"
    assert _action(sync_doc(doc), "x").parameters[0].schema_ == {
        "type": ["string", "null"],
        "const": "a",
    }


def test_swagger2_parameters_bodies_servers_and_auth() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "S", "version": "1"},
        "host": "api.example.com",
        "basePath": "/v1",
        "schemes": ["http", "https"],
        "securityDefinitions": {
            "basic": {"type": "basic"},
            "key": {"type": "apiKey", "in": "query", "name": "api_key"},
        },
        "security": [{"key": []}],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "find",
                    "parameters": [
                        {
                            "name": "tags",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "pipes",
                        },
                        {"name": "limit", "in": "query", "type": "integer", "x-nullable": True},
                    ],
                }
            },
            "/pets/{id}/photo": {
                "post": {
                    "operationId": "upload",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "type": "integer"},
                        {"name": "file", "in": "formData", "type": "file", "required": True},
                        {"name": "note", "in": "formData", "type": "string"},
                    ],
                }
            },
            "/pets/{id}": {
                "put": {
                    "operationId": "update",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "type": "integer"},
                        {
                            "name": "pet",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/Pet"},
                        },
                    ],
                }
            },
        },
        "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }
    result = sync_doc(doc)
    schema = result.schema
    assert schema.base_url == "https://api.example.com/v1"
    assert schema.source.format == "swagger 2.0"
    assert {s.name: s.type for s in schema.auth.schemes} == {"basic": "basic", "key": "api_key"}
    assert schema.auth.default == [{"key": []}]
    tags = _action(result, "find").field("tags")
    assert (tags.style, tags.explode) == ("pipeDelimited", False)
    assert _action(result, "find").field("limit").schema_ == {"type": ["integer", "null"]}
    upload = _action(result, "upload")
    assert upload.transport.body.content_type == "multipart/form-data"
    binary = {"type": "string", "format": "binary", "contentEncoding": "base64"}
    assert upload.field("file").schema_ == binary
    assert upload.field("file").required
    update = _action(result, "update")
    assert [f.name for f in update.parameters] == ["id", "name"]


def test_servers_variables_and_auth_references() -> None:
    doc = spec(
        {"/x": {"get": {"operationId": "x", "servers": [{"url": "https://other.example.com"}]}}},
        servers=[
            {
                "url": "https://{region}.example.com/{v}",
                "variables": {"region": {"default": "eu"}, "v": {"default": "v2"}},
            }
        ],
        components={
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
                "oauth": {"type": "oauth2", "flows": {}},
            }
        },
    )
    result = sync_doc(doc)
    assert result.schema.base_url == "https://eu.example.com/v2"
    assert _action(result, "x").transport.server == "https://other.example.com"
    schemes = {s.name: s for s in result.schema.auth.schemes}
    assert schemes["bearer"].credentials == {"token": "env:APPCTL_BEARER_TOKEN"}
    assert (schemes["cookie"].location, schemes["cookie"].param_name) == ("cookie", "sid")
    assert all(v.startswith("env:") for s in schemes.values() for v in s.credentials.values())


def test_relative_server_from_a_file_warns() -> None:
    result = sync_doc(spec({}, servers=[{"url": "/api"}]))
    assert result.schema.base_url == "/api"
    assert any("--base-url" in d.message for d in result.diagnostics)
    given = sync_doc(spec({}, servers=[{"url": "/api"}]), base_url="https://x.example")
    assert given.schema.base_url == "https://x.example/api"  # the server's path is kept
    assert not any("--base-url" in d.message for d in given.diagnostics)


def test_resources_group_by_tag_then_path() -> None:
    doc = spec(
        {
            "/v1/orders/{id}": {"get": {"operationId": "getOrder"}},
            "/pets": {"get": {"operationId": "listPets", "tags": ["Pet Store"]}},
        },
        tags=[{"name": "Pet Store", "description": "All about pets."}],
    )
    resources = {r.name: r for r in sync_doc(doc).schema.resources}
    assert set(resources) == {"orders", "pet_store"}
    assert resources["pet_store"].description == "All about pets."


def test_pagination_is_detected() -> None:
    doc = spec(
        {
            "/a": {
                "get": {
                    "operationId": "a",
                    "parameters": [
                        {"name": "page", "in": "query"},
                        {"name": "per_page", "in": "query"},
                    ],
                }
            }
        }
    )
    pagination = _action(sync_doc(doc), "a").pagination
    assert pagination is not None and pagination.style == "page"
    assert pagination.params == ["page", "per_page"]


def test_a_broken_operation_is_a_warning_and_the_rest_syncs() -> None:
    doc = spec(
        {
            "/ok": {"get": {"operationId": "ok"}},
            "/bad": {
                "get": {
                    "operationId": "bad",
                    "parameters": "not-a-list",
                    "requestBody": {"content": "nonsense"},
                }
            },
        }
    )
    result = sync_doc(doc)
    assert {a.name for a in result.schema.actions()} == {"ok", "bad"}


def test_a_body_that_allows_nothing_adds_no_arguments() -> None:
    doc = spec(
        {
            "/v1/ping": {
                "post": {
                    "operationId": "ping",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {},
                                    "additionalProperties": False,
                                }
                            }
                        }
                    },
                }
            }
        }
    )
    action = _action(sync_doc(doc), "ping")
    assert action.parameters == []
    assert action.transport.body is not None and action.transport.body.mode == "fields"


def test_read_only_properties_are_not_body_arguments_and_required_follows_the_schema() -> None:
    doc = spec(
        {
            "/orders": {
                "post": {
                    "operationId": "createOrder",
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Order"}}
                        }
                    },
                }
            }
        },
        components={
            "schemas": {
                "Order": {
                    "type": "object",
                    "required": ["id", "item"],
                    "properties": {
                        "id": {"type": "string", "readOnly": True},
                        "item": {"type": "string"},
                        "note": {"type": "string"},
                    },
                }
            }
        },
    )
    action = _action(sync_doc(doc), "create_order")
    assert [(f.name, f.required) for f in action.parameters] == [("item", True), ("note", False)]


def test_api_key_parameters_are_credentials_not_arguments() -> None:
    doc = spec(
        {
            "/reports": {
                "get": {
                    "operationId": "listReports",
                    "parameters": [
                        {"name": "X-API-Key", "in": "header", "required": True},
                        {"name": "api_key", "in": "query"},
                        {"name": "q", "in": "query"},
                    ],
                }
            }
        },
        components={
            "securitySchemes": {
                "header": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "query": {"type": "apiKey", "in": "query", "name": "api_key"},
            }
        },
    )
    assert [f.name for f in _action(sync_doc(doc), "list_reports").parameters] == ["q"]


def test_swagger2_body_parameters_do_not_warn() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "S", "version": "1"},
        "paths": {
            "/a": {
                "post": {
                    "operationId": "a",
                    "parameters": [
                        {
                            "name": "body",
                            "in": "body",
                            "schema": {"type": "object", "properties": {"x": {"type": "string"}}},
                        }
                    ],
                }
            }
        },
    }
    result = sync_doc(doc)
    assert result.diagnostics == ()
    assert [f.name for f in _action(result, "a").parameters] == ["x"]


def test_operation_servers_are_normalized() -> None:
    doc = spec(
        {
            "/a": {
                "get": {"operationId": "a", "servers": [{"url": "https://cdn.example/x/"}]},
                "post": {"operationId": "b", "servers": [{"url": "/edge"}]},
            }
        }
    )
    result = sync_doc(doc)
    assert _action(result, "a").transport.server == "https://cdn.example/x"
    assert any(d.pointer == "/paths/~1a/post/servers/0/url" for d in result.diagnostics)
