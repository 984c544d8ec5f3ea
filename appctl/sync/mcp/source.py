"""``sync.sources.Mcp``'s build: connect to the server, list its tools, make the contract.

The server is a command line (split as a shell would, run over stdio) or an http(s) URL
(Streamable HTTP). What the contract records about it holds no secret: the command and its
arguments or the URL, the NAMES of the variables passed on, and ``env:`` references for
the headers.
"""

from __future__ import annotations

import hashlib
import shlex
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from appctl.contract.mcptransport import McpServer
from appctl.errors import SourceError, UsageError
from appctl.sync.source import BuildContext, Built

if TYPE_CHECKING:
    from appctl.sync.sources import Mcp

SERVER_KEY = "default"  # the key of a single MCP source's server in ``mcp_servers``
TIMEOUT = 60.0  # seconds starting the server and listing its tools may take


def server_of(source: Mcp) -> McpServer:
    """The server ``--mcp`` names, with the options that go with it."""
    value = source.server.strip()
    try:
        if value.startswith(("http://", "https://")):
            parts = urlsplit(value)
            if parts.username or parts.password:
                raise UsageError(
                    "the --mcp URL carries a user name or password; credentials come from env:",
                    suggestion="Drop them from the URL and give --bearer-env or --header.",
                )
            headers = dict(_header(h) for h in source.headers)
            bearer = f"env:{source.bearer_env}" if source.bearer_env else None
            return McpServer(url=value, headers=headers, bearer=bearer)
        if source.headers or source.bearer_env:
            raise UsageError(
                "--header and --bearer-env apply to an MCP server at an http(s) URL only",
                suggestion="Pass a stdio server its credentials with --pass-env NAME.",
            )
        words = shlex.split(value)
        if not words:
            raise UsageError("--mcp needs a command line or an http(s) URL")
        return McpServer(command=words[0], args=words[1:], env=list(source.pass_env))
    except ValueError as exc:  # shlex's, or the model's (a literal credential)
        raise UsageError(f"bad --mcp server: {exc}") from None


def _header(text: str) -> tuple[str, str]:
    name, sep, ref = text.partition("=")
    if not sep or not name.strip() or not ref.startswith("env:") or len(ref) <= 4:
        raise UsageError(
            f"--header takes NAME=env:VARIABLE, not {text!r}",
            suggestion="Put the value in a variable; the contract records only its name.",
        )
    return name.strip(), ref


def build(source: Mcp, context: BuildContext) -> Built:
    from appctl.contract.io import dump_json
    from appctl.contract.models import Source
    from appctl.sync.mcp.tools import to_contract
    from appctl.sync.synced import Synced

    server = server_of(source)
    environ = context.environ if context.environ is not None else {}
    tools = read_tools(server, environ)
    listed = dump_json(sorted(tools, key=lambda t: str(t.get("name", ""))))
    made = to_contract(
        tools,
        key=SERVER_KEY,
        server=server,
        source=Source(kind="mcp", location=server.where, sha256=hashlib.sha256(listed).hexdigest()),
        include=context.include,
        exclude=context.exclude,
    )
    return Built(Synced(schema=made.schema), made.diagnostics, made.counted, made.filtered, "tool")


def read_tools(server: McpServer, environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """The server's tools, read in one short session."""
    import anyio

    from appctl.sync.mcp.connect import MissingCredential, client_for, list_tools

    async def listing() -> list[dict[str, Any]]:
        with anyio.fail_after(TIMEOUT):
            async with client_for(server, environ, errlog=errlog) as client:
                return await list_tools(client)

    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        try:
            return anyio.run(listing)
        except MissingCredential as exc:
            raise UsageError(str(exc), suggestion="Export it, then sync again.") from None
        except Exception as exc:
            errlog.seek(0)
            said = errlog.read()[-600:].strip()
            failure = describe(exc) + (f"; it said: {said}" if said else "")
    raise SourceError(
        f"cannot list the tools of the MCP server {server.where}: {failure}",
        suggestion="Check that the command runs (or the URL answers) as an MCP server; "
        "run it by hand to see its own errors.",
    ) from None


def describe(exc: BaseException) -> str:
    """The first leaf of an exception group (anyio's task groups wrap what failed)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT:.0f}s"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
