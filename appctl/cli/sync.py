"""``appctl sync``: compile a source into .appctl/schema.json and .appctl/tools.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.contract.models import Schema


@click.command("sync")
@click.option(
    "--openapi",
    "source",
    metavar="SRC",
    required=True,
    help="OpenAPI 3.x / Swagger 2.0 document: a file path or an http(s) URL.",
)
@click.option("--base-url", help="Use this base URL instead of the document's servers.")
@click.option(
    "--include",
    multiple=True,
    metavar="PATTERN",
    help="Keep only operations matching: a tag, path glob, operationId or tool name "
    "(or tag:X, path:X, op:X, name:X). Repeatable.",
)
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Drop matching operations.")
@click.option("--force", is_flag=True, help="Replace a contract that came from another source.")
@click.option(
    "--check",
    is_flag=True,
    help="Rebuild in memory and compare with the committed contract; exit 1 on drift.",
)
@click.option("--max-bytes", type=click.IntRange(min=1), help="Largest document to read (bytes).")
@click.option("--max-nodes", type=click.IntRange(min=1), help="Most YAML nodes after aliases.")
@click.pass_obj
def command(
    app: AppContext,
    source: str,
    base_url: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    force: bool,
    check: bool,
    max_bytes: int | None,
    max_nodes: int | None,
) -> int:
    """Compile an OpenAPI document into the contract (.appctl/schema.json)."""
    from dataclasses import replace

    from appctl.contract import io
    from appctl.contract.overrides import apply_overrides, load_overrides
    from appctl.sync.openapi.api import sync_openapi
    from appctl.sync.openapi.load import Budget
    from appctl.sync.openapi.parse import SyncOptions

    budget = Budget()
    if max_bytes:
        budget = replace(budget, max_bytes=max_bytes)
    if max_nodes:
        budget = replace(budget, max_nodes=max_nodes)
    options = SyncOptions(include=include, exclude=exclude, base_url=base_url, budget=budget)
    result = sync_openapi(source, options)
    app_dir = app.app_dir
    overrides = load_overrides(app_dir / io.OVERRIDES_FILE)
    schema = apply_overrides(result.schema, overrides) if overrides else result.schema
    output.warnings(result.diagnostics, verbose=app.verbose)
    new = io.dump_schema(schema)
    path = app_dir / io.SCHEMA_FILE
    old = path.read_bytes() if path.exists() else None
    if check:
        return _check(old, new, path)
    previous = _previous(old, path)
    if old is not None and not force and not _same_source(previous, schema):
        _refuse_replace(path, previous)
    io.write_atomic(path, new)
    io.write_atomic(app_dir / io.TOOLS_FILE, _tools_json(schema))
    _summary(schema, result.operations, result.filtered, len(result.diagnostics), previous, path)
    return output.EXIT_OK


def _previous(old: bytes | None, path: Path) -> Schema | None:
    from appctl.contract import io
    from appctl.errors import ContractError

    if old is None:
        return None
    try:
        return io.parse_schema(old, origin=str(path))
    except ContractError:
        return None


def _same_source(previous: Schema | None, schema: Schema) -> bool:
    return previous is not None and (previous.source.kind, previous.source.location) == (
        schema.source.kind,
        schema.source.location,
    )


def _refuse_replace(path: Path, previous: Schema | None) -> None:
    from appctl.errors import UsageError

    origin = f"from {previous.source.location}" if previous else "that could not be read"
    raise UsageError(
        f"{path} already holds a contract {origin}",
        suggestion="Pass --force to replace it, or --app-dir to write somewhere else.",
    )


def _tools_json(schema: Schema) -> bytes:
    from appctl.contract.io import dump_json
    from appctl.generate.formats import render
    from appctl.generate.toolspec import build_tool_specs

    return dump_json(render("jsonschema", build_tool_specs(schema)).document)


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
    ):
        for name in names:
            click.echo(f"  {label}: {name}")
    for line in diff.unified(old, new, name=path.name):
        click.echo(line)
    return output.EXIT_FAILED


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _summary(
    schema: Schema,
    operations: int,
    filtered: int,
    warnings: int,
    previous: Schema | None,
    path: Path,
) -> None:
    from appctl.contract import diff

    actions = sum(len(r.actions) for r in schema.resources)
    parts = [
        _count(len(schema.resources), "resource"),
        _count(actions, "action"),
        _count(operations, "operation") + " in the source",
    ]
    if filtered:
        parts.append(f"{filtered} filtered out")
    parts.append(_count(warnings, "warning"))
    output.info(f"synced {', '.join(parts)} → {path}")
    if previous is not None:
        output.info(f"changes since the last sync: {diff.compare(previous, schema).summary()}")
