"""``appctl run PROMPT``: one prompt, the model plans and calls tools, then answers.

Exit codes: 0 the model answered; 3 it answered, but a safety gate refused one of its calls;
1 no answer (the provider failed, or --max-steps ran out); 2 bad usage.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from appctl.cli import output
from appctl.cli.agent_session import agent_options

if TYPE_CHECKING:
    from appctl.cli.main import AppContext


@click.command("run")
@click.argument("prompt")
@agent_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
@click.pass_obj
def command(app: AppContext, /, prompt: str, as_json: bool, **values: Any) -> int:
    """Answer PROMPT with the contract's tools (PROMPT - reads standard input)."""
    from appctl.cli.agent_session import (
        Trace,
        build,
        exit_code,
        flags,
        new_session,
        summary,
    )
    from appctl.errors import UsageError

    if prompt == "-":
        prompt = sys.stdin.read()
    if not prompt.strip():
        raise UsageError("the prompt is empty", suggestion='Say what to do: appctl run "..."')
    trace = Trace(quiet=as_json)
    session = new_session()
    agent, resolved = build(app, flags(values), trace, session)
    if agent.tools.meta and not as_json:
        output.info(f"note: offering meta-tools, not each tool: {agent.tools.reason}")
    result = agent.ask(prompt, on_text=trace.text)
    if as_json:
        click.echo(json.dumps(summary(result, resolved, agent, session), indent=2))
    else:
        trace.end_text()
        if result.stopped == "max_steps":
            output.info(
                f"error: no answer after {result.steps} model calls (--max-steps); "
                "raise it or narrow the prompt"
            )
        if result.error is not None:
            output.error(result.error)
        used = result.usage
        tokens = (
            f"{used.input_tokens:,} in / {used.output_tokens:,} out tokens"
            if used.reported
            else "token usage not reported by the provider"
        )
        output.info(
            f"session {session} · {len(result.calls)} tool call(s) · {result.steps} step(s) · "
            + tokens
        )
    return exit_code(result)
