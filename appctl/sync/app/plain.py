"""What the plain-app probes found → what ``source.py`` compiles, for plain Flask and
Django views and for Django models.

``routes_made``: a plain Flask or Django URL map (``routes.py``) as an OpenAPI document for
the one OpenAPI compiler (``source._compiled``), added to DRF's document when the project has
one; ``inferred`` then marks the URL map's actions ``inferred``. ``build_models``: a Django
project's models through ``sync/db`` (``models.py``), against the database its settings name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appctl.errors import UsageError
from appctl.sync.app import models as M
from appctl.sync.app import routes as R
from appctl.sync.source import BuildContext, Built

if TYPE_CHECKING:
    from appctl.sync.db.url import Dsn

NOT_FOUND = "no SQLite database at "


@dataclass(frozen=True, slots=True)
class Made:
    """A URL map made into what ``source._compiled`` compiles: ``found`` as a probe that
    generated a document would give it, ``what`` was read, and the ``routes`` document (its
    inferred operations, warnings and notes) for ``inferred``."""

    found: dict[str, Any]
    what: str
    routes: R.RoutesDocument


def routes_made(
    found: Mapping[str, Any], *, what: str, declared: Mapping[str, Any] | None = None
) -> Made:
    """The routes probe's result (``found``) as an OpenAPI document; ``declared``: the DRF
    probe's result, whose document (when it has one) the plain views are added to. ``what``
    names the app in messages."""
    probe = R.read_probe(found, what=what)
    made = R.routes_document(probe)
    document = declared.get("document") if declared is not None else None
    if declared is not None and isinstance(document, dict):
        made = R.merge_paths(document, made)  # the DRF probe's facts (its warnings) kept
        return Made({**declared, "document": made.document}, "OpenAPI document and URL map", made)
    if not made.document["paths"]:
        reason = declared.get("reason") if declared is not None else None
        raise UsageError(
            f"{what}: the URL map has no views to sync" + (f" ({reason})" if reason else ""),
            suggestion="Check the URLconf (ROOT_URLCONF) or the app's routes, or sync its "
            "OpenAPI document with --openapi.",
        )
    document = _with_server(made.document, found)
    made = dataclasses.replace(made, document=document)
    return Made(
        {"framework": probe.framework, "version": probe.version, "document": document},
        "URL map",
        made,
    )


def inferred(built: Built, made: Made) -> Built:
    """``built`` (the compiled document) with the URL map's actions marked ``inferred``, its
    warnings (of the actions kept) first and its notes added."""
    from appctl.sync.synced import Synced

    schema = R.mark_inferred(built.synced.schema, made.routes.inferred)
    kept = {a.pointer for a in schema.actions()}
    own = tuple(d for d in made.routes.diagnostics if not d.pointer or d.pointer in kept)
    return dataclasses.replace(
        built,
        synced=Synced(schema=schema),
        diagnostics=(*own, *built.diagnostics),
        notes=(*built.notes, *made.routes.notes),
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
    from appctl.sync.synced import Synced

    probe = M.read_probe(found)
    chosen = M.choose_models(probe, include=context.include, exclude=context.exclude)
    if not chosen.models:
        raise UsageError(
            f"{probe.settings} has no models to sync",
            suggestion="Check INSTALLED_APPS, and --include/--exclude (Django's own apps' "
            "tables are synced only when --include names them).",
        )
    parsed = _dsn(M.database_dsn(probe.database, project=project), context, password_env)
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


def _dsn(dsn: str, context: BuildContext, password_env: str | None) -> Dsn:
    """The settings' database as ``sync/db`` connects to it and writes it down."""
    from appctl.sync.db.url import parse_dsn

    try:
        return parse_dsn(
            dsn, root=context.app_dir.parent, password_env=password_env, environ=context.environ
        )
    except UsageError as exc:
        if exc.message.startswith(NOT_FOUND):
            exc.suggestion = "Run `manage.py migrate` to create it, or check DATABASES."
        raise


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
