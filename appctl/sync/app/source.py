"""``sync.sources.App`` and ``Django``'s build: a probe asks the app's own framework for its
OpenAPI document, in the app's interpreter; the document then takes the OpenAPI path
(``sync/openapi``, the one compiler), and the contract records what was imported.

The contract's source is ``{"kind": "app", "location": "main:app", "framework": "fastapi"}``
(the target as given: no interpreter or project path, which differ per machine), and its
sha256 is that of the document as the framework generated it (canonical JSON).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appctl.errors import Diagnostic, SourceError, UsageError
from appctl.sync.app.run import DEFAULT_TIMEOUT, default_python, probe
from appctl.sync.source import BuildContext, Built

if TYPE_CHECKING:
    from appctl.sync.openapi.load import Loaded
    from appctl.sync.sources import App, Django

_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
NO_SERVER = (
    "the app's framework names no server URL: pass --base-url with where the app is served "
    "(e.g. http://127.0.0.1:8000, the development servers' default)"
)


def build_app(source: App, context: BuildContext) -> Built:
    module, _, attribute = source.target.partition(":")
    if not attribute or not _DOTTED.fullmatch(attribute.removesuffix("()")):
        raise UsageError(
            f"--app {source.target!r}: expected module:attribute",
            suggestion="e.g. appctl sync --app main:app (the module, then the app's variable).",
        )
    _check_module(module, "--app")
    found = _probe(source, "openapi", [source.target], context)
    if found.get("document") is None and found.get("framework") == "flask":
        return _plain_views(source, "flask_routes", source.target, context)
    return _compiled(found, location=source.target, base_url=source.base_url, context=context)


def build_django(source: Django, context: BuildContext) -> Built:
    _check_module(source.settings, "--django")
    if source.models:
        return _models(source, context)
    found = _probe(source, "drf", [source.settings], context)
    return _plain_views(source, "django_routes", source.settings, context, declared=found)


def _plain_views(
    source: App | Django,
    name: str,
    target: str,
    context: BuildContext,
    *,
    declared: Mapping[str, Any] | None = None,
) -> Built:
    """Plain Flask or Django views from the URL map (``plain.py``): inferred actions, added to
    DRF's document when ``declared`` holds one."""
    from appctl.sync.app import plain

    made = plain.routes_made(
        _probe(source, name, [target], context), what=target, declared=declared
    )
    built = _compiled(
        made.found,
        location=target,
        base_url=source.base_url,
        context=context,
        what=made.what,
    )
    return plain.inferred(built, made)


def _models(source: Django, context: BuildContext) -> Built:
    """A Django project's models as tables of the database its settings name."""
    from appctl.sync.app.plain import build_models

    found = _probe(source, "django_models", [source.settings], context)
    project = Path(source.project) if source.project else Path.cwd()
    return build_models(found, project=project, context=context, password_env=source.password_env)


def _check_module(name: str, flag: str) -> None:
    """A module name as ``import`` takes it; a file path is answered with its module name."""
    if _DOTTED.fullmatch(name):
        return
    dotted = name.removesuffix(".py").replace("/", ".").replace("\\", ".").strip(".")
    hint = f" (e.g. {dotted})" if _DOTTED.fullmatch(dotted) else ""
    raise UsageError(
        f"{flag} {name!r}: not a module name",
        suggestion=f"Give the dotted module name as Python imports it{hint}, from the "
        "project's directory.",
    )


def _probe(source: App | Django, name: str, args: list[str], context: BuildContext) -> Any:
    environ: Mapping[str, str] = context.environ if context.environ is not None else {}
    project = Path(source.project) if source.project else Path.cwd()
    if not project.is_dir():
        raise UsageError(f"--project {project}: no such directory")
    python = source.python or default_python(environ)
    timeout = float(source.timeout) if source.timeout else DEFAULT_TIMEOUT
    return probe(python, name, args, cwd=project, timeout=timeout, environ=environ)


def _compiled(
    found: Mapping[str, Any],
    *,
    location: str,
    base_url: str | None,
    context: BuildContext,
    what: str = "OpenAPI document",
) -> Built:
    """The framework's document through the OpenAPI path (``openapi/source.py``), then the
    contract's source says it came from an app."""
    from appctl.sync.openapi.load import Budget
    from appctl.sync.openapi.source import compile_loaded
    from appctl.sync.synced import Synced

    framework = str(found.get("framework", ""))
    built = compile_loaded(
        _loaded(found, location=location), context=context, base_url=base_url, budget=Budget()
    )
    schema = built.synced.schema
    origin = schema.source.model_copy(update={"kind": "app", "framework": framework})
    schema = schema.model_copy(update={"source": origin})
    said = found.get("warnings") or []
    diagnostics = (
        *(Diagnostic(f"{framework}: {w}") for w in said if isinstance(w, str)),
        *built.diagnostics,
    )
    if not schema.base_url:
        diagnostics = (*diagnostics, Diagnostic(NO_SERVER, "/servers"))
    version = f" {found['version']}" if found.get("version") else ""
    note = f"read {location}'s {what} from {framework}{version}"
    return replace(
        built, synced=Synced(schema=schema), diagnostics=diagnostics, notes=(note, *built.notes)
    )


def _loaded(found: Mapping[str, Any], *, location: str) -> Loaded:
    """The probe's document as if read from a file; its sha256 is that of its canonical JSON."""
    from appctl.sync.openapi.load import Loaded

    document = found.get("document")
    framework = found.get("framework") or "the framework"
    if document is None:
        raise UsageError(
            f"{location}: {found.get('reason') or 'the framework generates no OpenAPI document'}",
            suggestion="Serve or export the app's OpenAPI document and sync it with --openapi.",
        )
    if not isinstance(document, dict):
        raise SourceError(f"{framework}'s OpenAPI generator gave no document for {location}")
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Loaded(
        document=document,
        sha256=hashlib.sha256(raw.encode()).hexdigest(),
        location=location,
        base=str(Path.cwd() / "openapi.json"),  # only a $ref to a file would use it
        is_url=False,
    )
