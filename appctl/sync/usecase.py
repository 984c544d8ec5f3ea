"""Sync as a library call: source → contract → overrides → .appctl/schema.json (+ tools.json).

``run(source, app_dir=...)`` builds the contract from any source of ``sync/sources.py``,
applies overrides.yaml, checks each tool against what its consumers accept, then writes
schema.json (and tools.json when asked for or already there), each atomically, and returns a
``SyncOutcome``: what was written, the warnings, the tools, the changes since the last sync.
With ``check`` it writes nothing and returns the drift from the committed contract instead.
It prints nothing and raises only ``AppctlError``s (``StrictError`` with the problems under
``strict``); ``appctl sync`` (cli/sync.py) is its thin front end::

    from appctl.sync import OpenAPI, run
    outcome = run(OpenAPI("openapi.yaml"), app_dir=Path(".appctl"), check=True)
    if outcome.drift: print(outcome.drift.changes.summary())
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from appctl.errors import REPAIR, STRUCTURE, ContractError, Diagnostic, StrictError, UsageError
from appctl.sync.source import SILENT, BuildContext, Progress, Source

if TYPE_CHECKING:
    from appctl.contract.diff import ContractDiff
    from appctl.contract.models import Contract
    from appctl.contract.overrides import Overrides
    from appctl.sync.synced import Synced


@dataclass(frozen=True, slots=True)
class Drift:
    """How the contract built from the source differs from the committed one."""

    changes: ContractDiff  # tools added, removed, changed; settings changed
    diff: tuple[str, ...]  # a unified diff of the two files, cut to diff.MAX_DIFF_LINES


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What one sync did (or, with ``check``, found)."""

    schema_path: Path
    actions: tuple[str, ...]  # every tool's name, sorted
    resources: int
    counted: int  # operations, tables, ... in the source, before filters
    noun: str  # what ``counted`` counts
    filtered: int
    warnings: tuple[Diagnostic, ...]
    notes: tuple[str, ...]  # information that is not a warning (a base URL carried over)
    written: tuple[Path, ...] = ()  # empty under ``check``
    checked: bool = False
    drift: Drift | None = None  # ``check`` only: None when the contract is up to date
    changes: ContractDiff | None = None  # since the contract this sync replaced, if any
    override_notes: tuple[str, ...] = ()  # override text tools.json does not carry whole
    inferred: Mapping[str, tuple[str, ...]] | None = None  # safety → tool names it inferred

    def summary(self) -> str:
        """One line: "synced 2 resources, 7 actions, 7 operations in the source, ... → path"."""
        parts = [
            _count(self.resources, "resource"),
            _count(len(self.actions), "action"),
            _count(self.counted, self.noun) + " in the source",
        ]
        if self.filtered:
            parts.append(f"{self.filtered} filtered out")
        parts.append(_count(len(self.warnings), "warning"))
        return f"synced {', '.join(parts)} → {self.schema_path}"


def run(
    source: Source,
    *,
    app_dir: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    check: bool = False,
    strict: bool = False,
    force: bool = False,
    tools: bool = False,
    progress: Progress | None = None,
    environ: Mapping[str, str] | None = None,
    name: str | None = None,
) -> SyncOutcome:
    """Sync ``source`` into ``app_dir`` (the .appctl directory).

    ``include``/``exclude``: patterns of operations (tag, path glob, operationId, tool name)
    or table names to keep or drop. ``check``: write nothing; compare with the committed
    contract (``SyncOutcome.drift``). ``strict``: refuse a source that needed repairs or
    breaks the OpenAPI structure (``StrictError``). ``force``: replace a contract that came
    from another source. ``tools``: write tools.json even if it is not there yet.
    ``environ``: where credentials are read (default: ``os.environ``). ``name``: a named
    source, kept in ``app_dir/sources/NAME/`` beside the others, its tools ``NAME_<tool>``
    (contract/sources.py); the unnamed source's files and every other's are left as they are."""
    from appctl.contract import io
    from appctl.contract.sources import source_dir

    shown = progress or SILENT
    own = source_dir(app_dir, name)
    context = BuildContext(
        app_dir=app_dir,
        include=tuple(include),
        exclude=tuple(exclude),
        strict=strict,
        progress=shown,
        environ=os.environ if environ is None else environ,
        contract_dir=own if name else None,
    )
    built = source.build(context)
    synced, overrides = _overridden(_namespaced(built.synced, name), own)
    if strict:
        _refuse_problems(built.diagnostics)
    path = own / io.SCHEMA_FILE
    old = _committed(path, check=check)
    previous = None if check else _previous(old, path)  # check reads it only on drift
    if not check and old is not None and not force and not _same_source(previous, synced):
        _refuse_replace(path, previous)
    if not check:
        _refuse_clashes(app_dir, name, synced)
    shown.phase("checking the tools")
    tools_path = own / io.TOOLS_FILE
    writes_tools = tools or tools_path.exists()
    warnings = (*built.diagnostics, *_consumer_check(synced, keep=writes_tools))
    shown.phase(f"writing {io.SCHEMA_FILE}")
    new = synced.dump()
    resources, _ = synced.counts()
    counted = (built.counted, built.noun, built.filtered)
    outcome = SyncOutcome(path, synced.action_names(), resources, *counted, warnings, built.notes)
    if old is not None and check:
        return replace(outcome, checked=True, drift=_drift(old, new, path))
    files = {path: new, **({tools_path: synced.tools()} if writes_tools else {})}
    for file, data in files.items():  # both made before either is written
        io.write_atomic(file, data)
    return replace(
        outcome,
        written=tuple(files),
        changes=_changes(previous, synced),
        override_notes=_override_notes(overrides, synced.schema) if overrides else (),
        inferred=synced.inferred(),
    )


def _namespaced(synced: Synced, name: str | None) -> Synced:
    """A named source's tools as ``<name>_<tool>`` (contract/sources.py)."""
    if not name:
        return synced
    from appctl.contract.sources import namespaced
    from appctl.sync.synced import Synced

    return Synced(schema=namespaced(synced.schema, name))


def _refuse_clashes(app_dir: Path, name: str | None, synced: Synced) -> None:
    """Refuse a sync whose tool names another source of the app dir has: the app dir could
    not be loaded (contract/sources.py)."""
    from appctl.contract.sources import clash_error, taken_elsewhere

    taken = taken_elsewhere(app_dir, name, synced.action_names())
    if taken:
        tool, other = min(taken.items())
        raise clash_error(tool, other, name or "")


def _overridden(synced: Synced, app_dir: Path) -> tuple[Synced, Overrides | None]:
    """The contract with overrides.yaml applied, if there is one."""
    from appctl.contract.io import OVERRIDES_FILE
    from appctl.contract.overrides import apply_overrides, load_overrides

    overrides = load_overrides(app_dir / OVERRIDES_FILE)
    if overrides is None:
        return synced, None
    from appctl.sync.synced import Synced

    return Synced(schema=apply_overrides(synced.schema, overrides)), overrides


def _committed(path: Path, *, check: bool) -> bytes | None:
    """The committed contract's bytes; ``check`` needs one."""
    if path.exists():
        return path.read_bytes()
    if check:
        raise ContractError(
            f"no committed contract at {path} to check against",
            suggestion="Run `appctl sync` without --check first and commit it.",
        )
    return None


def _changes(previous: Contract | None, synced: Synced) -> ContractDiff | None:
    if previous is None:
        return None
    from appctl.contract import diff

    return diff.compare(previous, synced.schema)


def _consumer_check(synced: Synced, *, keep: bool) -> list[Diagnostic]:
    """Each tool as OpenAI (strict), Gemini and the JSON Schema formats emit it, checked
    against what that consumer accepts (``generate.check``). With ``keep`` the tools are
    built once and kept for tools.json; else each is let go once checked."""
    from appctl.generate.check import consumer_problems

    return consumer_problems(synced.specs() if keep else synced.each_spec())


def _refuse_problems(diagnostics: tuple[Diagnostic, ...]) -> None:
    """``strict``: the repairs sync made and the breaks of the OpenAPI structure are errors;
    nothing is written."""
    problems = tuple(
        replace(d, level="error") for d in diagnostics if d.kind in (STRUCTURE, REPAIR)
    )
    if not problems:
        return
    repairs = sum(1 for d in problems if d.kind == REPAIR)
    breaks = len(problems) - repairs
    found = []
    if breaks:
        found.append(f"breaks the OpenAPI structure in {_count(breaks, 'place')}")
    if repairs:
        found.append(f"needed {_count(repairs, 'repair')} to be valid")
    accept = (
        "to sync what can be read (the structure is checked only with --strict)"
        if breaks
        else "to accept the repairs (each stays a warning)"
    )
    raise StrictError(
        f"--strict: the source {' and '.join(found)}; nothing was written",
        problems=problems,
        suggestion="Fix the document at the pointers named above, or sync without --strict "
        f"{accept}.",
    )


def _previous(old: bytes | None, path: Path) -> Contract | None:
    from appctl.contract import io

    if old is None:
        return None
    try:
        return io.parse_schema(old, origin=str(path))
    except ContractError:
        return None


def _same_source(previous: Contract | None, synced: Synced) -> bool:
    return (
        previous is not None and (previous.source.kind, previous.source.location) == synced.source
    )


def _refuse_replace(path: Path, previous: Contract | None) -> None:
    origin = f"from {previous.source.location}" if previous else "that could not be read"
    raise UsageError(
        f"{path} already holds a contract {origin}",
        suggestion="Pass --force to replace it, or --app-dir to write somewhere else.",
    )


def _drift(old: bytes, new: bytes, path: Path) -> Drift | None:
    if old == new:
        return None
    from appctl.contract import diff, io

    rebuilt = io.parse_schema(new, origin="the rebuilt contract")
    changes = diff.compare(_previous(old, path), rebuilt)
    return Drift(changes, tuple(diff.unified(old, new, name=path.name)))


def _override_notes(overrides: Overrides, schema: Contract) -> tuple[str, ...]:
    """Tools whose summary or description from overrides.yaml tools.json does not carry
    whole."""
    from appctl.generate.notices import overrides_not_carried

    return tuple(overrides_not_carried(overrides, schema))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
