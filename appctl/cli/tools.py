"""``appctl tools``: the contract's tools in an LLM API's format, or a readable list."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.contract.models import Contract
    from appctl.generate.toolspec import Descriptions, ToolSpec

FORMAT_NAMES = ("openai", "openai-responses", "anthropic", "gemini", "mcp", "jsonschema")


@click.command("tools")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_NAMES),
    help="Emit JSON tool definitions in this format (default: a readable list).",
)
@click.option("--read-only", is_flag=True, help="Only tools whose safety is read_only.")
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="Keep tools whose name, resource or tag matches. Repeatable.",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Drop matching tools.")
@click.option("--strict", is_flag=True, help="OpenAI strict mode (Structured Outputs subset).")
@click.option(
    "--descriptions",
    type=click.Choice(("full", "short")),
    default="full",
    show_default=True,
    help="full: each operation's summary and whole description, condensed (cut only at a "
    "provider's documented limit, with a warning); short: one or two sentences.",
)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option("--stats", is_flag=True, help="Print count, bytes and approximate tokens per tool.")
@click.option("--names", is_flag=True, help="Print tool names only, one per line.")
@click.pass_obj
def command(
    app: AppContext,
    fmt: str | None,
    read_only: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    strict: bool,
    descriptions: Descriptions,
    out: Path | None,
    stats: bool,
    names: bool,
) -> int:
    """Print tool definitions for an LLM API (from .appctl/schema.json)."""
    from appctl.config import load_config
    from appctl.contract.io import dump_json, write_atomic
    from appctl.contract.sources import load_contract
    from appctl.execute.bound import hide_bound
    from appctl.generate.formats import render
    from appctl.generate.toolspec import build_tool_specs

    schema = hide_bound(load_contract(app.app_dir), load_config(app.app_dir))
    specs = build_tool_specs(
        schema,
        read_only=read_only,
        include=include,
        exclude=exclude,
        descriptions=descriptions,
    )
    if names:
        click.echo("\n".join(s.name for s in specs))
        return output.EXIT_OK
    if fmt is None and not stats:
        _listing(specs)
        return output.EXIT_OK
    rendered = render(fmt or "jsonschema", specs, strict=strict)
    notes = override_warnings(app.app_dir, schema, fmt=fmt, descriptions=descriptions, specs=specs)
    for warning in [*rendered.warnings, *notes]:
        output.info(f"warning: {warning}")
    data = dump_json(rendered.document)
    if out is not None:
        write_atomic(out, data)
        output.info(f"wrote {len(specs)} tools ({len(data):,} bytes) → {out}")
    elif not stats:
        click.echo(data.decode("utf-8"), nl=False)
    if stats:
        _stats(specs, rendered.entries, rendered.cut)
    return output.EXIT_OK


def override_warnings(
    app_dir: Path,
    schema: Contract,
    *,
    fmt: str | None = None,
    descriptions: Descriptions = "full",
    specs: list[ToolSpec] | None = None,
) -> list[str]:
    """Tools whose summary or description from overrides.yaml is not carried whole in
    ``fmt`` (``tools.json``'s neutral format when None)."""
    from appctl.contract.io import OVERRIDES_FILE
    from appctl.contract.overrides import load_overrides
    from appctl.errors import OverrideError
    from appctl.generate.notices import overrides_not_carried

    try:
        overrides = load_overrides(app_dir / OVERRIDES_FILE)
    except OverrideError:
        return []  # `appctl sync` reports a broken overrides file; the contract is as synced
    if overrides is None:
        return []
    return overrides_not_carried(overrides, schema, fmt=fmt, descriptions=descriptions, specs=specs)


def _listing(specs: list[ToolSpec]) -> None:
    if not specs:
        output.info("no tools (the contract is empty, or the filters matched nothing)")
        return
    width = max(len(s.name) for s in specs)
    for spec in specs:
        click.echo(f"{spec.name:<{width}}  {spec.safety.value:<11}  {spec.title}")
    output.info(f"{len(specs)} tools")


def _stats(specs: list[ToolSpec], entries: list[object], cut: tuple[str, ...]) -> None:
    from appctl.generate.stats import sizes

    rows = sizes(entries, [s.name for s in specs])
    width = max((len(r.name) for r in rows), default=4)
    click.echo(f"{'tool':<{width}}  {'bytes':>8}  {'~tokens':>8}")
    marked = set(cut)
    for row in rows:
        mark = "  description cut …" if row.name in marked else ""
        click.echo(f"{row.name:<{width}}  {row.bytes:>8,}  {row.tokens:>8,}{mark}")
    total_bytes = sum(r.bytes for r in rows)
    total_tokens = sum(r.tokens for r in rows)
    click.echo(f"{len(rows)} tools, {total_bytes:,} bytes, ~{total_tokens:,} tokens")
    if cut:
        output.info(
            f"warning: {len(cut)} description{'s' if len(cut) != 1 else ''} cut at the "
            f"provider's documented limit (marked …): {', '.join(cut)}"
        )
