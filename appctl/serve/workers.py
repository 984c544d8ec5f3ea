"""Worker threads for tool calls in ``appctl serve`` and ``appctl mcp --transport http``.

A call blocks a thread for as long as its upstream holds it (at most its deadline). With
anyio's shared default limiter (40 threads), 40 calls to one slow upstream would leave every
other tool, and anything else run in a thread, waiting in a queue with no end. So calls get
a limiter of their own, with two bounds checked at once, never queued behind:

- ``capacity`` threads for all calls together (default 32);
- ``share`` of them for any one tool (default a quarter), so a slow upstream behind one
  tool cannot take the threads that the other tools' calls need.

A call over either bound is answered at once as ``rate_limited`` ("busy, try again in a
moment"; HTTP 429 with Retry-After from ``serve``) rather than queued: a queue would only
move the wait to a place with no deadline. Admission runs on the event loop's thread, so
plain counters suffice.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.to_thread

from appctl.execute.result import ErrorCategory, ToolResult

CAPACITY = 32
RETRY_AFTER = 1  # seconds, for the Retry-After header of a busy answer


class Workers:
    def __init__(self, capacity: int = CAPACITY, share: int | None = None) -> None:
        self.capacity = capacity
        self.share = share or max(1, capacity // 4)
        self.running: dict[str, int] = {}
        self._total = 0
        self._limiter: anyio.CapacityLimiter | None = None  # made inside the event loop

    def busy(self, tool: str) -> ToolResult | None:
        """Why a call of ``tool`` cannot start now, or None."""
        if self.running.get(tool, 0) >= self.share:
            message = (
                f"{tool} already has {self.share} calls running, its share of this server's "
                f"{self.capacity} workers (its upstream may be slow); try again in a moment"
            )
        elif self._total >= self.capacity:
            message = (
                f"all {self.capacity} workers of this server are busy with other calls; "
                "try again in a moment"
            )
        else:
            return None
        return ToolResult.failure(tool, ErrorCategory.RATE_LIMITED, message)

    async def run(
        self, tool: str, work: Callable[[], ToolResult], *, abandon_on_cancel: bool = False
    ) -> ToolResult:
        """``work()`` in a worker thread, or a busy answer at once. With
        ``abandon_on_cancel``, a cancelled task (a server stopping at its grace limit) stops
        waiting for the thread, which cannot be stopped."""
        refusal = self.busy(tool)
        if refusal is not None:
            return refusal
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.capacity)
        self.running[tool] = self.running.get(tool, 0) + 1
        self._total += 1
        try:
            return await anyio.to_thread.run_sync(
                work, limiter=self._limiter, abandon_on_cancel=abandon_on_cancel
            )
        finally:
            self._total -= 1
            self.running[tool] -= 1
            if not self.running[tool]:
                del self.running[tool]
