"""``appctl history``: the audit trail of calls — list, filter, or show one in full."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext


@click.command("history")
@click.argument("entry_id", required=False, type=int, metavar="[ID]")
@click.option(
    "--last",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many of the latest calls to list.",
)
@click.option("--tool", help="Only calls of this tool.")
@click.option("--session", help="Only calls of this session id.")
@click.option(
    "--caller",
    metavar="GLOB",
    help="Only calls of these callers (local:<user>, a token's subject; * and ? match any "
    'run and one character; "" the calls that name nobody).',
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def command(
    app: AppContext,
    entry_id: int | None,
    last: int,
    tool: str | None,
    session: str | None,
    caller: str | None,
    as_json: bool,
) -> int:
    """List recorded calls (newest last), or show call ID in full."""
    from appctl.cli.audit import open_history
    from appctl.config import load_config
    from appctl.errors import UsageError
    from appctl.execute.audit.history import CANCELLED, POLLING, STARTED

    app_dir = app.app_dir
    configured = load_config(app_dir).history.url
    history = open_history(app_dir, configured)
    if entry_id is not None:
        entry = history.entry(entry_id)
        if entry is None:
            raise UsageError(
                f"no call with id {entry_id} in the history",
                suggestion="`appctl history` lists the recorded calls and ids.",
            )
        click.echo(json.dumps(entry.as_dict(), indent=2))
        return output.EXIT_OK
    entries = history.entries(last=last, tool=tool, session=session, caller=caller)
    if as_json:
        click.echo(json.dumps([e.as_dict() for e in entries], indent=2))
        return output.EXIT_OK
    for e in entries:
        status = e.status if e.status is not None else "-"
        detail = e.request or e.message or ""
        if e.outcome in (STARTED, POLLING, CANCELLED) and e.message:  # say what it means
            detail = f"{detail}  [{e.message}]"
        click.echo(
            f"{e.id:>5}  {e.at}  {e.session}  {e.caller or '-'}  {e.tool:<28} {e.outcome:<8} "
            f"{status:>4}  "
            f"{e.duration_ms:8.1f} ms  {detail}"
        )
    if not entries:
        output.info("no calls recorded yet")
    return output.EXIT_OK
