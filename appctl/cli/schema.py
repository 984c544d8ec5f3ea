"""``appctl schema``: a summary of the contract, or the contract's own JSON Schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.contract.models import Contract


@click.command("schema")
@click.option(
    "--json-schema",
    is_flag=True,
    help="Print the JSON Schema of schema.json (for editors validating hand edits).",
)
@click.pass_obj
def command(app: AppContext, json_schema: bool) -> int:
    """Show the contract, or print its JSON Schema with --json-schema."""
    from appctl.contract.io import contract_json_schema, dump_json

    if json_schema:
        click.echo(dump_json(contract_json_schema()).decode("utf-8"), nl=False)
        return output.EXIT_OK
    from appctl.contract.sources import load_contract

    merged = load_contract(app.app_dir)
    for number, (name, schema) in enumerate((merged.parts or {"": merged}).items()):
        if merged.parts:  # several sources: one block each
            click.echo(("\n" if number else "") + f"[{name or 'unnamed'}]")
        _summary(schema)
    return output.EXIT_OK


def _summary(schema: Contract) -> None:
    source = schema.source
    made = f", by {source.framework}" if source.framework else ""  # an app's framework
    click.echo(f"source:    {source.kind} {source.location} ({source.format}{made})")
    click.echo(f"title:     {schema.source.title} {schema.source.api_version}".rstrip())
    click.echo(f"base_url:  {schema.base_url or '(none: pass --base-url when calling)'}")
    schemes = ", ".join(f"{s.name} ({s.type})" for s in schema.auth.schemes)
    click.echo(f"auth:      {schemes or 'none'}")
    click.echo(f"resources: {len(schema.resources)}")
    for resource in schema.resources:
        counts: dict[str, int] = {}
        for action in resource.actions:
            counts[action.safety.value] = counts.get(action.safety.value, 0) + 1
        detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        click.echo(f"  {resource.name}: {len(resource.actions)} actions ({detail})")
