"""What ``appctl run`` and ``appctl chat`` share: building the session, approvals, the trace."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.agent.loop import Agent, CallRecord, TurnResult
    from appctl.agent.profiles import Resolved
    from appctl.agent.providers import Provider
    from appctl.cli.main import AppContext
    from appctl.config import Config
    from appctl.contract.models import Action
    from appctl.session.approval import Terminal

TOOL_MODES = ("auto", "all", "meta")


@dataclass
class SessionFlags:
    provider: str | None
    model: str | None
    provider_url: str | None
    base_url: str | None
    read_only: bool
    dry_run: bool
    yes: bool
    strict: bool
    max_steps: int
    tools_mode: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    stream: bool


def agent_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options both commands take, in help order."""
    options = [
        click.option("--provider", metavar="NAME", help="Provider profile (or kind) to use."),
        click.option("--model", help="Use this model instead of the profile's."),
        click.option("--provider-url", metavar="URL", help="The LLM API's base URL."),
        click.option("--base-url", help="Send tool calls to this API base URL."),
        click.option("--read-only", is_flag=True, help="Refuse every tool that changes data."),
        click.option("--dry-run", is_flag=True, help="Send no tool call; show the requests."),
        click.option("--yes", is_flag=True, help="Approve tools that change data."),
        click.option("--strict", is_flag=True, help="Refuse actions not declared or verified."),
        click.option(
            "--max-steps",
            default=20,
            show_default=True,
            type=click.IntRange(1, 500),
            help="Model calls per prompt at most.",
        ),
        click.option(
            "--tools",
            "tools_mode",
            type=click.Choice(TOOL_MODES),
            default="auto",
            show_default=True,
            help="Offer every tool, meta-tools (find/describe/call), or choose by size.",
        ),
        click.option("--include", multiple=True, metavar="GLOB", help="Offer only these tools."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Do not offer these."),
        click.option("--no-stream", is_flag=True, help="Wait for whole replies."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def flags(values: dict[str, Any]) -> SessionFlags:
    stream = not values.pop("no_stream")
    return SessionFlags(stream=stream, **values)


def connect(config: Config, flags: SessionFlags) -> tuple[Resolved, Provider]:
    from appctl.agent.profiles import resolve
    from appctl.agent.providers import connect as connect_provider

    resolved = resolve(
        config.providers,
        config.default_provider,
        name=flags.provider,
        model=flags.model,
        base_url=flags.provider_url,
        environ=os.environ,
    )
    if not flags.stream and resolved.profile.stream:
        profile = resolved.profile.model_copy(update={"stream": False})
        resolved = dataclasses.replace(resolved, profile=profile)
    return resolved, connect_provider(resolved)


class Trace:
    """Streams the answer to stdout and a compact line per tool call to stderr."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.open_line = False  # streamed text not yet ended by a newline

    def text(self, delta: str) -> None:
        if self.quiet:
            return
        click.echo(delta, nl=False)
        sys.stdout.flush()
        self.open_line = not delta.endswith("\n")

    def end_text(self) -> None:
        if self.open_line:
            click.echo("")
            self.open_line = False

    def call(self, record: CallRecord) -> None:
        if self.quiet:
            return
        self.end_text()
        click.echo(describe_call(record, color=sys.stderr.isatty()), err=True)


def describe_call(record: CallRecord, *, color: bool = False) -> str:
    arguments = json.dumps(record.arguments, separators=(",", ":"), ensure_ascii=False)
    if len(arguments) > 80:
        arguments = arguments[:77] + "..."
    if record.ok:
        mark = "ok" if record.outcome == "ok" else record.outcome
        status = f" {record.status}" if record.status is not None else ""
        tail = f"{mark}{status}"
    else:
        tail = f"{record.outcome} ({record.category}): {record.message or ''}"
        if len(tail) > 160:
            tail = tail[:157] + "..."
    line = f"  → {record.name} {arguments} · {tail} · {record.duration_ms:.0f} ms"
    if color:
        line = click.style(line, fg="green" if record.ok else "yellow", dim=record.ok)
    return line


def tty_approver(trace: Trace) -> Terminal:
    """Ask inline on a terminal; without one nobody can approve, so the gate refuses."""
    from appctl.cli.call import approve
    from appctl.session.approval import Terminal

    def ask(action: Action, arguments: Mapping[str, Any]) -> bool:
        if not sys.stdin.isatty():
            return False
        trace.end_text()
        shown = json.dumps(arguments, ensure_ascii=False)
        output.info(f"the model wants to run {action.name} {shown}")
        return approve(action)

    return Terminal(ask)


def build(
    app: AppContext, flags: SessionFlags, trace: Trace, session: str
) -> tuple[Agent, Resolved]:
    from appctl.agent.loop import Agent
    from appctl.session.core import Session

    calls = Session.open(
        app.app_dir,
        approver=tty_approver(trace),
        session_id=session,
        base_url=flags.base_url,
        dry_run=flags.dry_run,
        read_only=flags.read_only,
        strict=flags.strict,
        approved=flags.yes,
    )
    resolved, provider = connect(calls.config, flags)
    agent = Agent(
        calls,
        provider,
        context_tokens=resolved.profile.context_tokens,
        on_call=trace.call,
        tools_mode=flags.tools_mode,
        max_steps=flags.max_steps,
        max_output_tokens=resolved.profile.max_tokens,
        include=flags.include,
        exclude=flags.exclude,
    )
    return agent, resolved


def new_session() -> str:
    from appctl.session.audit import new_id

    return new_id(os.environ)


def summary(result: TurnResult, resolved: Resolved, agent: Agent, session: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "answer": result.answer,
        "session": session,
        "provider": resolved.name,
        "kind": resolved.profile.kind,
        "model": resolved.profile.model,
        "stopped": result.stopped,
        "steps": result.steps,
        "tools": {
            "offered": "meta" if agent.tools.meta else "all",
            "count": len(agent.tools.specs),
        },
        "tool_calls": [c.as_dict() for c in result.calls],
        "usage": {  # null when the provider never reported it
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
        }
        if result.usage.reported
        else None,
    }
    if result.dropped_turns:
        out["dropped_turns"] = result.dropped_turns
    if result.error is not None:
        out["error"] = {
            "category": result.error.category.value,
            "message": result.error.message,
            "suggestion": result.error.suggestion,
        }
    return out


def exit_code(result: TurnResult) -> int:
    """0 answered; 3 answered, but a safety gate refused a call; 1 no answer."""
    from appctl.cli.call import EXIT_REFUSED

    if result.stopped != "answer":
        return output.EXIT_FAILED
    return EXIT_REFUSED if result.refused else output.EXIT_OK
