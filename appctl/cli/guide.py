"""``appctl guide``: the compact markdown tool guide for a system prompt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext


@click.command("guide")
@click.option("--read-only", is_flag=True, help="Only read_only tools.")
@click.option("--include", multiple=True, metavar="GLOB", help="Keep matching tools. Repeatable.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Drop matching tools.")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.pass_obj
def command(
    app: AppContext,
    read_only: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    out: Path | None,
) -> int:
    """Print the compact markdown tool guide (from .appctl/schema.json)."""
    from appctl.config import load_config
    from appctl.contract.io import write_atomic
    from appctl.contract.sources import load_contract
    from appctl.execute.bound import hide_bound
    from appctl.generate.guides import render_guide

    schema = hide_bound(load_contract(app.app_dir), load_config(app.app_dir))
    text = render_guide(schema, read_only=read_only, include=include, exclude=exclude)
    if out is not None:
        write_atomic(out, text.encode("utf-8"))
        output.info(f"wrote the guide ({len(text):,} characters) → {out}")
    else:
        click.echo(text, nl=False)
    return output.EXIT_OK
