"""What sync records about encodings (style, explode, allowReserved, content media type, each
body property's Encoding Object, binary as base64, Swagger 2.0 collectionFormat), and that
it round-trips through schema.json and reads as plain keys in a diff."""

from __future__ import annotations

import json
from typing import Any

from appctl.contract.io import dump_schema, parse_schema
from appctl.contract.models import Field
from tests.helpers import spec, sync_doc

OBJECT = {"type": "object", "properties": {"R": {"type": "integer"}}}
DOC = spec(
    {
        "/q": {
            "get": {
                "operationId": "q",
                "parameters": [
                    {
                        "name": "path",
                        "in": "query",
                        "allowReserved": True,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "filter",
                        "in": "query",
                        "content": {"application/json": {"schema": OBJECT}},
                    },
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "style": "matrix",
                        "explode": True,
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                ],
                "responses": {"200": {}},
            }
        },
        "/up": {
            "post": {
                "operationId": "up",
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "files": {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                    },
                                    "meta": OBJECT,
                                },
                            },
                            "encoding": {
                                "file": {
                                    "contentType": "image/png",
                                    "headers": {
                                        "X-Rate": {"schema": {"type": "integer", "const": 5}},
                                        "X-Free": {"schema": {"type": "string"}},
                                    },
                                },
                                "meta": {"style": "deepObject", "allowReserved": True},
                            },
                        }
                    }
                },
                "responses": {"200": {}},
            }
        },
    }
)


def _field(result: Any, action: str, name: str) -> Field:
    found = result.schema.action(action)
    assert found is not None
    field = found.field(name)
    assert field is not None
    return field


def test_parameters_and_body_encodings_are_recorded() -> None:
    result = sync_doc(DOC)
    assert _field(result, "q", "path").allow_reserved
    assert _field(result, "q", "filter").content_type == "application/json"
    ident = _field(result, "q", "id")
    assert (ident.style, ident.explode) == ("matrix", True)
    upload = _field(result, "up", "file")
    assert upload.content_type == "image/png"
    assert upload.headers == {"X-Rate": "5"}  # a header with no fixed value is not sent
    assert upload.schema_["contentEncoding"] == "base64"
    assert _field(result, "up", "files").schema_["items"]["contentEncoding"] == "base64"
    meta = _field(result, "up", "meta")
    assert (meta.style, meta.allow_reserved) == ("deepObject", True)
    assert "contentEncoding" not in meta.schema_


def test_encodings_round_trip_as_plain_keys() -> None:
    schema = sync_doc(DOC).schema
    raw = dump_schema(schema)
    assert parse_schema(raw, origin="schema.json") == schema
    data = json.loads(raw)
    fields = [f for r in data["resources"] for a in r["actions"] for f in a["parameters"]]
    assert any(f.get("allow_reserved") is True for f in fields)
    assert any(f.get("headers") == {"X-Rate": "5"} for f in fields)
    plain = next(f for f in fields if f["name"] == "id")
    assert "allow_reserved" not in plain and "headers" not in plain  # defaults left out


def test_swagger2_collection_formats_everywhere() -> None:
    array = {"type": "array", "items": {"type": "string"}}
    doc = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/f/{p}": {
                "post": {
                    "operationId": "f",
                    "consumes": ["application/x-www-form-urlencoded"],
                    "parameters": [
                        {"name": "p", "in": "path", "required": True, **array},
                        {"name": "h", "in": "header", "collectionFormat": "pipes", **array},
                        {"name": "q", "in": "query", "collectionFormat": "tsv", **array},
                        {"name": "d", "in": "formData", **array},
                        {"name": "m", "in": "formData", "collectionFormat": "multi", **array},
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    result = sync_doc(doc)
    styles = {n: (_field(result, "f", n).style, _field(result, "f", n).explode) for n in "phqdm"}
    assert styles == {
        "p": ("simple", False),
        "h": ("pipeDelimited", False),
        "q": ("tabDelimited", False),
        "d": ("form", False),  # csv, the 2.0 default, on a form field too
        "m": ("form", True),
    }


def test_openapi31_content_media_type_marks_binary_parts() -> None:
    props = {
        "image": {"type": "string", "contentMediaType": "image/png"},
        "note": {"type": "string", "contentMediaType": "text/plain"},
        "given": {"type": "string", "contentMediaType": "image/png", "contentEncoding": "base64"},
    }
    body = {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": props}}}}
    op = {"operationId": "up", "requestBody": body, "responses": {"200": {"description": "ok"}}}
    doc = spec({"/up": {"post": op}}, openapi="3.1.0")
    result = sync_doc(doc)
    assert _field(result, "up", "image").schema_["contentEncoding"] == "base64"
    assert "contentEncoding" not in _field(result, "up", "note").schema_
    assert _field(result, "up", "given").schema_ == props["given"]  # the spec's own, kept
