"""FastMCP baseline: build an MCP server from an OpenAPI file and dump its tool list.

Runs inside the benchmark venv (``.cache/bench-venv``, fastmcp 4.1.2), never the
appctl venv. Usage::

    python benchmarks/fastmcp_tools.py SPEC.json OUT.json

The server is built the way ``FastMCP.from_openapi`` does it (an ``OpenAPIProvider``
with the default route maps, so every operation becomes a tool), then
``FastMCP.list_tools()`` runs without starting any transport. Each tool is
converted as the ``tools/list`` handler does (``dedupe_with_versions`` then
``to_mcp_tool``) and written as ``{"tools": [...]}`` keeping the fields a model
reads: name, description, inputSchema, and outputSchema / annotations when
present (FastMCP's generated ``title`` and ``_meta`` tags are left out).

One line of JSON with in-process phase timings is printed on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
from fastmcp import FastMCP
from fastmcp.server.providers.openapi import OpenAPIProvider
from fastmcp.tools.base import Tool
from fastmcp.utilities.versions import dedupe_with_versions

# Nothing is ever called; the client only has to exist.
PLACEHOLDER_BASE_URL = "http://127.0.0.1:9"
KEPT_FIELDS = ("name", "description", "inputSchema", "outputSchema", "annotations")


def build_server(spec: dict[str, Any]) -> FastMCP:
    client = httpx2.AsyncClient(base_url=PLACEHOLDER_BASE_URL)
    provider = OpenAPIProvider(openapi_spec=spec, client=client)
    return FastMCP(name="bench", providers=[provider])


async def list_tools(server: FastMCP) -> list[Tool]:
    tools = await server.list_tools()
    return dedupe_with_versions(list(tools), lambda tool: tool.name)


def mcp_definition(tool: Tool) -> dict[str, Any]:
    wire = tool.to_mcp_tool(name=tool.name).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return {key: wire[key] for key in KEPT_FIELDS if key in wire}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: fastmcp_tools.py SPEC.json OUT.json", file=sys.stderr)
        return 2
    spec_path, out_path = Path(argv[0]), Path(argv[1])
    started = time.perf_counter()
    spec = json.loads(spec_path.read_bytes())
    loaded = time.perf_counter()
    server = build_server(spec)
    built = time.perf_counter()
    tools = asyncio.run(list_tools(server))
    listed = time.perf_counter()
    definitions = [mcp_definition(tool) for tool in tools]
    with out_path.open("w", encoding="utf-8") as handle:
        json.dump({"tools": definitions}, handle, ensure_ascii=False)
    dumped = time.perf_counter()
    timings = {
        "tools": len(definitions),
        "load_s": round(loaded - started, 3),
        "build_s": round(built - loaded, 3),
        "list_s": round(listed - built, 3),
        "dump_s": round(dumped - listed, 3),
    }
    print(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
