"""One call to an upstream MCP tool: the request (``McpCall``) and its answer as a
``ToolResult``.

The answer's ``structuredContent`` is the data (checked against the tool's output schema),
else its text content (JSON parsed when it is JSON). Failures map to categories: invalid
params → validation, an ``isError`` result or any other JSON-RPC error → server, the
deadline → timeout, a server that cannot be started or died → network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appctl.contract.models import Action, Contract, McpServer, McpTransport
from appctl.execute.result import ErrorCategory, ToolResult

if TYPE_CHECKING:
    from mcp_types import CallToolResult

DEFAULT_TIMEOUT = 60.0  # seconds, when neither the call nor config.yaml sets a deadline


@dataclass(frozen=True, slots=True)
class McpCall:
    """What is sent: the upstream tool on its server, with the arguments by wire name."""

    server_key: str
    server: McpServer
    tool: str
    arguments: dict[str, Any]

    def line(self) -> str:
        return f"MCP {self.server_key}/{self.tool}"

    def redacted(self) -> dict[str, Any]:
        """What a dry run shows (the arguments a redactor hides when the result is)."""
        return {
            "mcp": self.server.where,
            "tool": self.tool,
            "arguments": self.arguments,
        }


def plan(schema: Contract, action: Action, arguments: Mapping[str, Any]) -> McpCall | str:
    """The call for checked ``arguments``, or why there is none."""
    transport = action.transport
    assert isinstance(transport, McpTransport)
    server = schema.mcp_servers.get(transport.server)
    if server is None:
        return f"{action.name}'s MCP server {transport.server!r} is not in the contract"
    wired = {f.wire: arguments[f.name] for f in action.parameters if f.name in arguments}
    return McpCall(transport.server, server, transport.tool, wired)


def run(
    action: Action,
    call: McpCall,
    definitions: dict[str, Any],
    *,
    environ: Mapping[str, str],
    timeout: float | None,
) -> ToolResult:
    from appctl.execute.mcp.pool import POOL, Dropped
    from appctl.sync.mcp.connect import MissingCredential

    name = action.name
    limit = timeout or DEFAULT_TIMEOUT
    try:
        answer = POOL.call(call.server, call.tool, call.arguments, environ=environ, timeout=limit)
    except MissingCredential as exc:
        return ToolResult.failure(name, ErrorCategory.AUTH, str(exc))
    except TimeoutError:
        message = f"the MCP server did not answer {call.tool} within {limit:g}s"
        hint = "The server was stopped; the next call starts it again."
        return ToolResult.failure(name, ErrorCategory.TIMEOUT, message, hint)
    except Dropped as exc:
        message = f"the MCP server {call.server.where} ended during {call.tool}: {exc}"
        return _network(name, message, "The next call starts the server again.")
    except Exception as exc:
        return _failed(name, call, exc)
    return _answered(action, answer, definitions)


def _failed(name: str, call: McpCall, exc: BaseException) -> ToolResult:
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import INVALID_PARAMS

    from appctl.execute.mcp.pool import leaf

    if isinstance(exc, MCPError):
        category = ErrorCategory.VALIDATION if exc.code == INVALID_PARAMS else ErrorCategory.SERVER
        message = f"the MCP server refused {call.tool}: {exc.error.message} (code {exc.code})"
        return ToolResult.failure(name, category, message)
    message = f"cannot reach the MCP server {call.server.where}: {leaf(exc)}"
    hint = "Check that the contract's command runs (or its URL answers) as an MCP server."
    return _network(name, message, hint)


def _network(name: str, message: str, hint: str) -> ToolResult:
    """A network failure whose suggestion is about the MCP server (the table's speaks of
    a base URL, which an MCP action does not have)."""
    result = ToolResult.failure(name, ErrorCategory.NETWORK, message, hint)
    assert result.error is not None
    error = result.error.model_copy(update={"suggestions": [hint]})
    return result.model_copy(update={"error": error})


def _answered(action: Action, answer: CallToolResult, definitions: dict[str, Any]) -> ToolResult:
    name = action.name
    if answer.is_error:
        said = _text(answer) or "the tool reported an error and said nothing more"
        return ToolResult.failure(name, ErrorCategory.SERVER, f"{action.name} failed: {said}")
    if answer.structured_content is not None:
        result = ToolResult(ok=True, tool=name, data=answer.structured_content)
        return _checked(action, result, definitions)
    return ToolResult(ok=True, tool=name, data=_content(answer))


def _checked(action: Action, result: ToolResult, definitions: dict[str, Any]) -> ToolResult:
    """Structured content that departs from the output schema moves to ``unchecked``."""
    from appctl.execute.conform import mismatch

    found = mismatch(action, definitions, 200, result.data)
    if found is None:
        return result
    notes = [*result.notes, found.note(200)]
    return result.model_copy(update={"data": None, "unchecked": result.data, "notes": notes})


def _text(answer: CallToolResult) -> str:
    return "\n".join(getattr(c, "text", "") for c in answer.content if c.type == "text").strip()


def _content(answer: CallToolResult) -> Any:
    """Text content as data (JSON parsed when it is); other content described, not inlined."""
    items: list[Any] = []
    for content in answer.content:
        if content.type == "text":
            items.append(_parsed(content.text))
        else:
            dumped = content.model_dump(mode="json", by_alias=True, exclude_none=True)
            if isinstance(dumped.get("data"), str):  # image/audio: base64 bytes
                dumped["data"] = f"<{len(dumped['data']) * 3 // 4} bytes, base64>"
            items.append(dumped)
    if len(items) == 1:
        return items[0]
    return items or None


def _parsed(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text
