"""Sources → contract. ``run`` syncs any source of the table in ``sources.py`` (OpenAPI
documents: ``openapi/``; databases: ``db/``; Python web apps: ``app/``) into an app
directory and returns what it did::

    from appctl.sync import Database, OpenAPI, run
    outcome = run(OpenAPI("openapi.yaml"), app_dir=Path(".appctl"))
    outcome = run(Database("app.db"), app_dir=Path(".appctl"), check=True)

The names below are imported when first used: the executor imports ``sync.db`` modules for
its SQL path, and that must not load the sync use case.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appctl.sync.source import (
        BuildContext,
        Built,
        Progress,
        Source,
        SourceEntry,
        SourceOption,
    )
    from appctl.sync.sources import SOURCES, App, Database, Django, OpenAPI
    from appctl.sync.usecase import Drift, SyncOutcome, run

_HOMES = {
    **dict.fromkeys(
        ("BuildContext", "Built", "Progress", "Source", "SourceEntry", "SourceOption"),
        "appctl.sync.source",
    ),
    **dict.fromkeys(("SOURCES", "App", "Database", "Django", "OpenAPI"), "appctl.sync.sources"),
    **dict.fromkeys(("Drift", "SyncOutcome", "run"), "appctl.sync.usecase"),
}
__all__ = [
    "SOURCES",
    "App",
    "BuildContext",
    "Built",
    "Database",
    "Django",
    "Drift",
    "OpenAPI",
    "Progress",
    "Source",
    "SourceEntry",
    "SourceOption",
    "SyncOutcome",
    "run",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'appctl.sync' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
