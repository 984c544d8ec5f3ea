"""A progress bar for long syncs: on stderr, only on a terminal, only once a second has passed.

``SyncProgress`` is the ``progress`` callback of ``SyncOptions`` (told operations done and in
all). Nothing is drawn when stderr is not a terminal (pipes, CI logs, tests) or the sync ends
within ``APPCTL_PROGRESS_AFTER`` seconds (default 1): a small API syncs as silently as
before. ``rich`` is imported only when the bar is first drawn, so ``appctl --help`` and short
syncs never load it. The bar is transient: it is erased when the sync ends, leaving the
summary lines as they were.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

DELAY_ENV = "APPCTL_PROGRESS_AFTER"
DEFAULT_DELAY = 1.0


def _delay(environ: dict[str, str] | os._Environ[str]) -> float:
    try:
        return max(0.0, float(environ.get(DELAY_ENV, DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


class SyncProgress:
    """Draws ``label`` with a bar of operations; ``close`` (or the context manager) erases it."""

    def __init__(self, label: str, *, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty()
        self._label = label
        self._after = time.monotonic() + _delay(os.environ)
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            if time.monotonic() < self._after:
                return
            self._start(total)
        assert self._bar is not None and self._task is not None
        self._bar.update(self._task, completed=done, total=total)

    def phase(self, label: str) -> None:
        """Say what happens after the operations (writing the contract); shown only if the
        bar is showing already."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=label)

    def _start(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("operations"),
            TimeElapsedColumn(),
            console=Console(file=self._stream, force_terminal=True),  # checked in __init__
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self._label, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> SyncProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StatusLine:
    """One line on stderr saying how a call is getting on (``CallOptions.progress``: a
    long-running operation being polled), rewritten in place; only on a terminal; erased by
    ``close`` (or the context manager), so the result prints as it would without it."""

    def __init__(self, *, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty()
        self._shown = False

    def __call__(self, message: str) -> None:
        if not self._enabled:
            return
        import shutil

        width = shutil.get_terminal_size((80, 24)).columns
        text = "".join(c if c.isprintable() else " " for c in message)[: max(width - 1, 10)]
        self._stream.write("\r\x1b[2K" + text)
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()
            self._shown = False

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
