"""Per-tool concurrency and rate limits, process-wide, without blocking: over a limit, a
call is answered ``rate_limited`` at once (a server has no terminal to wait on).

A ``Limiter`` counts them; ``PROCESS`` counts in this process (the default). When the history
database is PostgreSQL or MariaDB, a session counts in it instead (``execute/sharedlimits.py``),
so every instance sharing it enforces one limit.

``DEFAULT_WAIT``: seconds a long-running operation is polled in all when no rule of
config.yaml sets its ``wait`` (``Limits.wait``)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from appctl.config import Limits

DEFAULT_WAIT = 60.0

_lock = threading.Lock()
_running: dict[str, int] = {}
_recent: dict[str, deque[float]] = {}


class OverLimit(Exception):
    """The message says which limit and when to try again."""


class Limiter(Protocol):
    def admitted(self, tool: str, limits: Limits) -> AbstractContextManager[None]:
        """Holds a place for one call of ``tool`` while open; raises ``OverLimit`` when
        the call is over one of its limits (never waits long for a place)."""
        ...


class ProcessLimiter:
    """Counts in this process (``admitted``)."""

    def admitted(self, tool: str, limits: Limits) -> AbstractContextManager[None]:
        return admitted(tool, limits)


PROCESS: Limiter = ProcessLimiter()


def rate_window(per_second: float) -> tuple[float, int]:
    """The sliding window a rate limit is counted over (seconds) and the calls it allows in
    it: one second for a rate of at least one a second, else one call per 1/rate seconds."""
    window = 1.0 if per_second >= 1 else 1.0 / per_second
    return window, max(1, round(per_second * window))


@contextmanager
def admitted(tool: str, limits: Limits) -> Iterator[None]:
    if limits.per_second is None and limits.max_concurrency is None:
        yield  # nothing to count against
        return
    with _lock:
        _check_rate(tool, limits)
        _check_concurrency(tool, limits)
        _running[tool] = _running.get(tool, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _running[tool] -= 1


def _check_rate(tool: str, limits: Limits) -> None:
    if limits.per_second is None:
        return
    window, allowed = rate_window(limits.per_second)
    now = time.monotonic()
    recent = _recent.setdefault(tool, deque())
    while recent and now - recent[0] > window:
        recent.popleft()
    if len(recent) >= allowed:
        wait = window - (now - recent[0])
        raise OverLimit(f"{tool} is over its rate limit; try again in {wait:.1f} s")
    recent.append(now)


def _check_concurrency(tool: str, limits: Limits) -> None:
    if limits.max_concurrency is not None and _running.get(tool, 0) >= limits.max_concurrency:
        raise OverLimit(
            f"{tool} already has {limits.max_concurrency} call(s) running, "
            "its limit; try again when one finishes"
        )
