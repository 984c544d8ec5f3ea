"""``sync --watch``: re-sync whenever what a source reads changes, by polling.

``watch(source, sync=..., context=...)`` takes a fingerprint of what the source reads every
``interval`` seconds and calls ``sync`` (the sync use case, bound to its options) when the
fingerprint changes, and once at the start. Each round's outcome, or the ``AppctlError`` that
stopped it, goes to ``report``; a failed round writes nothing (the use case writes only after
a whole build) and watching goes on. It returns when ``stop`` is set or after
``max_rounds`` syncs; Ctrl-C is the caller's to catch.

The fingerprint of a source is, in order of preference:

- the files it names: ``source.watched_paths(context)`` when the source has it (the web app
  sources: the project's ``*.py``), else an OpenAPI document's file and the JSON/YAML files
  beside it (relative ``$ref``s), hashed by content;
- an OpenAPI document at a URL: the bytes it serves;
- anything else (a database, a plugin, Supabase): the contract a build makes, i.e. the
  reflected schema; a build that fails is fingerprinted by its error, so that a fix is seen.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from appctl.errors import AppctlError
from appctl.sync.source import BuildContext, Source

if TYPE_CHECKING:
    from appctl.sync.usecase import SyncOutcome

DEFAULT_INTERVAL = 1.0
SKIPPED_DIRS = frozenset((".git", ".venv", "venv", "node_modules", "__pycache__", ".appctl"))
MAX_FILES = 5000  # the most files one fingerprint reads (a project tree, not a disk)
DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")


@runtime_checkable
class Watched(Protocol):
    """A source that names the files it reads (``--app``: the project's ``*.py``)."""

    def watched_paths(self, context: BuildContext) -> Iterable[Path] | None: ...


@dataclass(frozen=True, slots=True)
class Round:
    """One sync of a watch: its outcome, or the error that stopped it (nothing written)."""

    number: int
    outcome: SyncOutcome | None = None
    error: AppctlError | None = None


def watch(
    source: Source,
    *,
    sync: Callable[[], SyncOutcome],
    context: BuildContext,
    report: Callable[[Round], None],
    interval: float = DEFAULT_INTERVAL,
    stop: threading.Event | None = None,
    max_rounds: int | None = None,
) -> int:
    """Sync now and again each time the source changes; returns the number of syncs."""
    stop = stop or threading.Event()
    last: str | None = None
    rounds = 0
    while not stop.is_set():
        now = fingerprint(source, context)
        if now != last:
            last = now
            rounds += 1
            try:
                report(Round(rounds, outcome=sync()))
            except AppctlError as exc:
                report(Round(rounds, error=exc))
            if max_rounds is not None and rounds >= max_rounds:
                break
        stop.wait(interval)
    return rounds


def fingerprint(source: Source, context: BuildContext) -> str:
    """What the source reads, reduced to a hash (module docstring)."""
    if isinstance(source, Watched):
        paths = source.watched_paths(context)
        if paths is not None:  # None: this source's files do not tell (a database does)
            return _files(paths)
    from appctl.sync.sources import OpenAPI

    if isinstance(source, OpenAPI):
        if source.location.startswith(("http://", "https://")):
            return _url(source.location)
        document = Path(source.location)
        return _files([document, *_beside(document)])
    return _built(source, context)


def python_files(root: Path) -> list[Path]:
    """The ``*.py`` under ``root``, leaving out virtualenvs, caches and VCS folders (for a
    source's ``watched_paths``)."""
    found: list[Path] = []
    stack = [root]
    while stack and len(found) < MAX_FILES:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir():
                if entry.name not in SKIPPED_DIRS and not entry.name.startswith("."):
                    stack.append(entry)
            elif entry.suffix == ".py":
                found.append(entry)
    return found[:MAX_FILES]


def _beside(document: Path) -> list[Path]:
    folder = document.parent
    try:
        return sorted(p for p in folder.iterdir() if p.suffix in DOCUMENT_SUFFIXES)
    except OSError:
        return []


def _files(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(set(paths)):
        digest.update(str(path).encode("utf-8", "surrogateescape") + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            digest.update(f"unreadable: {exc.strerror}".encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _url(url: str) -> str:
    import httpx

    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=True)
    except httpx.HTTPError as exc:
        return f"unreachable: {type(exc).__name__}"
    return f"{response.status_code}:" + hashlib.sha256(response.content).hexdigest()


def _built(source: Source, context: BuildContext) -> str:
    try:
        built = source.build(context)
    except AppctlError as exc:
        return f"error: {exc}"
    return hashlib.sha256(built.synced.dump()).hexdigest()
