"""Sources → contract. ``run`` syncs any source of the table in ``sources.py`` (OpenAPI
documents: ``openapi/``; databases: ``db/``) into an app directory and returns what it did::

    from appctl.sync import Database, OpenAPI, run
    outcome = run(OpenAPI("openapi.yaml"), app_dir=Path(".appctl"))
    outcome = run(Database("app.db"), app_dir=Path(".appctl"), check=True)

Importing this package is cheap: each source's reader is imported when it is built.
"""

from appctl.sync.source import BuildContext, Built, Progress, Source, SourceEntry, SourceOption
from appctl.sync.sources import SOURCES, Database, OpenAPI
from appctl.sync.usecase import Drift, SyncOutcome, run

__all__ = [
    "SOURCES",
    "BuildContext",
    "Built",
    "Database",
    "Drift",
    "OpenAPI",
    "Progress",
    "Source",
    "SourceEntry",
    "SourceOption",
    "SyncOutcome",
    "run",
]
