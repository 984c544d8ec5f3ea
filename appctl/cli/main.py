"""``appctl``: the root command group. Subcommands are imported only when they run."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from appctl import __version__

COMMANDS = {
    "call": ("appctl.cli.call", "Run one tool, behind the safety gates."),
    "chat": ("appctl.cli.chat", "Talk with an LLM that uses the tools (a REPL)."),
    "init": ("appctl.cli.init", "Add an LLM provider profile to .appctl/config.yaml."),
    "run": ("appctl.cli.run", "Answer one prompt with an LLM over the tools."),
    "sync": ("appctl.cli.sync", "Compile an OpenAPI document into the contract."),
    "sources": ("appctl.cli.sources", "List the sources sync reads: built-in and plugins."),
    "tools": ("appctl.cli.tools", "Print tool definitions for an LLM API."),
    "history": ("appctl.cli.history", "List the audit trail of calls, or show one."),
    "doctor": ("appctl.cli.doctor", "Check the API answers, the credentials and each route."),
    "guide": ("appctl.cli.guide", "Print the compact markdown tool guide."),
    "schema": ("appctl.cli.schema", "Show the contract, or its JSON Schema for editors."),
    "mcp": ("appctl.cli.mcp", "Serve the tools to MCP clients (stdio or Streamable HTTP)."),
    "serve": ("appctl.cli.serve", "Serve the tools over HTTP (with /run for an agent turn)."),
}


class ClosedPipe(Exception):
    """stdout's reader went away (``appctl tools | head``); not an OSError, so that click
    passes it on instead of exiting 1."""


@dataclass
class AppContext:
    app_dir_option: Path | None
    verbose: bool

    @property
    def app_dir(self) -> Path:
        from appctl.contract.io import find_app_dir

        return find_app_dir(self.app_dir_option)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(COMMANDS[cmd_name][0])
        command: click.Command = module.command
        return command

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:  # click's main() would make it exit 1: main() decides
            raise ClosedPipe from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--app-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="APPCTL_APP_DIR",
    help="The .appctl directory (default: nearest .appctl/ above here, else ./.appctl).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show every warning.")
@click.version_option(__version__, prog_name="appctl")
@click.pass_context
def cli(ctx: click.Context, app_dir: Path | None, verbose: bool) -> None:
    """Compile an application's OpenAPI surface into safe, reviewable LLM tools."""
    ctx.obj = AppContext(app_dir_option=app_dir, verbose=verbose)


def main() -> None:
    from appctl.errors import AppctlError

    try:
        result = cli.main(standalone_mode=False)
        sys.stdout.flush()  # a reader gone while the output sat in the buffer: caught below
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except AppctlError as exc:
        from appctl.cli import output

        sys.exit(output.error(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    except (BrokenPipeError, ClosedPipe):
        # the reader went away (`appctl tools --format openai | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:  # a bug: say so plainly; the traceback only when asked for
        if os.environ.get("APPCTL_DEBUG"):
            raise
        from appctl.cli import output
        from appctl.errors import AppctlError as Internal

        sys.exit(
            output.error(
                Internal(
                    f"internal error: {type(exc).__name__}: {exc}",
                    suggestion="This is a bug in appctl; rerun with "
                    "APPCTL_DEBUG=1 for the traceback and report it.",
                )
            )
        )
    sys.exit(result if isinstance(result, int) else 0)
