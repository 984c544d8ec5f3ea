"""A probe's report of what went wrong → the ``AppctlError`` it stands for, one small function
per kind of report (``probes/_appctl_probe.py`` writes them):

  UsageError   not_found (no such module), no_attribute, unsupported (not an app appctl
               reads), no_generator (a framework that needs one configured), usage
  SourceError  raised (the import raised), missing_module (a framework, or another module the
               app needs, is not installed for that interpreter), generator (the framework's
               OpenAPI generator raised), anything else
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from appctl.errors import AppctlError, SourceError, UsageError, did_you_mean

FRAMEWORKS = {  # top-level module → the distribution to install
    "fastapi": "fastapi",
    "starlette": "starlette",
    "litestar": "litestar",
    "ninja": "django-ninja",
    "flask": "Flask",
    "apiflask": "APIFlask",
    "flask_smorest": "flask-smorest",
    "django": "Django",
    "rest_framework": "djangorestframework",
    "drf_spectacular": "drf-spectacular",
}
PYTHON_HINT = "Pass --python with the interpreter of the app's virtualenv (its bin/python)."
SUPPORTED = (
    "appctl reads FastAPI, Starlette (with a SchemaGenerator), Litestar, Django Ninja, "
    "APIFlask and flask-smorest apps, and DRF projects (--django); for another, serve or "
    "export its OpenAPI document and use --openapi."
)


@dataclass(frozen=True, slots=True)
class Report:
    facts: Mapping[str, Any]
    python: str
    target: str

    @property
    def message(self) -> str:
        return str(self.facts.get("message", "")) or "no message"

    @property
    def where(self) -> str:
        """`` (app.py:7)``: the app's line the error came from, when the probe found it."""
        return f" ({self.facts['where']})" if self.facts.get("where") else ""

    @property
    def module(self) -> str:
        return str(self.facts.get("module", ""))


def failure(facts: Mapping[str, Any], *, python: str, target: str) -> AppctlError:
    """The error a probe's report stands for."""
    report = Report(facts, python, target)
    return _BY_KIND.get(str(facts.get("kind", "")), _other)(report)


def _missing(report: Report) -> AppctlError:
    top = report.module.split(".")[0]
    if top not in FRAMEWORKS:
        return SourceError(
            f"importing {report.target} failed: {report.message}{report.where}",
            suggestion=PYTHON_HINT,
        )
    return SourceError(
        f"{top} is not installed for {report.python} (importing {report.target}: "
        f"{report.message}{report.where})",
        suggestion=f"{PYTHON_HINT} Or install {FRAMEWORKS[top]} into the one given.",
    )


def _raised(report: Report) -> AppctlError:
    module = report.target.split(":")[0]
    return SourceError(
        f"importing {report.target} raised {report.message}{report.where}",
        suggestion=f"Fix the error (run `{report.python} -c 'import {module}'` in the project "
        "to see the whole traceback); nothing was written.",
    )


def _not_found(report: Report) -> AppctlError:
    return UsageError(
        f"{report.python} finds no module {report.module!r} for {report.target} in the project "
        "directory",
        suggestion="Run appctl from the project's directory (the one the module is imported "
        "from), or pass --project DIR, or --python with the app's interpreter.",
    )


def _no_attribute(report: Report) -> AppctlError:
    names = report.facts.get("names") or []
    hint = did_you_mean(str(report.facts.get("attribute", "")), names)
    return UsageError(f"{report.message}.{hint}", suggestion="Give --app as module:attribute.")


def _generator(report: Report) -> AppctlError:
    framework = report.facts.get("framework", "the framework")
    return SourceError(
        f"{framework}'s OpenAPI generator raised {report.message}{report.where}",
        suggestion="Fix the app so that its own OpenAPI document builds (its docs page fails "
        "the same way), or export the document and use --openapi.",
    )


def _no_generator(report: Report) -> AppctlError:
    return UsageError(
        report.message,
        suggestion="Give the app its OpenAPI generator (Starlette: a "
        "starlette.schemas.SchemaGenerator in the app's module, each endpoint's docstring its "
        "YAML; Litestar: an openapi_config), or serve or export its OpenAPI document and use "
        "--openapi.",
    )


def _unsupported(report: Report) -> AppctlError:
    return UsageError(report.message, suggestion=SUPPORTED)


def _other(report: Report) -> AppctlError:
    return SourceError(f"reading {report.target} failed: {report.message}{report.where}")


_BY_KIND: dict[str, Callable[[Report], AppctlError]] = {
    "missing_module": _missing,
    "raised": _raised,
    "not_found": _not_found,
    "no_attribute": _no_attribute,
    "generator": _generator,
    "no_generator": _no_generator,
    "unsupported": _unsupported,
    "usage": _unsupported,
}
