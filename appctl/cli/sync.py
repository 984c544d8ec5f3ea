"""``appctl sync``: compile a source into .appctl/schema.json (and, on demand, tools.json).

The work is the library's (``appctl.sync.run``); this command makes one option per source of
``sync/sources.py`` and per option a source takes, calls it, and prints what it returns.

``tools.json`` is derived from the contract (every front end renders tools from schema.json
in memory): sync writes it when asked (``--tools``) and keeps it fresh once it exists, so a
team that does not want it committed (a large API's tools run to tens of MB) never gets it.
"""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from appctl.cli import output
from appctl.sync.source import SourceOption
from appctl.sync.sources import SOURCES, source_options

P = ParamSpec("P")
R = TypeVar("R")

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.cli.progress import SyncProgress
    from appctl.sync.source import Source
    from appctl.sync.usecase import Drift, SyncOutcome


def _collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with the cyclic garbage collector paused: a sync allocates millions of small
    objects and frees them by reference counting, and the collector would only rescan them
    again and again (a third of a large sync). What is still alive afterwards (the modules
    imported on the way, the caches) lives as long as the process: it is frozen, so that
    neither the first collection after the pause nor the one at exit walks all of it again.
    (A process-wide choice: the command makes it, the library does not.)"""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.freeze()
            gc.enable()

    return paused


def _progress_shown(fn: Callable[..., R]) -> Callable[..., R]:
    """Give ``fn`` a ``progress`` bar (cli/progress.py: drawn on a terminal only, after a
    second) and erase it however ``fn`` ends."""

    @functools.wraps(fn)
    def shown(*args: Any, **kwargs: Any) -> R:
        from appctl.cli.progress import SyncProgress

        with SyncProgress("syncing") as progress:
            return fn(*args, progress=progress, **kwargs)

    return shown


def _option(option: SourceOption) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if option.kind == "flag":  # None when not given, so that other sources may refuse it
        return click.option(option.flag, option.field, is_flag=True, default=None, help=option.help)
    kind = click.IntRange(min=1) if option.kind == "count" else None
    return click.option(
        option.flag,
        option.field,
        multiple=option.multiple,
        type=kind,
        metavar=option.metavar,
        help=option.help,
    )


def _source_options(fn: Callable[..., R]) -> Callable[..., R]:
    """One option per source (``--openapi SRC``) and per option a source takes."""
    for option in reversed(source_options()):
        fn = _option(option)(fn)
    for entry in reversed(SOURCES):
        fn = click.option(entry.flag, entry.name, metavar=entry.metavar, help=entry.help)(fn)
    return fn


@click.command("sync")
@_source_options
@click.option(
    "--include",
    multiple=True,
    metavar="PATTERN",
    help="Keep only operations matching: a tag, path glob, operationId or tool name "
    "(or tag:X, path:X, op:X, name:X); with --db, table name globs. Repeatable.",
)
@click.option(
    "--exclude", multiple=True, metavar="PATTERN", help="Drop matching operations (or tables)."
)
@click.option(
    "--name",
    metavar="NAME",
    help="Name this source, to keep several side by side in one app dir: it is kept in "
    ".appctl/sources/NAME/ and its tools are named NAME_<tool>; other sources' files are "
    "left as they are. Without it: the app's one unnamed source (.appctl/schema.json).",
)
@click.option("--force", is_flag=True, help="Replace a contract that came from another source.")
@click.option(
    "--check",
    is_flag=True,
    help="Rebuild in memory and compare with the committed contract; exit 1 on drift.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse a source whose schemas needed repairs (type: int, an undeclared path "
    "variable, ...) or, for OpenAPI 3.x, that breaks the specification's structure: print "
    "them as errors, write nothing, exit non-zero. For CI.",
)
@click.option(
    "--tools",
    "write_tools",
    is_flag=True,
    help="Also write .appctl/tools.json (the neutral tool list). Once it exists, every "
    "sync keeps it fresh; `appctl tools -o FILE` writes any format on demand.",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Keep running: sync again whenever the source changes (its file, the app's "
    "*.py, the database schema), printing the changes each time; a failed sync writes "
    "nothing and watching goes on. Ctrl-C ends it.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05, max=3600),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="--watch: how often the source is looked at.",
)
@click.pass_obj
@_collector_paused
@_progress_shown
def command(
    app: AppContext,
    *,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    name: str | None,
    force: bool,
    check: bool,
    strict: bool,
    write_tools: bool,
    watch: bool,
    interval: float,
    progress: SyncProgress,
    **given: Any,
) -> int:
    """Compile a source (an OpenAPI document, a database, a Supabase project, a plugin) into
    the contract (.appctl/schema.json); --watch keeps it in step."""
    import os

    from appctl.errors import StrictError, UsageError
    from appctl.sync.sources import make_source
    from appctl.sync.usecase import run

    names = {entry.name for entry in SOURCES}
    source = make_source(
        {k: v for k, v in given.items() if k in names and v is not None},
        {k: v for k, v in given.items() if k not in names and v not in (None, ())},
    )
    if name is not None:
        from appctl.contract.sources import check_source_name

        check_source_name(name)
    options: dict[str, Any] = dict(
        include=include, exclude=exclude, strict=strict, force=force, tools=write_tools, name=name
    )
    if watch:
        progress.close()
        if check:
            raise UsageError("--watch and --check do not go together", suggestion="Drop one.")
        return _watch(source, app, interval=interval, **options)
    try:
        outcome = run(
            source,
            app_dir=app.app_dir,
            check=check,
            progress=progress,
            environ=os.environ,
            **options,
        )
    except StrictError as exc:
        progress.close()
        output.warnings(exc.problems, verbose=app.verbose)
        raise
    progress.close()
    return _show(outcome, verbose=app.verbose)


def _watch(source: Source, app: AppContext, *, interval: float, **options: Any) -> int:
    """``--watch``: sync now and on every change until Ctrl-C (sync/watch.py)."""
    import os

    from appctl.errors import StrictError
    from appctl.sync.source import BuildContext
    from appctl.sync.usecase import run
    from appctl.sync.watch import Round, watch

    app_dir = app.app_dir
    context = BuildContext(
        app_dir=app_dir,
        include=tuple(options["include"]),
        exclude=tuple(options["exclude"]),
        strict=options["strict"],
        environ=os.environ,
    )

    def report(done: Round) -> None:
        stamp = time.strftime("%H:%M:%S")
        if done.error is not None:
            if isinstance(done.error, StrictError):
                output.warnings(done.error.problems, verbose=app.verbose)
            output.error(done.error)
            output.info(f"[{stamp}] sync {done.number} failed; the contract is unchanged")
        elif done.outcome is not None:
            output.info(f"[{stamp}] sync {done.number}")
            _show(done.outcome, verbose=app.verbose)
        gc.collect()  # the collector is paused for the command (_collector_paused)
        output.info(f"watching for changes every {interval:g}s (Ctrl-C to stop)")

    def sync() -> SyncOutcome:
        return run(source, app_dir=app_dir, environ=os.environ, **options)

    try:
        watch(source, sync=sync, context=context, report=report, interval=interval)
    except KeyboardInterrupt:
        output.info("stopped watching")
    return output.EXIT_OK


def _show(outcome: SyncOutcome, *, verbose: bool) -> int:
    for note in outcome.notes:
        output.info(note)
    output.warnings(outcome.warnings, verbose=verbose)
    if outcome.checked:
        return _drift(outcome, outcome.drift)
    for note in outcome.override_notes:
        output.info(f"warning: {note}")
    output.info(outcome.summary())
    if outcome.changes is not None:
        output.info(f"changes since the last sync: {outcome.changes.summary()}")
        for line in outcome.changes.settings:
            output.info(f"  {line}")
    _inferred(outcome.inferred or {}, verbose=verbose)
    return output.EXIT_OK


def _drift(outcome: SyncOutcome, drift: Drift | None) -> int:
    path = outcome.schema_path
    if drift is None:
        output.info(f"{path} is up to date")
        return output.EXIT_OK
    changes = drift.changes
    click.echo(f"{path} is out of date: {changes.summary()}")
    for label, names in (
        ("added", changes.added),
        ("removed", changes.removed),
        ("changed", changes.changed),
        ("setting", changes.settings),
    ):
        for name in names:
            click.echo(f"  {label}: {name}")
    for line in drift.diff:
        click.echo(line)
    return output.EXIT_FAILED


MAX_INFERRED_SHOWN = 8


def _inferred(found: Mapping[str, tuple[str, ...]], *, verbose: bool) -> None:
    """Which tools' safety appctl inferred from a path or operationId (sync/openapi/safety.py),
    so that a person can confirm or correct them in overrides.yaml."""
    if not found:
        return
    total = sum(len(names) for names in found.values())
    output.info(f"{_count(total, 'tool')} with safety inferred from the path or operationId:")
    for safety, names in sorted(found.items()):
        shown = names if verbose else names[:MAX_INFERRED_SHOWN]
        more = (
            f" (+{len(names) - len(shown)} more; -v lists all)" if len(shown) < len(names) else ""
        )
        output.info(f"  {safety} ({len(names)}): {', '.join(shown)}{more}")
    output.info("  confirm or correct them in overrides.yaml (actions: or rules:)")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
