"""``appctl mcp`` serving an MCP-sourced contract: an upstream tool's output schema is the
tool's outputSchema and its structured answer the structuredContent, through the official
SDK client over stdio; the upstream call is recorded like any other."""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from tests import runner
from tests.mcpsource.servers import EVERYTHING, history, need, sync
from tests.runner import APPCTL


def test_appctl_mcp_serves_upstream_tools(tmp_path: Path) -> None:
    need(EVERYTHING)
    sync(tmp_path, "--mcp", f"{EVERYTHING} stdio")
    params = StdioServerParameters(
        command=APPCTL, args=["mcp", "--read-only"], cwd=tmp_path, env=runner.child_env({})
    )

    async def session() -> None:
        with anyio.fail_after(40):
            async with Client(params) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                assert "echo" in tools and "gzip_file_as_resource" not in tools  # read-only
                weather = tools["get_structured_content"]
                assert weather.output_schema is not None
                data_schema = weather.output_schema["properties"]["data"]
                props = data_schema["anyOf"][0]["properties"]
                assert set(props) == {"temperature", "conditions", "humidity"}
                answer = await client.call_tool("get_structured_content", {"location": "Chicago"})
                assert not answer.is_error
                assert isinstance(answer.structured_content, dict)
                data = answer.structured_content["data"]
                assert set(data) == {"temperature", "conditions", "humidity"}

    anyio.run(session)
    rows = [(r["tool"], r["outcome"], r["request"]) for r in history(tmp_path)]
    assert rows == [("get_structured_content", "ok", "MCP default/get-structured-content")]
