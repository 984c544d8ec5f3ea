"""``sync.sources.OpenAPI``'s build: read the document, build the contract and carry the base
URL chosen at the last sync."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from appctl.sync.openapi.baseurl import carry_base_url
from appctl.sync.openapi.load import Budget, load
from appctl.sync.openapi.parse import SyncOptions, build_contract
from appctl.sync.source import BuildContext, Built
from appctl.sync.synced import Synced

if TYPE_CHECKING:
    from appctl.sync.sources import OpenAPI


def build(source: OpenAPI, context: BuildContext) -> Built:
    budget = Budget()
    if source.max_bytes:
        budget = replace(budget, max_bytes=source.max_bytes)
    if source.max_nodes:
        budget = replace(budget, max_nodes=source.max_nodes)
    options = SyncOptions(
        include=context.include,
        exclude=context.exclude,
        base_url=source.base_url,
        budget=budget,
        progress=context.progress,
    )
    loaded = load(source.location, budget=budget)
    result = build_contract(loaded, options)
    carried = carry_base_url(result.schema, result.diagnostics, context.app_dir, source.base_url)
    return Built(
        Synced(schema=carried.schema),
        carried.diagnostics,
        result.operations,
        result.filtered,
        "operation",
        notes=carried.notes,
    )
