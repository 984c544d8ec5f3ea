"""The base URL chosen at the last sync, carried into the new contract (an OpenAPI sync)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appctl.contract.models import Contract
    from appctl.errors import Diagnostic


@dataclass(frozen=True, slots=True)
class Carried:
    schema: Contract
    diagnostics: tuple[Diagnostic, ...]
    notes: tuple[str, ...]  # "kept the base URL ..." information, not a warning


def carry_base_url(
    synced: Contract, diagnostics: tuple[Diagnostic, ...], app_dir: Path, given: str | None
) -> Carried:
    """The base URL chosen at the last sync, kept while the source's servers are unchanged
    (contract/baseurl.py); a note says so, a warning says what changed. overrides.yaml's
    base_url, when it sets one, wins anyway: nothing is carried then."""
    from appctl.contract import io
    from appctl.contract.baseurl import carry_over
    from appctl.contract.overrides import load_overrides
    from appctl.errors import ContractError, Diagnostic

    overrides = load_overrides(app_dir / io.OVERRIDES_FILE)
    if overrides is not None and overrides.base_url:
        return Carried(synced, diagnostics, ())
    path = app_dir / io.SCHEMA_FILE
    previous = None
    if path.exists():
        try:
            previous = io.parse_schema(path.read_bytes(), origin=str(path))
        except ContractError:  # unreadable: sync says so when it refuses to replace it
            previous = None
    carried = carry_over(previous, synced, given=given)
    if carried.schema.base_url != synced.base_url:  # kept: the document's host is known
        from appctl.sync.openapi.servers import RELATIVE

        diagnostics = tuple(d for d in diagnostics if d.kind != RELATIVE)
    if carried.warning:
        diagnostics = (*diagnostics, Diagnostic(carried.warning, "/servers"))
    return Carried(carried.schema, diagnostics, (carried.note,) if carried.note else ())
