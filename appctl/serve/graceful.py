"""A uvicorn server that drains before it stops, for ``appctl mcp --transport http``.

On SIGTERM or Ctrl-C, ``DrainingServer`` stops accepting and closes idle connections, waits
until its ``Outbox`` owes no result (at most ``grace`` seconds: calls in flight finish and
their results go out on the streams they were asked on), and only then ends the SSE streams
still open. sse-starlette would otherwise end every stream at the signal, results in flight
with them, while the history said the calls went well. A stop is an exit with status 0: the
signal is not raised again once it has been handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

from appctl.serve.drain import ASGI, Outbox

CLOSE_MARGIN = 5.0  # seconds past the grace for the streams left to close once told to
POLL = 0.05  # seconds between looks at the results still owed


class DrainingServer(uvicorn.Server):
    """uvicorn's server: on a stop signal, finish and deliver the calls in flight first."""

    def __init__(self, config: uvicorn.Config, *, outbox: Outbox, grace: float) -> None:
        super().__init__(config)
        self.outbox = outbox
        self.grace = outbox.grace = grace

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        from sse_starlette.sse import AppStatus

        for server in self.servers:  # stop accepting; idle keep-alive connections close
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = asyncio.get_running_loop().time() + self.grace
        while self.outbox.pending and not self.force_exit:  # a second Ctrl-C: stop now
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(POLL)
        self.outbox.stopping = True
        AppStatus.should_exit = True  # now end the SSE streams still open
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, without raising the signal again after the drained stop (exit 0)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def draining_config(app: ASGI, *, grace: float) -> uvicorn.Config:
    """The uvicorn config for an ``Outbox``-wrapped MCP app: SSE streams stay open on a stop
    signal until ``DrainingServer`` ends them."""
    from sse_starlette.sse import AppStatus

    AppStatus.enable_automatic_graceful_drain = False
    AppStatus.should_exit = False
    return uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=math.ceil(grace + CLOSE_MARGIN),
    )
