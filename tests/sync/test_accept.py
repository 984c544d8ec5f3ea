"""What an operation answers with is recorded (``transport.accept``) and sent as ``Accept``,
JSON preferred, anything else at the lowest preference."""

from __future__ import annotations

from typing import Any

from appctl.execute.http.request import accept_header, build_request
from tests.helpers import spec, sync_doc


def _ok(*types: str) -> dict[str, Any]:
    return {"description": "ok", "content": {t: {"schema": {"type": "string"}} for t in types}}


DOC = spec(
    {
        "/a": {
            "get": {
                "operationId": "a",
                "responses": {"200": _ok("application/xml", "application/json")},
            }
        },
        "/b": {
            "get": {
                "operationId": "b",
                "responses": {
                    "201": {"$ref": "#/components/responses/Made"},
                    "2XX": _ok("text/csv"),
                    "404": _ok("application/problem+json"),
                },
            }
        },
        "/c": {"get": {"operationId": "c", "responses": {"default": _ok("image/png")}}},
        "/d": {"get": {"operationId": "d", "responses": {"204": {"description": "none"}}}},
        "/e": {
            "get": {
                "operationId": "e",
                "parameters": [{"name": "Accept", "in": "header", "schema": {"type": "string"}}],
                "responses": {"200": _ok("application/json")},
            }
        },
    },
    components={"responses": {"Made": _ok("application/json", "application/json")}},
)


def _accept(schema: Any, tool: str, args: dict[str, Any] | None = None) -> str | None:
    action = schema.action(tool)
    request = build_request(action, args or {}, base_url="http://api.test")
    return {k.lower(): v for k, v in request.headers.items()}.get("accept")


def test_success_response_types_are_recorded_in_declared_order() -> None:
    schema = sync_doc(DOC).schema
    accept = {a.name: a.transport.accept for a in schema.actions()}  # type: ignore[union-attr]
    assert accept == {
        "a": ["application/xml", "application/json"],
        "b": ["application/json", "text/csv"],  # a ref followed; a 404's type is no answer
        "c": ["image/png"],  # only a default response: its types
        "d": None,  # nothing declared: nothing recorded, */* sent
        "e": ["application/json"],
    }


def test_accept_prefers_json_and_leaves_room_for_anything() -> None:
    schema = sync_doc(DOC).schema
    assert _accept(schema, "a") == "application/json, application/xml;q=0.9, */*;q=0.1"
    assert _accept(schema, "c") == "image/png, */*;q=0.1"
    assert _accept(schema, "d") is None  # the transport's default, */*
    # OpenAPI: a header parameter named Accept "SHALL be ignored"; the responses decide
    assert schema.action("e").parameters == []
    assert _accept(schema, "e") == "application/json, */*;q=0.1"
    assert accept_header(["*/*"]) == "*/*"


def test_swagger2_produces_own_or_the_documents() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "produces": ["application/json"],
        "paths": {
            "/image": {
                "get": {
                    "operationId": "image",
                    "produces": ["image/webp", "image/*"],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/json": {"get": {"operationId": "json", "responses": {"200": {"description": "ok"}}}},
        },
    }
    schema = sync_doc(doc).schema
    accept = {a.name: a.transport.accept for a in schema.actions()}  # type: ignore[union-attr]
    assert accept == {"image": ["image/webp", "image/*"], "json": ["application/json"]}
    assert _accept(schema, "image") == "image/webp, image/*, */*;q=0.1"
