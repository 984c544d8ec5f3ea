"""HTTP tools' outputSchema and structuredContent, checked by the official MCP SDK client
(which validates every successful result against the tool's outputSchema), against a real
fixture API on 127.0.0.1 whose OpenAPI document describes its responses; and GitHub's
document's tools/list, each outputSchema a valid JSON Schema."""

from __future__ import annotations

import http.server
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import anyio
import mcp_types as types
import pytest
from jsonschema import Draft202012Validator
from mcp import Client, StdioServerParameters

from appctl.contract.io import load_schema
from appctl.execute import conform
from appctl.execute.result import ToolResult
from appctl.serve.mcp import ToolServer, build_server
from appctl.session.approval import PolicyOnly
from appctl.session.core import Session
from tests import runner
from tests.conftest import serving
from tests.corpus import ABSENT, GITHUB
from tests.runner import APPCTL

ITEM = {"id": 7, "name": "lamp", "tag": None, "kind": {"a": "x"}}
CHOICE = {
    "oneOf": [
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
        {"type": "object", "required": ["b"], "properties": {"b": {"type": "integer"}}},
    ]
}
SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Shop", "version": "1"},
    "paths": {
        "/items": {
            "get": {"operationId": "listItems", "responses": {"200": {"$ref": "#/c/items"}}},
            "post": {
                "operationId": "createItem",
                "responses": {
                    "201": {"$ref": "#/components/responses/One"},
                    "202": {
                        "description": "queued",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["job"],
                                    "properties": {"job": {"type": "string"}},
                                }
                            }
                        },
                    },
                },
            },
        },
        "/items/{id}": {
            "get": {
                "operationId": "getItem",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {"200": {"$ref": "#/components/responses/One"}},
            }
        },
        "/odd": {
            "get": {
                "operationId": "getOdd",
                "responses": {"200": {"$ref": "#/components/responses/One"}},
            }
        },
        "/report": {
            "get": {
                "operationId": "getReport",
                "responses": {"200": {"description": "r", "content": {"text/plain": {}}}},
            }
        },
    },
    "c": {
        "items": {
            "description": "all",
            "headers": {"Link": {"schema": {"type": "string"}}},
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/components/schemas/Item"},
                    }
                }
            },
        }
    },
    "components": {
        "responses": {
            "One": {
                "description": "one",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
            }
        },
        "schemas": {
            "Item": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string", "pattern": "^[a-z]+$"},
                    "tag": {"type": "string", "nullable": True},
                    "kind": CHOICE,
                    "secret": {"type": "string", "writeOnly": True},
                },
            }
        },
    },
}
# (method, path) → (status, JSON body): what the shop answers
ANSWERS: dict[tuple[str, str], tuple[int, Any]] = {
    ("GET", "/items"): (200, [ITEM, {**ITEM, "id": 8, "kind": {"b": 2}}]),
    ("POST", "/items"): (201, ITEM),
    ("GET", "/items/7"): (200, ITEM),
    ("GET", "/odd"): (200, {"id": "seven", "name": "lamp"}),  # off its own document
    ("GET", "/report"): (200, "plain words"),
}


class Shop(http.server.BaseHTTPRequestHandler):
    answers: ClassVar[dict[tuple[str, str], tuple[int, Any]]] = ANSWERS

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, body = self.answers.get((self.command, self.path.split("?")[0]), (404, {}))
        text = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        kind = "text/plain" if isinstance(body, str) else "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Path]:
    """A project synced from SPEC, aimed at the shop running on 127.0.0.1."""
    with serving(Shop) as url:
        spec = tmp_path / "shop.json"
        spec.write_text(json.dumps(SPEC))
        runner.invoke("sync", "--openapi", str(spec), "--base-url", url, cwd=tmp_path)
        policy = "policy: [{match: {name: create_item}, action: allow}]\n"
        (tmp_path / ".appctl" / "config.yaml").write_text(policy)
        yield tmp_path


def _client(project: Path, **options: Any) -> tuple[Client, ToolServer]:
    session = Session.open(project / ".appctl", approver=PolicyOnly("this MCP client"), environ={})
    tools = ToolServer(session, **options)
    return Client(build_server(tools)), tools


def _run(body: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        with anyio.fail_after(30):
            await body()

    anyio.run(bounded)


def test_output_schemas_are_listed_for_json_answers_only(shop: Path) -> None:
    client, _ = _client(shop)

    async def body() -> None:
        async with client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["get_report"].output_schema is None  # text: nothing to promise
            for name in ("list_items", "create_item", "get_item", "get_odd"):
                shape = tools[name].output_schema
                assert shape is not None
                Draft202012Validator.check_schema(shape)
                assert shape["properties"]["unchecked"] == {}
            created = tools["create_item"].output_schema
            assert created is not None
            data = created["properties"]["data"]["anyOf"]
            assert data[-1] == {"type": "string"}  # dry runs and results cut to the budget
            assert len(data[0]["anyOf"]) == 2  # 201's item or 202's job
            assert "required" not in json.dumps(created["$defs"])  # a projection may drop any

    _run(body)


def test_the_sdk_validates_each_result_and_an_off_spec_answer_is_unchecked(shop: Path) -> None:
    client, _ = _client(shop)

    async def body() -> None:
        async with client:
            listed = await client.call_tool("list_items", {})
            assert not listed.is_error
            assert listed.structured_content["data"] == ANSWERS[("GET", "/items")][1]
            created = await client.call_tool("create_item", {})
            assert created.structured_content["data"] == ITEM
            got = await client.call_tool("get_item", {"id": 7})
            assert got.structured_content["data"] == ITEM
            report = await client.call_tool("get_report", {})
            assert report.structured_content["data"] == "plain words"
            odd = await client.call_tool("get_odd", {})  # validated too: no exception
            envelope = odd.structured_content
            assert not odd.is_error and "data" not in envelope
            assert envelope["unchecked"] == {"id": "seven", "name": "lamp"}
            [note] = envelope["notes"]
            assert "at /id" in note and "'integer'" in note and "status 200" in note

    _run(body)


def test_without_the_conform_step_the_sdk_rejects_the_off_spec_answer(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conform, "conform", lambda result, action, definitions: result)
    client, _ = _client(shop)

    async def body() -> None:
        async with client:
            assert not (await client.call_tool("get_item", {"id": 7})).is_error
            with pytest.raises(RuntimeError, match="Invalid structured content"):
                await client.call_tool("get_odd", {})

    _run(body)


def test_a_wrong_output_schema_makes_the_sdk_raise(shop: Path) -> None:
    """The SDK really checks what tools/list promised: a schema that says data is a number
    makes the same call that passes above raise."""
    client, tools = _client(shop)
    wrong = {"type": "object", "properties": {"data": {"type": "number"}}}
    tools.tools = [
        t.model_copy(update={"output_schema": wrong}) if t.name == "get_item" else t
        for t in tools.tools
    ]

    async def body() -> None:
        async with client:
            with pytest.raises(RuntimeError, match="Invalid structured content"):
                await client.call_tool("get_item", {"id": 7})

    _run(body)


def test_appctl_mcp_over_stdio_answers_structured_content_the_sdk_accepts(shop: Path) -> None:
    params = StdioServerParameters(command=APPCTL, args=["mcp"], cwd=shop, env=runner.child_env({}))

    async def body() -> None:
        async with Client(params) as client:
            got = await client.call_tool("get_item", {"id": 7})
            assert isinstance(got, types.CallToolResult) and not got.is_error
            assert got.structured_content["data"] == ITEM
            odd = await client.call_tool("get_odd", {})
            assert odd.structured_content["unchecked"]["id"] == "seven"

    _run(body)


@pytest.mark.skipif(not GITHUB.exists(), reason=ABSENT)
def test_github_tools_list_gives_valid_output_schemas(tmp_path: Path) -> None:
    runner.invoke("sync", "--openapi", str(GITHUB), cwd=tmp_path)
    client, _ = _client(tmp_path, catalogue=False, page_size=2000)  # every tool, one page
    listed: list[types.Tool] = []

    async def body() -> None:
        async with client:
            listed.extend((await client.list_tools()).tools)

    _run(body)
    shapes = {t.name: t.output_schema for t in listed if t.output_schema is not None}
    # 1,223 operations and appctl_poll (code scanning's autofix is long-running)
    assert len(listed) == 1224 and len(shapes) > 900
    assert "appctl_poll" in {t.name for t in listed}
    # the metaschema check of every outputSchema, done once per distinct part (tools share
    # their definitions): the same as checking each whole, in a fraction of the time
    parts: dict[str, Any] = {}
    for shape in shapes.values():
        assert shape["type"] == "object"
        defs = shape.get("$defs", {})
        top = {k: v for k, v in shape.items() if k != "$defs"}
        for part in (top, *defs.values()):
            parts.setdefault(json.dumps(part, sort_keys=True), part)
        refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(shape))
        assert set(refs) <= set(defs)  # every reference resolves inside the schema
    for part in parts.values():
        Draft202012Validator.check_schema(part)
    repo = shapes["repos_get"]
    data = repo["properties"]["data"]["anyOf"][0]
    assert repo["$defs"][data["$ref"].rsplit("/", 1)[1]]["properties"]["full_name"] == {
        "type": "string"
    }
    # the check never raises on a real document's schemas, and the envelope always validates
    contract = load_schema(tmp_path / ".appctl")
    for tool in listed[:: len(listed) // 40]:
        action = contract.action(tool.name)
        assert action is not None
        validator = Draft202012Validator(tool.output_schema or {})
        for data in ({}, [], 0, "x", {"id": "x", "name": 1}, [{"id": 1}]):
            result = ToolResult(ok=True, tool=tool.name, status=200, data=data)
            checked = conform.conform(result, action, contract.definitions)
            assert validator.is_valid(checked.model_dump(mode="json", exclude_none=True))
    size = len(
        json.dumps(
            {"tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]}
        )
    )
    assert size < 3_500_000, size  # 1.06 MB before outputSchemas
