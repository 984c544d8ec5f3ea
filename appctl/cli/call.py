"""``appctl call TOOL``: run one tool through the executor, behind every safety gate.

Exit codes: 0 ok, 1 the call failed, 2 bad usage or arguments, 3 refused by a safety gate.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.contract.models import Action
    from appctl.execute.result import ToolResult

EXIT_REFUSED = 3  # appctl.session.outcomes has the whole table


def read_args(args_option: str | None) -> dict[str, Any]:
    """``--args JSON`` or ``--args @file.json``: a JSON object of argument names to values."""
    from appctl.errors import UsageError

    if not args_option:
        return {}
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
    return loaded


def split_pairs(pairs: tuple[str, ...]) -> list[tuple[str, str]]:
    """``key=value`` pairs as (key, value), refused when one is not a pair."""
    from appctl.errors import UsageError

    split = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {pair!r}")
        split.append((key, value))
    return split


def pair_values(action: Action | None, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Each pair's value, read once by its argument's type: a string argument keeps the text
    (``name=007`` is "007", not 7), a binary one (``contentEncoding: base64``) takes
    ``key=@path`` as that file's bytes, anything else is JSON when it parses, else text."""
    given: dict[str, Any] = {}
    for key, value in pairs:
        field = action.field(key) if action is not None else None
        schema = field.schema_ if field is not None else {}
        kind = schema.get("type")
        if value.startswith("@") and schema.get("contentEncoding") == "base64":
            given[key] = _file_base64(key, value[1:])
        elif kind == "string" or (isinstance(kind, list) and kind[:1] == ["string"]):
            given[key] = value
        else:
            try:
                given[key] = json.loads(value)
            except (ValueError, RecursionError):  # not JSON (or too deep to be): text
                given[key] = value
    return given


def _file_base64(key: str, path: str) -> str:
    """A file's bytes as base64. At most one byte past the limit is read, so an oversized
    file ends in the executor's validation error without being read whole."""
    import base64

    from appctl.errors import UsageError
    from appctl.execute.http.encode import MAX_BINARY_BYTES

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BINARY_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path} for {key}: {exc.strerror}") from None
    return base64.b64encode(data).decode("ascii")


def approve(action: Action, arguments: Mapping[str, Any] | None = None) -> bool:
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
@click.option(
    "--pages",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Follow up to N pages of a list within the size budget, merging them.",
)
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
    pages: int,
) -> int:
    """Run one tool with arguments (--args JSON, --args @file.json, or key=value pairs; a
    binary argument takes key=@path to send that file's bytes)."""
    from appctl.execute.budget import DEFAULT_BUDGET
    from appctl.session.approval import Terminal
    from appctl.session.core import Session

    given, split = read_args(args_option), split_pairs(pairs)
    session = Session.open(
        app.app_dir,
        approver=Terminal(approve),
        base_url=base_url,
        dry_run=dry_run,
        read_only=read_only,
        strict=strict,
        approved=yes,
        result_budget=0 if full else DEFAULT_BUDGET,
    )
    given.update(pair_values(session.schema.action(tool), split))
    from appctl.cli.progress import StatusLine

    with StatusLine() as line:  # a long-running operation's polls, on a terminal
        result = session.call(tool, given, max_pages=pages, progress=line)
    return _report(_saved(app.app_dir, result), as_json)


def _saved(app_dir: Path, result: ToolResult) -> ToolResult:
    """A binary answer written to a file under the app dir; the result says where."""
    payload, data = result.payload, result.data
    if payload is None or not isinstance(data, dict):
        return result
    from appctl.cli.downloads import save

    try:
        path = save(app_dir, result.tool, str(data.get("content_type", "")), payload)
    except OSError as exc:
        note = f"the binary answer was not saved under {app_dir}: {exc}"
        return result.model_copy(update={"notes": [*result.notes, note]})
    note = f"saved {len(payload):,} bytes to {path}"
    update = {"data": {**data, "file": str(path)}, "notes": [*result.notes, note]}
    return result.model_copy(update=update)


def _report(result: ToolResult, as_json: bool) -> int:
    from appctl.session.outcomes import answer

    if as_json:
        click.echo(result.model_dump_json(indent=2, exclude_none=True))
    elif result.request is not None:
        click.echo(json.dumps(result.request, indent=2))
    elif result.ok:
        data = result.body  # the data, whole (or unchecked: off its documented schema)
        click.echo(data if isinstance(data, str) else json.dumps(data, indent=2))
    for note in result.notes:
        output.info(f"note: {note}")
    if result.next and not as_json:
        output.info(f"next page: pass cursor={result.next.get('cursor')} (same arguments)")
    if result.error is not None:
        output.info(f"error ({result.error.category.value}): {result.error.message}")
        for hint in result.error.suggestions:
            output.info(f"  hint: {hint}")
    return answer(result).exit_code
