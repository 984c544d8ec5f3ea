"""The neutral format and the guide say, briefly, what a tool returns: a few top-level fields
of the success object, or of each item of a list; nothing when the document does not say."""

from __future__ import annotations

from typing import Any

from appctl.generate.formats.neutral import tool
from appctl.generate.guides import render_guide
from appctl.generate.toolspec import build_tool_specs
from tests.helpers import spec, sync_doc

WIDE = {"type": "object", "properties": {f"f{i}": {"type": "string"} for i in range(9)}}
USER = {
    "allOf": [
        {"type": "object", "properties": {"id": {"type": "integer"}}},
        {
            "type": "object",
            "properties": {
                "login": {"type": "string"},
                "password": {"type": "string", "writeOnly": True},
            },
        },
    ]
}


def _ok(schema: Any, media: str = "application/json") -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {media: {"schema": schema}}}}


DOC = spec(
    {
        "/users": {
            "get": {
                "operationId": "listUsers",
                "responses": _ok({"type": "array", "items": {"$ref": "#/components/schemas/User"}}),
            }
        },
        "/users/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True}],
            "get": {
                "operationId": "getUser",
                "responses": _ok({"$ref": "#/components/schemas/User"}),
            },
        },
        "/wide": {"get": {"operationId": "getWide", "responses": _ok(WIDE)}},
        "/text": {"get": {"operationId": "getText", "responses": _ok(WIDE, "text/plain")}},
        "/none": {"get": {"operationId": "getNone", "responses": {"204": {"description": "-"}}}},
    },
    components={"schemas": {"User": USER}},
)


def test_the_neutral_format_lists_the_main_fields() -> None:
    tools = {t["name"]: t for t in map(tool, build_tool_specs(sync_doc(DOC).schema))}
    assert tools["list_users"]["returns"] == {"type": "array", "fields": ["id", "login"]}
    assert tools["get_user"]["returns"] == {"type": "object", "fields": ["id", "login"]}
    wide = tools["get_wide"]["returns"]["fields"]
    assert wide == ["f0", "f1", "f2", "f3", "f4", "f5", "…"]  # a handful, and "more"
    assert "returns" not in tools["get_text"] and "returns" not in tools["get_none"]


def test_the_guide_says_it_after_each_tool() -> None:
    guide = render_guide(sync_doc(DOC).schema)
    assert "- list_users() — read → [{id, login}]\n" in guide
    assert "- get_user(id) — read → {id, login}\n" in guide
    assert "- get_text() — read\n" in guide
