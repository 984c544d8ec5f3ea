"""``appctl sync --mcp``: upstream tools become actions (schemas, safety from annotations),
the contract records the server without secrets, and ``--check`` sees the tool list change.
Against real servers: server-everything (stdio and Streamable HTTP), mcp-server-time, and
the misbehaving fixture server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appctl.contract.models import McpServer, Safety, Source
from appctl.execute.args import check_arguments
from appctl.sync.mcp.tools import safety_of, to_contract
from tests.mcpsource.servers import (
    EVERYTHING,
    TIME,
    actions,
    call,
    everything_http,
    flaky,
    need,
    schema,
    stop,
    sync,
)
from tests.serve.test_rest import free_port


@pytest.mark.parametrize(
    ("annotations", "safety"),
    [
        ({"readOnlyHint": True}, Safety.READ_ONLY),
        ({"readOnlyHint": True, "destructiveHint": True}, Safety.READ_ONLY),
        ({}, Safety.DESTRUCTIVE),  # MCP's defaults: not read-only, destructive
        ({"readOnlyHint": False}, Safety.DESTRUCTIVE),
        ({"destructiveHint": True}, Safety.DESTRUCTIVE),
        ({"destructiveHint": False}, Safety.MUTATING),
        ({"readOnlyHint": False, "destructiveHint": False}, Safety.MUTATING),
    ],
)
def test_safety_from_annotations(annotations: dict[str, Any], safety: Safety) -> None:
    assert safety_of(annotations) is safety


def test_schemas_kept_and_defs_lifted() -> None:
    point = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    tool = {
        "name": "move-to",
        "title": "Move",
        "inputSchema": {
            "type": "object",
            "properties": {"to": {"$ref": "#/$defs/Point"}, "fast": {"type": "boolean"}},
            "required": ["to"],
            "$defs": {"Point": point},
        },
        "outputSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        "annotations": {"destructiveHint": False, "idempotentHint": True},
    }
    made = to_contract(
        [tool],
        key="default",
        server=McpServer(command="srv"),
        source=Source(kind="mcp", location="srv", sha256="0"),
    )
    action = made.schema.action("move_to")
    assert action is not None and action.transport.model_dump() == {
        "kind": "mcp",
        "server": "default",
        "tool": "move-to",
    }
    assert (action.safety, action.idempotent, action.summary) == (Safety.MUTATING, True, "Move")
    assert [(f.name, f.required) for f in action.parameters] == [("to", True), ("fast", False)]
    assert action.parameters[0].schema_ == {"$ref": "#/definitions/move_to.Point"}
    assert made.schema.definitions == {"move_to.Point": point}
    assert action.responses[0].content["application/json"] == tool["outputSchema"]
    defs = made.schema.definitions
    assert not check_arguments(action, defs, {"to": {"x": 1}}).problems
    assert check_arguments(action, defs, {"to": {"x": "one"}}).problems


def test_everything_over_stdio(tmp_path: Path) -> None:
    need(EVERYTHING)
    said = sync(tmp_path, "--mcp", f"{EVERYTHING} stdio")
    assert "13 tools in the source" in said, said
    found = actions(tmp_path)
    echo, total = found["echo"], found["get_sum"]
    assert echo["safety"] == "read_only" and echo["provenance"] == "declared"
    assert echo["transport"] == {"kind": "mcp", "server": "default", "tool": "echo"}
    assert echo["parameters"][0]["schema"] == {"type": "string", "description": "Message to echo"}
    assert total["summary"] == "Get Sum Tool"
    assert found["gzip_file_as_resource"]["safety"] == "mutating"  # destructiveHint false
    structured = found["get_structured_content"]
    assert structured["responses"][0]["status"] == "200"
    assert schema(tmp_path)["mcp_servers"] == {
        "default": {"command": str(EVERYTHING), "args": ["stdio"]}
    }

    assert call(tmp_path, "echo", "message=hi")["data"] == "Echo: hi"
    weather = call(tmp_path, "get_structured_content", "location=Chicago")
    assert weather["ok"] and set(weather["data"]) == {"temperature", "conditions", "humidity"}
    bad = call(tmp_path, "get_sum", "a=two", "b=3")
    assert bad["error"]["category"] == "validation"  # checked before anything is sent


@pytest.fixture
def http_url() -> Iterator[str]:
    """server-everything's Streamable HTTP mode on a free port of 127.0.0.1."""
    port = free_port()
    process = everything_http(port)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)


def test_everything_over_streamable_http_with_a_bearer(tmp_path: Path, http_url: str) -> None:
    token = {"MCP_TEST_TOKEN": "s3cret-token-value"}
    said = sync(tmp_path, "--mcp", http_url, "--bearer-env", "MCP_TEST_TOKEN", env=token)
    assert "13 tools in the source" in said, said
    text = (tmp_path / ".appctl" / "schema.json").read_text()
    assert "s3cret" not in text
    assert schema(tmp_path)["mcp_servers"] == {
        "default": {"url": http_url, "bearer": "env:MCP_TEST_TOKEN"}
    }
    assert call(tmp_path, "echo", "message=over http", env=token)["data"] == "Echo: over http"
    unset = call(tmp_path, "get_sum", "a=1", "b=2", env={"MCP_TEST_TOKEN": ""})
    assert unset["error"]["category"] == "auth" and "MCP_TEST_TOKEN" in unset["error"]["message"]


def test_literal_credentials_are_refused(tmp_path: Path) -> None:
    said = sync(tmp_path, "--mcp", "http://127.0.0.1:1/mcp", "--header", "X-Key=abc", code=2)
    assert "NAME=env:VARIABLE" in said
    said = sync(tmp_path, "--mcp", "http://user:pw@127.0.0.1:1/mcp", code=2)
    assert "user name or password" in said
    said = sync(tmp_path, "--mcp", "srv", "--bearer-env", "T", code=2)
    assert "http(s) URL only" in said
    assert not (tmp_path / ".appctl" / "schema.json").exists()


def test_a_server_that_does_not_start_is_a_source_error(tmp_path: Path) -> None:
    said = sync(tmp_path, "--mcp", f"{tmp_path}/no-such-server --flag", code=1)
    assert "cannot list the tools of the MCP server" in said and "FileNotFoundError" in said


def test_time_server_from_pypi(tmp_path: Path) -> None:
    need(TIME)
    sync(tmp_path, "--mcp", f"{TIME} --local-timezone UTC")
    found = actions(tmp_path)
    assert set(found) == {"convert_time", "get_current_time"}
    assert found["get_current_time"]["safety"] == "read_only"
    now = call(tmp_path, "get_current_time", "timezone=Europe/Paris")
    assert now["ok"] and now["data"]["timezone"] == "Europe/Paris", now
    assert now["data"]["datetime"][:4].isdigit()


def test_check_reports_a_changed_tool_list(tmp_path: Path) -> None:
    server = flaky(tmp_path)
    sync(tmp_path, "--mcp", server)
    assert "extra" not in actions(tmp_path)
    sync(tmp_path, "--check", "--mcp", server)
    (tmp_path / "extra").touch()
    said = sync(tmp_path, "--check", "--mcp", server, code=1)
    assert "out of date" in said and "added: extra" in said
    assert "extra" not in actions(tmp_path)  # --check writes nothing
    refused = call(tmp_path, "extra")  # not callable until re-synced (and reviewed)
    assert refused["error"]["category"] == "validation"
    sync(tmp_path, "--mcp", server)
    assert call(tmp_path, "extra")["data"] == {"result": "extra"}


def test_http_headers_come_from_env() -> None:
    from appctl.sync.mcp.connect import MissingCredential, headers_of

    server = McpServer(url="http://127.0.0.1:1/mcp", headers={"X-Key": "env:K"}, bearer="env:T")
    assert headers_of(server, {"K": "key", "T": "tok"}) == {
        "X-Key": "key",
        "Authorization": "Bearer tok",
    }
    with pytest.raises(MissingCredential, match="T is not set"):
        headers_of(server, {"K": "key"})
    with pytest.raises(ValueError, match="env:NAME"):
        McpServer(url="http://127.0.0.1:1/mcp", bearer="literal-token")


def test_a_tool_gone_upstream(tmp_path: Path) -> None:
    server = flaky(tmp_path)
    (tmp_path / "extra").touch()
    sync(tmp_path, "--mcp", server)
    (tmp_path / "extra").unlink()
    said = sync(tmp_path, "--check", "--mcp", server, code=1)
    assert "removed: extra" in said
    gone = call(tmp_path, "extra")
    assert gone["error"]["category"] == "server" and "Unknown tool: extra" in str(gone), gone
