"""An official MCP ``Client`` for a contract's ``McpServer``, with its environment.

A stdio server runs with a clean environment: PATH, HOME and LANG, plus the variables the
contract lists for it, read from ``environ`` at connect time (the SDK adds its own short
list of safe ones, such as USER and TERM, when the parent has them). An HTTP server gets
the headers the contract names, each read from its ``env:`` variable.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO

from appctl.contract.mcptransport import McpServer

if TYPE_CHECKING:
    from mcp import Client

BASE_ENV = ("PATH", "HOME", "LANG")


class MissingCredential(Exception):
    """A header's ``env:`` variable is not set."""


def server_env(server: McpServer, environ: Mapping[str, str]) -> dict[str, str]:
    """What a stdio server is started with: the base variables and the listed ones."""
    names = (*BASE_ENV, *server.env)
    return {name: environ[name] for name in names if name in environ}


def headers_of(server: McpServer, environ: Mapping[str, str]) -> dict[str, str]:
    """The headers of an HTTP server, their values read from ``env:``."""
    headers: dict[str, str] = {}
    refs = dict(server.headers)
    if server.bearer is not None:
        refs["Authorization"] = server.bearer
    for header, ref in refs.items():
        value = environ.get(ref[4:], "")
        if not value:
            raise MissingCredential(
                f"{ref[4:]} is not set: the MCP server's {header} header is read from it"
            )
        bearer = header == "Authorization" and server.bearer is not None
        headers[header] = f"Bearer {value}" if bearer else value
    return headers


def client_for(
    server: McpServer, environ: Mapping[str, str], *, errlog: TextIO | None = None
) -> Client:
    """A not-yet-entered client of ``server``; a stdio server's stderr goes to ``errlog``
    (default: nowhere)."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    if server.url is not None:
        return Client(_http(server.url, headers_of(server, environ)))
    assert server.command is not None
    params = StdioServerParameters(
        command=server.command, args=list(server.args), env=server_env(server, environ)
    )
    return Client(stdio_client(params, errlog=errlog or _devnull()))


def _devnull() -> TextIO:
    global _DEVNULL
    if _DEVNULL is None:
        _DEVNULL = open(os.devnull, "w")  # noqa: SIM115 - kept open for the process
    return _DEVNULL


_DEVNULL: TextIO | None = None


@asynccontextmanager
async def _http(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


async def list_tools(client: Client) -> list[dict[str, Any]]:
    """Every tool the server lists, page by page, as plain JSON (camelCase keys)."""
    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):  # a bound on pages: a server that pages forever is cut off
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools += [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page.tools]
        cursor = page.next_cursor
        if not cursor:
            break
    return tools
