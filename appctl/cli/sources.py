"""``appctl sources``: the sources sync can read, built-in and installed as plugins.

One line each: name, how to select it, distribution, version, summary. A plugin is imported
to read its summary (and, with ``-v``, its options); one that fails to load is listed with
the error naming it, and the command exits 1 so that CI notices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from appctl.cli import output

if TYPE_CHECKING:
    from appctl.cli.main import AppContext
    from appctl.sync.plugins import PluginOption


@click.command("sources")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.pass_obj
def command(app: AppContext, *, as_json: bool) -> int:
    """List the sources `appctl sync` can read: built-in and installed plugins."""
    rows, failed = _rows(verbose=app.verbose or as_json)
    if as_json:
        import json

        click.echo(json.dumps(rows, indent=2))
    else:
        _table(rows)
    return output.EXIT_FAILED if failed else output.EXIT_OK


def _rows(*, verbose: bool) -> tuple[list[dict[str, object]], bool]:
    from appctl import __version__
    from appctl.errors import AppctlError
    from appctl.sync import plugins
    from appctl.sync.sources import SOURCES

    rows: list[dict[str, object]] = [
        {
            "name": entry.name,
            "use": f"{entry.flag} {entry.metavar}",
            "distribution": "appctl",
            "version": __version__,
            "summary": entry.help.split(". ")[0].rstrip("."),
        }
        for entry in SOURCES
        if entry.name != "source"
    ]
    failed = False
    for found in plugins.installed():
        row: dict[str, object] = {
            "name": found.name,
            "use": f"--source {found.name}",
            "distribution": found.distribution,
            "version": found.version,
        }
        try:
            plugin = plugins.load(found)
        except AppctlError as exc:
            failed = True
            row["summary"] = f"error: {exc}"
            row["error"] = True
        else:
            row["summary"] = str(plugin.summary)
            if verbose:
                row["options"] = [_option(o) for o in plugin.options]
        rows.append(row)
    return rows, failed


def _option(option: PluginOption) -> dict[str, object]:
    return {
        "name": option.name,
        "type": option.type,
        "required": option.required,
        "multiple": option.multiple,
        "choices": list(option.choices),
        "help": option.help,
    }


def _table(rows: list[dict[str, object]]) -> None:
    columns = ("name", "use", "distribution", "version")
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns) + "  SUMMARY")
    for row in rows:
        click.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns) + f"  {row['summary']}")
        for option in row.get("options", []):  # type: ignore[attr-defined]
            need = "required" if option["required"] else "optional"
            more = ", repeatable" if option["multiple"] else ""
            choices = f" (one of {', '.join(option['choices'])})" if option["choices"] else ""
            click.echo(
                f"    --option {option['name']}=<{option['type']}>  {need}{more}: "
                f"{option['help']}{choices}"
            )
