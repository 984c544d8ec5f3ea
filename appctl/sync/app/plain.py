"""What the plain-app probes found → a built contract (``Built``), for ``source.py``.

``flask_app``, ``django_views`` and ``django_models`` run their probe (``run.probe``) in the
app's interpreter and build from what it found. ``build_routes``: a plain Flask or Django URL
map (``routes.py``) through the one OpenAPI compiler, its operations marked ``inferred``;
given DRF's document (``declared``) the plain views are added to it. ``build_models``: a
Django project's models through ``sync/db`` (``models.py``), against the database its
settings name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appctl.errors import UsageError
from appctl.sync.app import models as M
from appctl.sync.app import routes as R
from appctl.sync.source import BuildContext, Built

NOT_FOUND = "no SQLite database at "


@dataclass(frozen=True, slots=True)
class Interpreter:
    """Where and how a probe runs: the app's python, its project folder, the time limit and
    the environment it is given."""

    python: str
    cwd: Path
    timeout: float
    environ: Mapping[str, str]

    def probe(self, name: str, target: str) -> dict[str, Any]:
        from appctl.sync.app.run import probe

        return probe(
            self.python, name, [target], cwd=self.cwd, timeout=self.timeout, environ=self.environ
        )


def flask_app(
    target: str,
    *,
    interpreter: Interpreter,
    context: BuildContext,
    location: str,
    base_url: str | None = None,
) -> Built:
    """A plain Flask app (``module:attribute``) from its URL map."""
    found = interpreter.probe("flask_routes", target)
    return build_routes(found, what=target, location=location, context=context, base_url=base_url)


def django_views(
    settings: str,
    *,
    interpreter: Interpreter,
    context: BuildContext,
    location: str,
    base_url: str | None = None,
    declared: Mapping[str, Any] | None = None,
) -> Built:
    """A Django project's plain views from its URL patterns, added to DRF's document
    (``declared``) when it has one."""
    found = interpreter.probe("django_routes", settings)
    return build_routes(
        found,
        what=settings,
        location=location,
        context=context,
        base_url=base_url,
        declared=declared,
    )


def django_models(
    settings: str,
    *,
    interpreter: Interpreter,
    context: BuildContext,
    password_env: str | None = None,
) -> Built:
    """A Django project's models, against the database its settings name."""
    found = interpreter.probe("django_models", settings)
    return build_models(found, project=interpreter.cwd, context=context, password_env=password_env)


def build_routes(
    found: Mapping[str, Any],
    *,
    what: str,
    location: str,
    context: BuildContext,
    base_url: str | None = None,
    declared: Mapping[str, Any] | None = None,
) -> Built:
    """``found``: the routes probe's result; ``what`` names the app in messages;
    ``location``: the contract's source location."""
    from appctl.sync.openapi.load import Loaded
    from appctl.sync.openapi.parse import SyncOptions, build_contract
    from appctl.sync.synced import Synced

    probe = R.read_probe(found, what=what)
    made = R.routes_document(probe)
    if declared is not None:
        made = R.merge_paths(declared, made)
    document = _with_server(made.document, found)
    loaded = Loaded(document, R.document_digest(document), location, base="", is_url=False)
    options = SyncOptions(
        include=context.include,
        exclude=context.exclude,
        base_url=base_url,
        progress=context.progress,
    )
    result = build_contract(loaded, options)
    schema = R.mark_inferred(result.schema, made.inferred)
    kept = {a.pointer for a in schema.actions()}
    own = tuple(d for d in made.diagnostics if not d.pointer or d.pointer in kept)
    return Built(
        Synced(schema=schema),
        (*own, *result.diagnostics),
        result.operations,
        result.filtered,
        "operation",
        notes=made.notes,
    )


def _with_server(document: dict[str, Any], found: Mapping[str, Any]) -> dict[str, Any]:
    """Flask's ``SERVER_NAME`` (+ ``APPLICATION_ROOT``) as the document's server."""
    name = found.get("server_name")
    if not isinstance(name, str) or not name or document.get("servers"):
        return document
    root = found.get("application_root")
    path = root.rstrip("/") if isinstance(root, str) else ""
    return {**document, "servers": [{"url": f"http://{name}{path}"}]}


def build_models(
    found: Mapping[str, Any],
    *,
    project: Path,
    context: BuildContext,
    password_env: str | None = None,
) -> Built:
    """``found``: the models probe's result; ``project``: the folder Django ran in (a
    relative SQLite NAME is relative to it)."""
    from appctl.sync.db.build import build_contract
    from appctl.sync.db.reflect import reflect
    from appctl.sync.db.url import parse_dsn
    from appctl.sync.synced import Synced

    probe = M.read_probe(found)
    chosen = M.choose_models(probe, include=context.include, exclude=context.exclude)
    if not chosen.models:
        raise UsageError(
            f"{probe.settings} has no models to sync",
            suggestion="Check INSTALLED_APPS, and --include/--exclude (Django's own apps' "
            "tables are synced only when --include names them).",
        )
    dsn = M.database_dsn(probe.database, project=project)
    try:
        parsed = parse_dsn(
            dsn, root=context.app_dir.parent, password_env=password_env, environ=context.environ
        )
    except UsageError as exc:
        if exc.message.startswith(NOT_FOUND):
            exc.suggestion = "Run `manage.py migrate` to create it, or check DATABASES."
        raise
    reflected = reflect(parsed.connect, include=M.table_patterns(list(chosen.models)))
    tables = [M.overlay(t, chosen.models[t.name]) for t in reflected.tables]
    db = build_contract(
        dataclasses.replace(reflected, tables=tables),
        stored_url=parsed.stored,
        password_env=parsed.password_env,
    )
    db.document["source"]["title"] = f"Django models of {probe.settings}"
    missing = M.missing_tables(chosen, reflected.tables)
    notes = (*chosen.notes, *_password_note(probe, parsed.password_env, context.environ))
    return Built(
        Synced(db=db),
        (*missing, *db.diagnostics),
        len(probe.models),
        len(chosen.left_out),
        "model",
        notes=notes,
    )


def _password_note(
    probe: M.ModelsProbe, variable: str | None, environ: Mapping[str, str] | None
) -> tuple[str, ...]:
    if not probe.database.password.get_secret_value() or variable is None:
        return ()
    if environ is not None and environ.get(variable):
        return ()
    return (
        "the password in the settings was used for this sync and is not written down: "
        f"calls read it from {variable} (or the variable --password-env names)",
    )
