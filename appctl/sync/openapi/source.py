"""``sync.sources.OpenAPI``'s build: read the document, check its structure when asked
(``--strict``), build the contract and carry the base URL chosen at the last sync."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from appctl.errors import REPAIR
from appctl.sync.openapi.baseurl import carry_base_url
from appctl.sync.openapi.load import Budget, load
from appctl.sync.openapi.parse import SyncOptions, build_contract
from appctl.sync.source import BuildContext, Built
from appctl.sync.synced import Synced

if TYPE_CHECKING:
    from appctl.errors import Diagnostic
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
    problems, notes = _structure(loaded.document) if context.strict else ((), ())
    result = build_contract(loaded, options)
    repaired = {d.pointer for d in result.diagnostics if d.kind == REPAIR}
    problems = tuple(p for p in problems if p.pointer not in repaired)  # said better there
    carried = carry_base_url(result.schema, result.diagnostics, context.app_dir, source.base_url)
    return Built(
        Synced(schema=carried.schema),
        (*problems, *carried.diagnostics),
        result.operations,
        result.filtered,
        "operation",
        notes=(*notes, *carried.notes),
    )


def _structure(document: Any) -> tuple[tuple[Diagnostic, ...], tuple[str, ...]]:
    """``--strict``: the document's breaks of the OpenAPI structure, and a note when its
    version is not one the check covers."""
    from appctl.sync.openapi import structure

    problems = tuple(structure.structure_problems(document))
    return problems, () if structure.version_checked(document) else (structure.NOT_CHECKED,)
