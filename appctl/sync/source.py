"""What a source is to sync: the values a source's ``build`` takes and returns, and the entry
that registers it (``sync/sources.py`` holds the table).

A source is a small frozen value naming what to read (a document, a database) with the
options only it takes; its ``build(context)`` reads it and returns the contract it made
(``Built``). Everything after the build (overrides, the consumer check, writing, the summary)
is the same for every source and lives in ``sync/usecase.py``. This module imports nothing
heavy: the CLI reads the table to make its options, and ``appctl --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from appctl.errors import Diagnostic
    from appctl.sync.synced import Synced


class Progress(Protocol):
    """Told (items done, items in all) while a source is read, then each later phase."""

    def __call__(self, done: int, total: int) -> None: ...

    def phase(self, label: str) -> None: ...


class Silent:
    """A ``Progress`` that shows nothing (the library's default)."""

    def __call__(self, done: int, total: int) -> None:
        return None

    def phase(self, label: str) -> None:
        return None


SILENT = Silent()


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What every source's build is given besides its own options."""

    app_dir: Path  # the .appctl directory (a SQLite path is relative to its parent)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    strict: bool = False  # check what only --strict checks (an OpenAPI document's structure)
    progress: Progress = SILENT
    environ: Mapping[str, str] | None = None  # where credentials are looked up
    contract_dir: Path | None = None  # where this source's schema.json is, when not app_dir
    # (a named source: contract/sources.py)

    @property
    def own_dir(self) -> Path:
        """The folder of this source's schema.json and overrides.yaml."""
        return self.contract_dir or self.app_dir


@dataclass(frozen=True, slots=True)
class Built:
    """A source's contract before overrides, with what it found on the way."""

    synced: Synced
    diagnostics: tuple[Diagnostic, ...]
    counted: int  # operations, tables, ... in the source (before filters)
    filtered: int
    noun: str  # what ``counted`` counts: "operation", "table"
    notes: tuple[str, ...] = ()  # plain information (a base URL carried over), not warnings


class Source(Protocol):
    """A source to sync: ``build`` reads it (the only I/O) and returns the contract."""

    def build(self, context: BuildContext) -> Built: ...


OptionKind = Literal["text", "count", "flag"]  # count: a whole number of at least 1


@dataclass(frozen=True, slots=True)
class SourceOption:
    """A CLI option only some sources take; ``field`` is the source's keyword argument."""

    flag: str
    field: str
    help: str
    metavar: str | None = None
    multiple: bool = False
    kind: OptionKind = "text"


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """One row of the sources table: the option that selects the source (``--openapi SRC``),
    the options only it takes, and ``make(value, **options)`` that returns the ``Source``."""

    name: str
    flag: str
    metavar: str
    help: str
    what: str  # "an OpenAPI document": for "sync ... instead"
    example: str  # "appctl sync --openapi openapi.yaml"
    make: Callable[..., Source]
    options: tuple[SourceOption, ...] = ()
