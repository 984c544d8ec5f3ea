"""A small MCP server (the official SDK's ``MCPServer``, over stdio) that misbehaves on
demand, for the MCP source's tests: ``crash`` ends the process mid-call, ``hang`` never
answers, ``fail`` answers ``isError``. ``pid`` and ``env`` say which process answered and
what environment it was given. With a file named ``extra`` in the directory given as the
first argument, it also lists ``extra`` (its tool list changes: sync --check's drift)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("flaky")
READ = ToolAnnotations(read_only_hint=True)


@server.tool(annotations=READ)
def pid() -> int:
    """The process id of this server."""
    return os.getpid()


@server.tool(annotations=READ)
def env() -> list[str]:
    """The names of the environment variables this server was given."""
    return sorted(os.environ)


@server.tool(annotations=READ)
def crash() -> str:
    """Ends the server's process in the middle of the call."""
    os._exit(3)


@server.tool(annotations=READ)
def hang() -> str:
    """Never answers."""
    time.sleep(3600)
    return "late"


@server.tool(annotations=READ)
def fail(why: str) -> str:
    """Always fails, saying why."""
    raise ValueError(f"failed on purpose: {why}")


if len(sys.argv) > 1 and (Path(sys.argv[1]) / "extra").exists():

    @server.tool(annotations=READ)
    def extra() -> str:
        """Only listed when the file named extra exists."""
        return "extra"


if __name__ == "__main__":
    server.run()
