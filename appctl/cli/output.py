"""Printing for the CLI: errors with their suggestion, warnings, summaries. stderr for chatter."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from appctl.errors import AppctlError, Category, Diagnostic

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_WARNINGS_SHOWN = 20


def _color() -> bool:
    return sys.stderr.isatty()


def error(exc: AppctlError) -> int:
    head = click.style("error:", fg="red", bold=True) if _color() else "error:"
    click.echo(f"{head} {exc}", err=True)
    if exc.suggestion:
        hint = click.style("hint:", fg="cyan") if _color() else "hint:"
        click.echo(f"  {hint} {exc.suggestion}", err=True)
    return EXIT_USAGE if exc.category == Category.USAGE else EXIT_FAILED


def warnings(diagnostics: Sequence[Diagnostic], *, verbose: bool = False) -> None:
    shown = diagnostics if verbose else diagnostics[:MAX_WARNINGS_SHOWN]
    for diag in shown:
        text = diag.render()
        click.echo(click.style(text, fg="yellow") if _color() else text, err=True)
    hidden = len(diagnostics) - len(shown)
    if hidden:
        click.echo(f"... and {hidden} more warning(s); pass -v to see them all", err=True)


def info(message: str) -> None:
    click.echo(message, err=True)
