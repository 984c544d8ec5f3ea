"""The edge of OpenAPI sync: read the source, then build the contract (pure from there on)."""

from __future__ import annotations

from appctl.sync.openapi.load import load
from appctl.sync.openapi.parse import SyncOptions, SyncResult, build_contract


def sync_openapi(source: str, options: SyncOptions | None = None) -> SyncResult:
    options = options or SyncOptions()
    return build_contract(load(source, budget=options.budget), options)
