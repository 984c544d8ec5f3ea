"""What ``tools/list`` offers over MCP: every tool in signed pages, or a catalogue.

- Direct mode: the offered tools in pages of ``PAGE_SIZE`` (in the contract's stable order).
  ``nextCursor`` is a continuation signed by the app's key (``execute.continuation``),
  bound to ``tools/list`` and to a digest of the offered names, so a cursor from another
  listing, an edited, made-up or expired one is refused as a JSON-RPC invalid-params error
  (the MCP spec's answer to an invalid cursor); the client starts over without one.
- Catalogue mode: three meta-tools instead of every tool (``session.catalog``: the same
  search the built-in agent uses), for clients that cap or choke on long tool lists.
  Chosen by ``--catalogue``/``--no-catalogue``, else automatically past ``AUTO_CATALOGUE``
  tools. What the catalogue finds and runs is what direct mode would offer: toolsets,
  --include/--exclude and --read-only apply alike.

Takes tools and a sealer, returns MCP results: no I/O.
"""

from __future__ import annotations

import hashlib
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError

from appctl.execute.continuation import CursorError, Sealer
from appctl.generate.formats.mcp import hints
from appctl.serve.limits import AUTO_CATALOGUE, PAGE_SIZE
from appctl.session import catalog as meta

LIST = "tools/list"  # what a listing cursor is bound to, in place of a tool's name
OFFSET = "o"  # the sealed state: where the next page starts


def catalogue_reason(count: int, chosen: bool | None) -> str:
    """Why the catalogue is served (``""``: it is not)."""
    if chosen is None:
        return f"more than {AUTO_CATALOGUE} tools" if count > AUTO_CATALOGUE else ""
    return "asked for with --catalogue" if chosen else ""


def meta_tools(count: int) -> list[types.Tool]:
    """The three meta-tools as MCP tools. Find and describe read appctl's own catalogue
    (closed world); call may run any offered tool, so it claims nothing about its effects
    (each call's own safety and gates decide)."""
    out = []
    for spec in meta.meta_specs(count):
        annotations: dict[str, Any] = {**hints(spec), "openWorldHint": spec.name == meta.CALL}
        if spec.name == meta.CALL:
            annotations["destructiveHint"] = True  # it may run a destructive tool
        out.append(
            types.Tool(
                name=spec.name,
                title=spec.title,
                description=spec.description,
                input_schema=spec.input_schema,
                annotations=types.ToolAnnotations.model_validate(annotations),
            )
        )
    return out


def catalogue_instructions(count: int, reason: str) -> str:
    """What the server's instructions say of catalogue mode."""
    return (
        f" Its {count} tools are offered through a catalogue ({reason}; appctl mcp does "
        f"this past {AUTO_CATALOGUE} tools): find tools by words with {meta.FIND}, read "
        f"one's arguments with {meta.DESCRIBE}, and run it with {meta.CALL} (the same "
        "safety rules and approvals as a direct call)."
    )


def described(tool: types.Tool) -> dict[str, Any]:
    """What MCP knows of a tool beside its spec, for appctl_describe_tool: its title,
    annotations and, when the contract knows the shape of its data, its output schema."""
    extra: dict[str, Any] = {"title": tool.title}
    if tool.annotations is not None:
        extra["annotations"] = tool.annotations.model_dump(by_alias=True, exclude_none=True)
    if tool.output_schema is not None:
        extra["output_schema"] = tool.output_schema
    return extra


class Pages:
    """Tool listings served a page at a time behind signed cursors. A cursor is bound to
    a digest of the listing's names, so one issued for another listing (other filters, or
    tools that changed since) is refused rather than giving a page of something else."""

    def __init__(self, sealer: Sealer, *, size: int = PAGE_SIZE) -> None:
        if size < 1:
            raise ValueError("a tools/list page holds at least one tool")
        self.sealer = sealer
        self.size = size

    def page(self, tools: list[types.Tool], cursor: str | None) -> types.ListToolsResult:
        bound = binding(tools)
        start = 0 if cursor is None else self._start(bound, cursor, len(tools))
        end = start + self.size
        following = self.sealer.seal(LIST, bound, {OFFSET: end}) if end < len(tools) else None
        return types.ListToolsResult(tools=tools[start:end], next_cursor=following)

    def _start(self, bound: dict[str, str], cursor: str, count: int) -> int:
        try:
            state = self.sealer.open(LIST, bound, cursor)
        except CursorError as exc:
            raise invalid_cursor(str(exc)) from None
        start = state.get(OFFSET)
        if not isinstance(start, int) or isinstance(start, bool) or not 0 < start < count:
            raise invalid_cursor("cursor is damaged: call tools/list without a cursor")
        return start


def binding(tools: list[types.Tool]) -> dict[str, str]:
    names = "\n".join(t.name for t in tools).encode("utf-8", "surrogatepass")
    return {"listing": hashlib.sha256(names).hexdigest()[:32]}


def invalid_cursor(why: str) -> MCPError:
    return MCPError(code=types.INVALID_PARAMS, message=f"Invalid cursor: {why}")
