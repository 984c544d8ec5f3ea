"""Results owed to MCP clients over Streamable HTTP: a drained shutdown, and a record of every
result that never reached its client.

A tool call's result goes back on the HTTP exchange that asked for it (the POST's SSE stream
or JSON body). ``Outbox`` is ASGI middleware around the MCP app: it gives each exchange an
``Exchange`` (a context variable the SDK hands on to the request's handler), and watches the
exchange's ``send``. A call ``open``\\s a ticket when it starts and, once it has its result,
``owe``\\s that result to its exchange. The result counts as delivered when a data chunk (not
an SSE comment such as a keep-alive ping) went out after it while the client was still
connected. An exchange that ends first (the client went away, the server closed the stream at
the end of its grace) has the result recorded as undelivered, by the callback the call gave.

``appctl.serve.graceful.DrainingServer`` waits on an ``Outbox`` when it is told to stop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

Record = Callable[[str], None]  # records a result as undelivered, given the reason
Scope = dict[str, Any]
ASGI = Callable[[Scope, Any, Any], Any]

_EXCHANGE: ContextVar[Exchange | None] = ContextVar("appctl_mcp_exchange", default=None)


@dataclass(eq=False)
class Exchange:
    """One HTTP request to the MCP endpoint, and the results it still has to carry back."""

    outbox: Outbox
    owed: list[Record] = field(default_factory=list)
    gone: bool = False  # the client disconnected
    ended: bool = False

    def delivered(self) -> None:
        self.outbox._settle(len(self.owed))
        self.owed.clear()

    def end(self) -> None:
        self.ended = True
        for record in self.owed:
            self.outbox._lose(record, self)
        self.delivered()


class Ticket:
    """One call in flight: counted until its result is delivered, or recorded as not."""

    def __init__(self, outbox: Outbox, exchange: Exchange | None) -> None:
        self.outbox, self.exchange, self.open = outbox, exchange, True

    def owe(self, record: Record | None) -> None:
        """The call is over; ``record`` (None: there is no result) is called if its result
        does not reach the client."""
        if not self.open:
            return
        self.open = False
        exchange = self.exchange
        if record is None or exchange is None:  # stdio, or nothing to deliver
            self.outbox._settle(1)
        elif exchange.ended:
            self.outbox._lose(record, exchange)
            self.outbox._settle(1)
        else:
            exchange.owed.append(record)


class Outbox:
    """ASGI middleware counting results owed to clients (see the module docstring)."""

    def __init__(self) -> None:
        self.app: ASGI | None = None
        self.pending = 0  # calls running, or done with their result not yet delivered
        self.stopping = False
        self.late = 0  # results recorded as undelivered once the server was stopping
        self.grace = 0.0

    def wrap(self, app: ASGI) -> Outbox:
        self.app = app
        return self

    def open(self) -> Ticket:
        self.pending += 1
        return Ticket(self, _EXCHANGE.get())

    def _settle(self, count: int) -> None:
        self.pending -= count

    def _lose(self, record: Record, exchange: Exchange) -> None:
        with contextlib.suppress(Exception):  # the audit write reports its own failures
            record(self.reason(exchange))
        if self.stopping:
            self.late += 1

    def reason(self, exchange: Exchange) -> str:
        if exchange.gone:
            return "the client disconnected before it was sent"
        if self.stopping:
            return f"the server stopped and its {self.grace:g} s grace ran out before it was sent"
        return "the response ended before it was sent"

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        assert self.app is not None
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(self)

        async def watched_receive() -> Any:
            message = await receive()
            if message["type"] == "http.disconnect":
                exchange.gone = True
            return message

        async def watched_send(message: Any) -> None:
            await send(message)
            if exchange.owed and not exchange.gone and _carries_data(message):
                exchange.delivered()

        token = _EXCHANGE.set(exchange)
        try:
            await self.app(scope, watched_receive, watched_send)
        finally:
            _EXCHANGE.reset(token)
            exchange.end()


def _carries_data(message: Any) -> bool:
    """A response body chunk with data in it: not empty, not an SSE comment (a ping)."""
    if message.get("type") != "http.response.body":
        return False
    body = bytes(message.get("body", b"")).lstrip()
    return bool(body) and not body.startswith(b":")
