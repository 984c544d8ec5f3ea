"""``appctl mcp``: serve the contract's tools to MCP clients (stdio, or Streamable HTTP).

On stdio, stdout carries nothing but the protocol; everything else goes to stderr.
``--print-config claude|cursor|vscode`` prints the snippet that adds this server to a client.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from appctl.cli import output
from appctl.serve.limits import AUTO_CATALOGUE, PAGE_SIZE

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.config import Config
    from appctl.contract.models import Contract
    from appctl.session.core import Session

CLIENTS = ("claude", "cursor", "vscode")


@click.command("mcp")
@click.option(
    "--transport",
    type=click.Choice(("stdio", "http")),
    default="stdio",
    show_default=True,
    help="stdio for a client that launches appctl; http for Streamable HTTP.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="HTTP: address to bind (beyond loopback only with inbound: or --token-env).",
)
@click.option("--port", default=8808, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token-env", metavar="NAME", help="HTTP: require this env variable's bearer token.")
@click.option("--read-only", is_flag=True, help="Offer only tools that change nothing.")
@click.option("--dry-run", is_flag=True, help="Send nothing; results show the exact requests.")
@click.option("--yes", is_flag=True, help="Approve tools that change data without asking.")
@click.option("--strict", is_flag=True, help="Refuse actions not declared or verified.")
@click.option("--include", multiple=True, metavar="GLOB", help="Offer only these tools.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Do not offer these.")
@click.option("--toolset", metavar="NAME", help="A named toolset from .appctl/config.yaml.")
@click.option("--base-url", help="Send tool calls to this API base URL.")
@click.option(
    "--grace",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    metavar="SECONDS",
    help="HTTP: on SIGTERM, how long calls in flight may take to finish and be delivered.",
)
@click.option(
    "--no-frame",
    is_flag=True,
    help="Give results as plain JSON text, not framed as untrusted data.",
)
@click.option(
    "--catalogue/--no-catalogue",
    default=None,
    help="Offer three meta-tools (find, describe, call) instead of every tool. "
    f"Default: only past {AUTO_CATALOGUE} tools.",
)
@click.option(
    "--page-size",
    default=PAGE_SIZE,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Tools per tools/list page (the rest behind a signed nextCursor).",
)
@click.option(
    "--print-config",
    "print_config",
    type=click.Choice(CLIENTS),
    help="Print the client configuration snippet for this app, and exit.",
)
@click.pass_obj
def command(app: AppContext, /, **values: Any) -> int:
    """Serve the tools over the Model Context Protocol, behind the safety gates."""
    from appctl.errors import UsageError

    flags = Flags(**values)
    if flags.print_config:
        if flags.transport != "stdio":
            raise UsageError("--print-config writes a stdio launch snippet; leave out --transport")
        app_dir = app.app_dir
        click.echo(
            json.dumps(client_config(flags.print_config, app_dir, flags.forwarded()), indent=2)
        )
        _credentials_note(app_dir)
        return output.EXIT_OK
    if flags.token_env and flags.transport != "http":
        raise UsageError("--token-env guards --transport http; stdio has no inbound token")
    return _serve(app, flags)


@dataclass(frozen=True)
class Flags:
    transport: str
    host: str
    port: int
    read_only: bool
    dry_run: bool
    yes: bool
    strict: bool
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    toolset: str | None
    base_url: str | None
    grace: float
    print_config: str | None
    no_frame: bool = False
    catalogue: bool | None = None
    page_size: int = PAGE_SIZE
    token_env: str | None = None

    def forwarded(self) -> list[str]:
        """The serving flags given with --print-config, for the client to pass back."""
        switches = (
            ("--read-only", self.read_only),
            ("--dry-run", self.dry_run),
            ("--yes", self.yes),
            ("--strict", self.strict),
            ("--no-frame", self.no_frame),
        )
        args = [flag for flag, on in switches if on]
        args += [f"--include={glob}" for glob in self.include]
        args += [f"--exclude={glob}" for glob in self.exclude]
        if self.catalogue is not None:
            args.append("--catalogue" if self.catalogue else "--no-catalogue")
        if self.page_size != PAGE_SIZE:
            args.append(f"--page-size={self.page_size}")
        if self.toolset:
            args.append(f"--toolset={self.toolset}")
        if self.base_url:
            args.append(f"--base-url={self.base_url}")
        return args


def _serve(app: AppContext, flags: Flags) -> int:
    import os

    from appctl.serve.inbound.verify import beyond_loopback, server_verifier
    from appctl.serve.mcp import ToolServer, build_server, serve_http, serve_stdio
    from appctl.session.approval import PolicyOnly
    from appctl.session.core import Session

    session = Session.open(
        app.app_dir,
        # approval is asked by elicitation (serve/mcp.py); without it, only these allow
        approver=PolicyOnly("this MCP client", also="start the server with `appctl mcp --yes`"),
        base_url=flags.base_url,
        dry_run=flags.dry_run,
        read_only=flags.read_only,
        strict=flags.strict,
        approved=flags.yes,
    )
    verifier = None
    if flags.transport == "http":
        verifier = server_verifier(session.config.inbound, os.environ, token_env=flags.token_env)
        beyond_loopback(flags.host, verifier)
    schema = session.schema
    include, exclude, read_only = flags.include, flags.exclude, flags.read_only
    if flags.toolset:
        include, exclude, read_only = _toolset(
            session.config, flags.toolset, include, exclude, read_only
        )
        session.options = dataclasses.replace(session.options, read_only=read_only)
    if flags.no_frame:
        session.config = unframed(session.config)
    if flags.transport == "http":
        _queued(session)
    tools = ToolServer(
        session,
        include=include,
        exclude=exclude,
        catalogue=flags.catalogue,
        page_size=flags.page_size,
    )
    _check_offer(schema, tools.specs, include, exclude)
    server = build_server(tools)
    gates = [n for n, on in (("read-only", read_only), ("dry run", flags.dry_run)) if on]
    if flags.yes:
        gates.append("--yes")
    summary = f"appctl mcp: {len(tools.specs)} tools" + (f" ({', '.join(gates)})" if gates else "")
    if tools.catalogue:
        summary += f" as a catalogue of find/describe/call ({tools.catalogue})"
    if flags.transport == "stdio":
        output.info(f"{summary} over stdio")
        serve_stdio(server)
    else:
        from appctl.contract.auth import wanted_headers
        from appctl.serve.inbound.verify import guarded

        def ready(url: str) -> None:
            output.info(f"{summary} at {url} ({guarded(verifier)})")

        late = serve_http(
            server,
            tools.outbox,
            host=flags.host,
            port=flags.port,
            grace=flags.grace,
            on_ready=ready,
            verifier=verifier,
            wanted=wanted_headers(session.config.auth),
        )
        if late:
            output.info(
                f"appctl mcp: stopped with {late} call(s) whose results were not delivered "
                f"within the {flags.grace:g} s grace (recorded as undelivered in the history)"
            )
            return output.EXIT_FAILED
    return output.EXIT_OK


def _queued(session: Session) -> None:
    """Over HTTP, a client without elicitation has its calls that a policy rule's
    ``approval:`` matches wait in the approval queue of the history database, where a
    person decides them (``appctl serve``'s console or /approvals, on the same database)."""
    from appctl.session.approval import QueueApprover
    from appctl.session.queue import open_queue

    session.approver = QueueApprover(open_queue(session.history), "mcp", "this MCP server")


def _toolset(
    config: Config,
    name: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    read_only: bool,
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """A named toolset's include/exclude globs (and read_only) added to the flags'."""
    from appctl.errors import UsageError, did_you_mean

    toolsets = config.toolsets
    chosen = toolsets.get(name)
    if chosen is None:
        hint = did_you_mean(name, toolsets)
        known = ", ".join(sorted(toolsets)) or "none are defined"
        raise UsageError(
            f"no toolset named {name!r} in .appctl/config.yaml ({known}).{hint}",
            suggestion="Define it under toolsets: in .appctl/config.yaml, e.g. "
            "toolsets: {pets: {include: ['*_pet*'], read_only: true}}.",
        )
    return (
        (*include, *chosen.include),
        (*exclude, *chosen.exclude),
        read_only or chosen.read_only,
    )


def _check_offer(
    schema: Contract, offered: dict[str, Any], include: tuple[str, ...], exclude: tuple[str, ...]
) -> None:
    from appctl.errors import UsageError

    if offered or not (include or exclude):
        return
    names = [a.name for a in schema.actions()]
    raise UsageError(
        f"--include/--exclude leave no tool to offer (the contract has {len(names)})",
        suggestion="`appctl tools --names` lists the tool names the globs match against.",
    )


def executable() -> list[str]:
    """The absolute command that starts appctl: the script beside this Python, else -m."""
    here = Path(sys.executable).parent
    found = shutil.which("appctl", path=str(here)) or shutil.which("appctl")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "appctl"]


def client_config(client: str, app_dir: Path, forwarded: list[str]) -> dict[str, Any]:
    """Claude Desktop and Cursor: ``mcpServers``; VS Code: ``servers`` with ``type: stdio``."""
    command, *prefix = executable()
    args = [*prefix, "--app-dir", str(app_dir.resolve()), "mcp", *forwarded]
    name = server_name(app_dir)
    entry: dict[str, Any] = {"command": command, "args": args}
    if client == "vscode":
        return {"servers": {name: {"type": "stdio", **entry}}}
    return {"mcpServers": {name: entry}}


def server_name(app_dir: Path) -> str:
    """``appctl-<project folder>``, in the characters every client accepts."""
    project = app_dir.resolve().parent.name
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", project).strip("-").lower()
    return f"appctl-{slug}" if slug else "appctl"


def _credentials_note(app_dir: Path) -> None:
    """Name the variables the server reads secrets from: the client must pass them on."""
    from appctl.contract.sources import load_contract
    from appctl.errors import AppctlError

    try:
        merged = load_contract(app_dir)
    except AppctlError:
        return
    refs = []
    for schema in (merged.parts or {"": merged}).values():
        refs += [ref for s in schema.auth.schemes for ref in s.credentials.values()]
        if schema.database is not None and schema.database.password:
            refs.append(schema.database.password)
    names = sorted({ref[4:] for ref in refs if ref.startswith("env:")})
    if names:
        output.info(
            f"note: the server reads {', '.join(names)} from its environment: set "
            f"{'it' if len(names) == 1 else 'them'} in the client's env settings for this "
            "server (not in a file you share)"
        )


def unframed(config: Config) -> Config:
    """config.yaml's settings with results given unframed (``--no-frame``)."""
    from appctl.config import ResultSettings

    return config.model_copy(update={"results": ResultSettings(frame=False)})
