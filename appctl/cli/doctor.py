"""``appctl doctor``: check the base URL, the credentials and every route, with safe probes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from appctl.cli import output

if TYPE_CHECKING:
    from pathlib import Path

    from appctl.cli.main import AppContext
    from appctl.contract.models import Contract
    from appctl.doctor.checks import Check, Route


@click.command("doctor")
@click.option("--base-url", help="Probe this base URL instead of the contract's.")
@click.option(
    "--write", is_flag=True, help="Mark the actions found on evidence as verified in schema.json."
)
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds per probe.",
)
@click.option(
    "--source",
    metavar="NAME",
    help="Check this named source of the app dir (appctl sync --name NAME).",
)
@click.pass_obj
def command(
    app: AppContext, base_url: str | None, write: bool, timeout: float, source: str | None
) -> int:
    """Check that the API answers, accepts the credentials, and has each action's route."""
    import os

    from appctl.config import load_config
    from appctl.contract.auth import userinfo_problem
    from appctl.contract.io import SCHEMA_FILE, dump_schema, load_schema, write_atomic
    from appctl.contract.models import Provenance
    from appctl.doctor.checks import Prober, app_hint, diagnose
    from appctl.errors import UsageError
    from appctl.execute.executor import base_url_for

    app_dir = app.app_dir
    own = _source_dir(app_dir, source)
    schema = load_schema(own)
    if schema.database is not None:
        return _database(app, schema)
    config = load_config(app_dir)
    base = base_url_for(schema, base_url, config, os.environ)
    problem = userinfo_problem(base)
    if problem:
        raise UsageError(problem, suggestion="Pass --base-url without a user name or password.")
    if not base or "://" not in base:
        raise UsageError(
            f"no absolute base URL to probe (the contract has {base!r})",
            suggestion="Pass --base-url https://..." + app_hint(schema) + ".",
        )
    checks, routes = diagnose(
        schema,
        base_url=base,
        environ=os.environ,
        client=Prober(timeout=timeout),
        settings=config.auth,
    )
    checks.append(_history(app))
    counts = _report(checks, routes, "routes", "none probed", verbose=app.verbose)
    if write:
        verified = {r.action for r in routes if r.verdict == "verified"}
        marked = schema.with_provenance(Provenance.VERIFIED, lambda a: a.name in verified)
        write_atomic(own / SCHEMA_FILE, dump_schema(marked))
        output.info(f"marked {len(verified)} action(s) verified in {own / SCHEMA_FILE}")
    failed = any(c.ok is False for c in checks) or counts.get("missing", 0) > 0
    return output.EXIT_FAILED if failed else output.EXIT_OK


def _source_dir(app_dir: Path, source: str | None) -> Path:
    """The folder of the contract to check: ``--source``'s, else the unnamed one, which an
    app dir of named sources only does not have (contract/sources.py)."""
    from appctl.contract.io import SCHEMA_FILE
    from appctl.contract.sources import named_sources, source_dir
    from appctl.errors import UsageError

    named = named_sources(app_dir)
    if source is not None and source not in named:
        raise UsageError(
            f"no source named {source!r} in {app_dir}",
            suggestion=f"Pass one of: {', '.join(named)}." if named else "Drop --source.",
        )
    if source is None and named and not (app_dir / SCHEMA_FILE).exists():
        raise UsageError(
            "this app dir holds several named sources: say which to check",
            suggestion=f"Pass --source with one of: {', '.join(named)}.",
        )
    return source_dir(app_dir, source)


def _database(app: AppContext, schema: Contract) -> int:
    import os

    from appctl.doctor.db import diagnose_db
    from appctl.execute.executor import CallOptions, database_url_for
    from appctl.execute.http.request import RequestError

    options = CallOptions(root=str(app.app_dir.parent))
    try:
        url = database_url_for(schema, options, os.environ)
    except RequestError as exc:
        from appctl.errors import UsageError

        raise UsageError(str(exc), suggestion="Run appctl sync --db DSN first.") from None
    checks, tables = diagnose_db(schema, url)
    checks.append(_history(app))
    _report(checks, tables, "tables", "none in the contract", verbose=app.verbose)
    failed = any(c.ok is False for c in checks) or any(t.verdict != "verified" for t in tables)
    return output.EXIT_FAILED if failed else output.EXIT_OK


def _history(app: AppContext) -> Check:
    """The audit history opens, takes what is pending, and has no lines set aside."""
    from appctl.cli.audit import open_history
    from appctl.config import load_config
    from appctl.doctor.checks import Check
    from appctl.errors import UsageError, first_line

    try:
        history = open_history(app.app_dir, load_config(app.app_dir).history.url)
    except UsageError as exc:
        return Check("audit history", False, exc.message)
    try:
        recorded, rejected = history.count(), history.rejected()
    except Exception as exc:  # e.g. locked by another process past the busy timeout
        return Check("audit history", False, f"cannot be read: {first_line(exc)}")
    finally:
        history.close()
    if rejected and rejected[1]:
        path, lines = rejected
        return Check(
            "audit history",
            None,
            f"{recorded:,} call(s) recorded; {lines} line(s) that were not whole records "
            f"(writes torn by a full disk or a crash) are kept in {path}: look at them, then "
            "delete the file",
        )
    return Check("audit history", True, f"{recorded:,} call(s) recorded")


def _report(
    checks: list[Check], items: list[Route], label: str, none: str, *, verbose: bool
) -> dict[str, int]:
    """Print the checks, then each item not verified (all with --verbose) and a count per
    verdict; returns the counts."""
    for check in checks:
        mark = {True: "ok  ", False: "FAIL", None: "??  "}[check.ok]
        click.echo(f"{mark}  {check.name}: {check.detail}")
    counts: dict[str, int] = {}
    for item in items:
        counts[item.verdict] = counts.get(item.verdict, 0) + 1
        if item.verdict != "verified" or verbose:
            click.echo(f"      {item.verdict:<10} {item.action}: {item.evidence}")
    summary = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
    click.echo(f"{label}: {summary or none}")
    return counts
