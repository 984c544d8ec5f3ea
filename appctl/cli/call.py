"""``appctl call TOOL``: run one tool through the executor, behind every safety gate.

Exit codes: 0 ok, 1 the call failed, 2 bad usage or arguments, 3 refused by a safety gate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.contract.models import Action
    from appctl.execute.result import ToolResult

EXIT_REFUSED = 3


def parse_arguments(args_option: str | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    """``--args JSON`` or ``--args @file.json``, then ``key=value`` pairs (values read as JSON
    when they parse, else as text)."""
    from appctl.errors import UsageError

    given: dict[str, Any] = {}
    if args_option:
        text = args_option
        if args_option.startswith("@"):
            try:
                text = Path(args_option[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot read {args_option[1:]}: {exc.strerror}") from None
            except UnicodeDecodeError as exc:
                raise UsageError(f"{args_option[1:]} is not UTF-8 text: {exc}") from None
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"--args is not valid JSON: {exc}") from None
        except RecursionError:
            raise UsageError("--args is nested too deeply to read") from None
        if not isinstance(loaded, dict):
            raise UsageError("--args must be a JSON object of argument names to values")
        given.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {pair!r}")
        try:
            given[key] = json.loads(value)
        except (ValueError, RecursionError):  # not JSON (or too deep to be): text
            given[key] = value
    return given


def textual(action: Action, pairs: tuple[str, ...]) -> dict[str, str]:
    """key=value pairs for string arguments stay text (``name=007`` is "007", not 7)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        field = action.field(key)
        kind = field.schema_.get("type") if field is not None else None
        if kind == "string" or (isinstance(kind, list) and kind[:1] == ["string"]):
            out[key] = value
    return out


def binary_files(action: Action, pairs: tuple[str, ...]) -> dict[str, str]:
    """``key=@path`` for a binary argument (``contentEncoding: base64``): the file's bytes as
    base64. At most one byte past the limit is read, so an oversized file ends in the
    executor's validation error without being read whole."""
    import base64

    from appctl.errors import UsageError
    from appctl.execute.encode import MAX_BINARY_BYTES

    out: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        field = action.field(key)
        if field is None or not value.startswith("@"):
            continue
        if field.schema_.get("contentEncoding") != "base64":
            continue
        try:
            with open(value[1:], "rb") as handle:
                data = handle.read(MAX_BINARY_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read {value[1:]} for {key}: {exc.strerror}") from None
        out[key] = base64.b64encode(data).decode("ascii")
    return out


def approve(action: Action) -> bool:
    """Ask on a terminal; without one, nobody can approve here."""
    from appctl.contract.models import Safety

    if not sys.stdin.isatty():
        return False
    if action.safety == Safety.DESTRUCTIVE:
        typed = click.prompt(
            f"{action.name} is destructive. Type its name to run it",
            default="",
            show_default=False,
            err=True,
        )
        return bool(typed == action.name)
    return click.confirm(f"{action.name} changes data. Run it?", default=False, err=True)


@click.command("call")
@click.argument("tool")
@click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--args", "args_option", metavar="JSON|@FILE", help="Arguments as a JSON object.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result envelope.")
@click.option("--base-url", help="Send to this base URL instead of the contract's.")
@click.option("--dry-run", is_flag=True, help="Send nothing; show the exact request.")
@click.option("--read-only", is_flag=True, help="Refuse every tool that is not read_only.")
@click.option("--yes", is_flag=True, help="Approve a mutating call without asking.")
@click.option("--strict", is_flag=True, help="Refuse actions not declared or verified.")
@click.option("--full", is_flag=True, help="Print the whole result (no size budget).")
@click.pass_obj
def command(
    app: AppContext,
    tool: str,
    pairs: tuple[str, ...],
    args_option: str | None,
    as_json: bool,
    base_url: str | None,
    dry_run: bool,
    read_only: bool,
    yes: bool,
    strict: bool,
    full: bool,
) -> int:
    """Run one tool with arguments (--args JSON, --args @file.json, or key=value pairs; a
    binary argument takes key=@path to send that file's bytes)."""
    import dataclasses
    import os
    import uuid

    from appctl.cli.audit import open_history
    from appctl.contract.io import load_schema
    from appctl.execute.budget import DEFAULT_BUDGET
    from appctl.execute.executor import CallOptions, call, needs_approval
    from appctl.execute.policy import load_config

    given = parse_arguments(args_option, pairs)
    app_dir = app.app_dir
    schema = load_schema(app_dir)
    config = load_config(app_dir)
    options = CallOptions(
        base_url=base_url,
        dry_run=dry_run,
        read_only=read_only,
        strict=strict,
        approved=yes,
        config=config,
        result_budget=0 if full else DEFAULT_BUDGET,
        root=str(app_dir.parent),
    )
    action = schema.action(tool)
    if action is not None:
        given.update(textual(action, pairs))
        given.update(binary_files(action, pairs))
        if needs_approval(schema, action, options):
            options = dataclasses.replace(options, approved=approve(action))
    session = os.environ.get("APPCTL_SESSION") or uuid.uuid4().hex[:12]
    result = call(
        schema,
        tool,
        given,
        options,
        environ=os.environ,
        history=open_history(app_dir, config.history.url),
        session=session,
    )
    return _report(result, as_json)


def _report(result: ToolResult, as_json: bool) -> int:
    from appctl.execute.result import ErrorCategory

    if as_json:
        click.echo(result.model_dump_json(indent=2, exclude_none=True))
    elif result.request is not None:
        click.echo(json.dumps(result.request, indent=2))
    elif result.ok:
        data = result.data
        click.echo(data if isinstance(data, str) else json.dumps(data, indent=2))
    for note in result.notes:
        output.info(f"note: {note}")
    if result.error is not None:
        output.info(f"error ({result.error.category.value}): {result.error.message}")
        for hint in result.error.suggestions:
            output.info(f"  hint: {hint}")
        if result.error.category == ErrorCategory.REFUSED:
            return EXIT_REFUSED
        before_io = result.status is None  # arguments refused before anything was sent
        if result.error.category == ErrorCategory.VALIDATION and before_io:
            return output.EXIT_USAGE
        return output.EXIT_FAILED
    return output.EXIT_OK
