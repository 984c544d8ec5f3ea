"""One deadline per call, held per thread, that every socket operation under it honours.

httpcore's timeouts bound each single connect, read or write, so a peer that trickles one
byte a second never trips them. ``within(deadline)`` sets the calling thread's deadline
(a ``time.monotonic()`` value) around one exchange; the network backend given to every
connection pool (``DeadlineBackend``, a wrapper of httpcore's own ``SyncBackend``) clamps
the timeout of each connect, TLS handshake, read and write to the time left, and raises
httpcore's timeout exception once none is left. A connection kept alive in a pool reads the
deadline of whichever thread uses it next; a thread without a deadline is not clamped.

The cost is one thread-local lookup and one clock read per socket operation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore

WRITE_CHUNK = 64 * 1024  # a body is written in pieces, each under the time then left

_local = threading.local()


@contextmanager
def within(deadline: float | None) -> Iterator[None]:
    """Run the block with ``deadline`` (monotonic seconds; None: no deadline) for this
    thread, restoring the one before after."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline
    try:
        yield
    finally:
        _local.deadline = previous


def time_left() -> float | None:
    """Seconds left before this thread's deadline (may be negative), or None."""
    deadline: float | None = getattr(_local, "deadline", None)
    return None if deadline is None else deadline - time.monotonic()


def clamp(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` cut to the time left; ``error`` when none is left."""
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None or timeout > left else timeout


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        for start in range(0, len(buffer), WRITE_CHUNK):
            piece = bytes(view[start : start + WRITE_CHUNK])
            self._inner.write(piece, clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        left = clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's blocking backend with every timeout cut to the thread's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        left = clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
