"""``appctl sync``: compile a source into .appctl/schema.json (and, on demand, tools.json).

``tools.json`` is derived from the contract (every front end renders tools from schema.json
in memory): sync writes it when asked (``--tools``) and keeps it fresh once it exists, so a
team that does not want it committed (a large API's tools run to tens of MB) never gets it.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from appctl.cli import output

P = ParamSpec("P")
R = TypeVar("R")

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.cli.progress import SyncProgress
    from appctl.contract.models import Schema
    from appctl.errors import Diagnostic
    from appctl.generate.toolspec import ToolSpec
    from appctl.sync.db.build import DbSyncResult


def _collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with the cyclic garbage collector paused: a sync allocates millions of small
    objects and frees them by reference counting, and the collector would only rescan them
    again and again (a third of a large sync). What is still alive afterwards (the modules
    imported on the way, the caches) lives as long as the process: it is frozen, so that
    neither the first collection after the pause nor the one at exit walks all of it again."""

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


@click.command("sync")
@click.option(
    "--openapi",
    "source",
    metavar="SRC",
    help="OpenAPI 3.x / Swagger 2.0 document: a file path or an http(s) URL.",
)
@click.option(
    "--db",
    "dsn",
    metavar="DSN",
    help="A database: postgresql://user@host/db, mysql://user@host/db (MariaDB too), or a "
    "SQLite file. A password in it is used now and never written down.",
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="NAME",
    help="--db: the database schema(s) to read (default: the connection's). Repeatable.",
)
@click.option(
    "--password-env",
    metavar="NAME",
    help="--db: the variable the password is read from, now and at call time (else "
    "PGPASSWORD / MYSQL_PWD, then ~/.pgpass / ~/.my.cnf [client]); never written down.",
)
@click.option("--base-url", help="Use this base URL instead of the document's servers.")
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
    "variable, ...): print them as errors, write nothing, exit non-zero. For CI.",
)
@click.option(
    "--tools",
    "write_tools",
    is_flag=True,
    help="Also write .appctl/tools.json (the neutral tool list). Once it exists, every "
    "sync keeps it fresh; `appctl tools -o FILE` writes any format on demand.",
)
@click.option("--max-bytes", type=click.IntRange(min=1), help="Largest document to read (bytes).")
@click.option("--max-nodes", type=click.IntRange(min=1), help="Most YAML nodes after aliases.")
@click.pass_obj
@_collector_paused
@_progress_shown
def command(
    app: AppContext,
    source: str | None,
    dsn: str | None,
    schemas: tuple[str, ...],
    password_env: str | None,
    base_url: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    force: bool,
    check: bool,
    strict: bool,
    write_tools: bool,
    max_bytes: int | None,
    max_nodes: int | None,
    progress: SyncProgress,
) -> int:
    """Compile an OpenAPI document or a database into the contract (.appctl/schema.json)."""
    from appctl.contract import io
    from appctl.errors import UsageError

    if (source is None) == (dsn is None):
        raise UsageError(
            "give exactly one source: --openapi SRC or --db DSN",
            suggestion="e.g. appctl sync --openapi openapi.yaml, or appctl sync --db app.db",
        )
    app_dir = app.app_dir
    db: DbSyncResult | None = None
    if dsn is not None:
        if base_url or max_bytes or max_nodes:
            raise UsageError(
                "--base-url, --max-bytes and --max-nodes apply to --openapi only",
                suggestion="Drop them, or sync an OpenAPI document instead.",
            )
        from appctl.sync.db.api import sync_db

        db = sync_db(
            dsn,
            root=app_dir.parent,
            schemas=schemas,
            include=include,
            exclude=exclude,
            password_env=password_env,
            environ=os.environ,
        )
        diagnostics = db.diagnostics
        counted, filtered, noun = db.tables, db.filtered, "table"
    else:
        if schemas or password_env:
            raise UsageError(
                "--schema and --password-env apply to --db only",
                suggestion="Drop them, or sync a database instead.",
            )
        result_schema, diagnostics, counted, filtered = _openapi(
            source or "", include, exclude, base_url, max_bytes, max_nodes, progress
        )
        from appctl.cli.sync_baseurl import carry_base_url

        result_schema, diagnostics = carry_base_url(result_schema, diagnostics, app_dir, base_url)
        noun = "operation"
    overrides_path = app_dir / io.OVERRIDES_FILE
    if db is not None and not overrides_path.exists():
        contract = _Contract(db=db)  # straight from its plain form: no models on the way
    else:
        from appctl.contract.overrides import apply_overrides, load_overrides

        overrides = load_overrides(overrides_path)
        synced = db.schema if db is not None else result_schema
        contract = _Contract(schema=apply_overrides(synced, overrides) if overrides else synced)
    if strict:
        _refuse_repairs(diagnostics, verbose=app.verbose)
    progress.phase("checking the tools")
    tools_path = app_dir / io.TOOLS_FILE
    writes_tools = write_tools or tools_path.exists()
    diagnostics = (*diagnostics, *_consumer_check(contract, keep=writes_tools))
    progress.phase(f"writing {io.SCHEMA_FILE}")
    new = contract.dump()
    progress.close()
    output.warnings(diagnostics, verbose=app.verbose)
    path = app_dir / io.SCHEMA_FILE
    old = path.read_bytes() if path.exists() else None
    if check:
        return _check(old, new, path)
    previous = _previous(old, path)
    if old is not None and not force and not _same_source(previous, contract.source):
        _refuse_replace(path, previous)
    io.write_atomic(path, new)
    if writes_tools:
        io.write_atomic(tools_path, contract.tools())
    if overrides_path.exists():
        _override_notes(app_dir, contract.schema)
    _summary(contract, counted, noun, filtered, len(diagnostics), previous, path)
    _inferred(contract, verbose=app.verbose)
    return output.EXIT_OK


class _Contract:
    """The synced contract: a ``Schema``, or a database sync's plain form (``DbSyncResult``,
    written and turned into tools without building the models, which are made only if a
    summary of changes needs them)."""

    def __init__(self, *, schema: Schema | None = None, db: DbSyncResult | None = None) -> None:
        self._schema = schema
        self._db = db
        self._specs: list[ToolSpec] | None = None

    @property
    def schema(self) -> Schema:
        if self._schema is None:
            assert self._db is not None
            self._schema = self._db.schema
        return self._schema

    @property
    def source(self) -> tuple[str, str]:
        if self._db is not None:
            found = self._db.document["source"]
            return str(found["kind"]), str(found["location"])
        return self.schema.source.kind, self.schema.source.location

    def inferred(self) -> dict[str, list[str]]:
        """Tool names whose safety was inferred (not declared), by safety; a database sync
        infers none."""
        if self._db is not None:
            return {}
        from appctl.contract.models import Provenance

        found: dict[str, list[str]] = {}
        for action in sorted(self.schema.actions(), key=lambda a: a.name):
            if action.provenance == Provenance.INFERRED:
                found.setdefault(action.safety.value, []).append(action.name)
        return found

    def counts(self) -> tuple[int, int]:
        """Resources and actions."""
        if self._db is not None:
            return len(self._db.resources), self._db.action_count
        return len(self.schema.resources), sum(len(r.actions) for r in self.schema.resources)

    def dump(self) -> bytes:
        from appctl.contract import io

        if self._db is not None:
            return io.dump_json(self._db.document)
        return io.dump_schema(self.schema)

    def specs(self) -> list[ToolSpec]:
        """The contract's tools (built once: tools.json and the consumer check share them)."""
        if self._specs is None:
            self._specs = _db_specs(self._db) if self._db is not None else _specs(self.schema)
        return self._specs

    def each_spec(self) -> Iterable[ToolSpec]:
        """The tools one at a time, made as they are looked at (Graph beta's 22k tools are
        not all held at once); a database's are built as one list."""
        if self._specs is not None or self._db is not None:
            return self.specs()
        from appctl.generate.toolspec import iter_tool_specs

        return iter_tool_specs(self.schema)

    def tools(self) -> bytes:
        return _render_tools(self.specs())


def _openapi(
    source: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    base_url: str | None,
    max_bytes: int | None,
    max_nodes: int | None,
    progress: Callable[[int, int], None],
) -> tuple[Schema, tuple[Diagnostic, ...], int, int]:
    from dataclasses import replace

    from appctl.sync.openapi.api import sync_openapi
    from appctl.sync.openapi.load import Budget
    from appctl.sync.openapi.parse import SyncOptions

    budget = Budget()
    if max_bytes:
        budget = replace(budget, max_bytes=max_bytes)
    if max_nodes:
        budget = replace(budget, max_nodes=max_nodes)
    options = SyncOptions(
        include=include, exclude=exclude, base_url=base_url, budget=budget, progress=progress
    )
    result = sync_openapi(source, options)
    return result.schema, result.diagnostics, result.operations, result.filtered


def _consumer_check(contract: _Contract, *, keep: bool) -> list[Diagnostic]:
    """Each tool as OpenAI (strict), Gemini and the JSON Schema formats emit it, checked
    against what that consumer accepts (``generate.check``). With ``keep`` the tools are
    built once and kept for tools.json; else each is let go once checked."""
    from appctl.generate.check import consumer_problems

    return consumer_problems(contract.specs() if keep else contract.each_spec())


def _refuse_repairs(diagnostics: tuple[Diagnostic, ...], *, verbose: bool) -> None:
    """``--strict``: the repairs sync made are errors; nothing is written."""
    from dataclasses import replace

    from appctl.errors import REPAIR, SourceError

    repairs = [replace(d, level="error") for d in diagnostics if d.kind == REPAIR]
    if not repairs:
        return
    output.warnings(repairs, verbose=verbose)
    raise SourceError(
        f"--strict: the source needed {_count(len(repairs), 'repair')} to be valid; "
        "nothing was written",
        suggestion="Fix the document at the pointers named above, or sync without --strict "
        "to accept the repairs (each stays a warning).",
    )


def _previous(old: bytes | None, path: Path) -> Schema | None:
    from appctl.contract import io
    from appctl.errors import ContractError

    if old is None:
        return None
    try:
        return io.parse_schema(old, origin=str(path))
    except ContractError:
        return None


def _same_source(previous: Schema | None, source: tuple[str, str]) -> bool:
    return previous is not None and (previous.source.kind, previous.source.location) == source


def _refuse_replace(path: Path, previous: Schema | None) -> None:
    from appctl.errors import UsageError

    origin = f"from {previous.source.location}" if previous else "that could not be read"
    raise UsageError(
        f"{path} already holds a contract {origin}",
        suggestion="Pass --force to replace it, or --app-dir to write somewhere else.",
    )


def _override_notes(app_dir: Path, schema: Schema) -> None:
    """Warn about override text that the tool definitions do not carry whole."""
    from appctl.cli.tools import override_warnings

    for warning in override_warnings(app_dir, schema):
        output.info(f"warning: {warning}")


def _tools_json(schema: Schema) -> bytes:
    return _render_tools(_specs(schema))


def _db_tools_json(db: DbSyncResult) -> bytes:
    """``_tools_json`` of a database contract, from its plain form (the same bytes)."""
    return _render_tools(_db_specs(db))


def _specs(schema: Schema) -> list[ToolSpec]:
    from appctl.generate.toolspec import build_tool_specs

    return build_tool_specs(schema)


def _db_specs(db: DbSyncResult) -> list[ToolSpec]:
    from appctl.contract.kinds import Safety
    from appctl.generate.toolspec import shared_tool_specs

    return shared_tool_specs(
        ((r.name, a, a.verb, Safety(a.safety)) for r in db.resources for a in r.actions),
        db.definitions,
    )


def _render_tools(specs: list[ToolSpec]) -> bytes:
    from appctl.contract.io import dump_json
    from appctl.generate.formats import neutral

    document, _, _ = neutral.render(specs, False)
    return dump_json(document)


def _check(old: bytes | None, new: bytes, path: Path) -> int:
    from appctl.contract import diff, io
    from appctl.errors import ContractError

    if old is None:
        raise ContractError(
            f"no committed contract at {path} to check against",
            suggestion="Run `appctl sync` without --check first and commit it.",
        )
    if old == new:
        output.info(f"{path} is up to date")
        return output.EXIT_OK
    before = _previous(old, path)
    changes = diff.compare(before, io.parse_schema(new, origin="the rebuilt contract"))
    click.echo(f"{path} is out of date: {changes.summary()}")
    for label, names in (
        ("added", changes.added),
        ("removed", changes.removed),
        ("changed", changes.changed),
        ("setting", changes.settings),
    ):
        for name in names:
            click.echo(f"  {label}: {name}")
    for line in diff.unified(old, new, name=path.name):
        click.echo(line)
    return output.EXIT_FAILED


MAX_INFERRED_SHOWN = 8


def _inferred(contract: _Contract, *, verbose: bool) -> None:
    """Which tools' safety appctl inferred from a path or operationId (sync/openapi/safety.py),
    so that a person can confirm or correct them in overrides.yaml."""
    found = contract.inferred()
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


def _summary(
    contract: _Contract,
    counted: int,
    noun: str,
    filtered: int,
    warnings: int,
    previous: Schema | None,
    path: Path,
) -> None:
    resources, actions = contract.counts()
    parts = [
        _count(resources, "resource"),
        _count(actions, "action"),
        _count(counted, noun) + " in the source",
    ]
    if filtered:
        parts.append(f"{filtered} filtered out")
    parts.append(_count(warnings, "warning"))
    output.info(f"synced {', '.join(parts)} → {path}")
    if previous is not None:
        from appctl.contract import diff

        changes = diff.compare(previous, contract.schema)
        output.info(f"changes since the last sync: {changes.summary()}")
        for line in changes.settings:
            output.info(f"  {line}")
