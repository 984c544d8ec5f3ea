"""Slow peers on 127.0.0.1 for deadline tests, each in its own threads.

``Trickler``: an HTTP server whose answers depend on the path:
  /trickle-head   the status line and headers one byte a second
  /trickle-body   headers at once, then a body one byte a second
  /busy/N         503 with ``Retry-After: N`` (counts the requests in ``hits``)
  /flaky-head     503 with ``Retry-After: 1`` the first time, then as /trickle-head
  /fast           200 with a small JSON body at once
A trickle sends at most ``MAX_BYTES`` bytes and stops when the client goes away or the
server stops, so no test can hang on it.

``Silent``: a TCP listener that accepts connections and never sends a byte (a database host
behind a firewall that drops, a hung server).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_BYTES = 60


class Trickler:
    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: dict[str, int] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._answer, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                path = head.split(b" ", 2)[1].decode()
                with self._lock:
                    self.hits[path] = self.hits.get(path, 0) + 1
                self._route(conn, path)
            except OSError:
                return

    def _route(self, conn: socket.socket, path: str) -> None:
        body = b'{"ok": true}'
        if path.endswith("/flaky-head") and self.hits[path] == 1:
            path = "/busy/1"
        if path.endswith(("/trickle-head", "/flaky-head")):
            self._trickle(conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * MAX_BYTES)
        elif path.endswith("/trickle-body"):
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"
            )
            self._trickle(conn, b"x" * MAX_BYTES)
        elif "/busy/" in path:
            after = path.rsplit("/", 1)[1]
            conn.sendall(
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: "
                + after.encode()
                + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        else:
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )

    def _trickle(self, conn: socket.socket, data: bytes) -> None:
        for byte in data[:MAX_BYTES]:
            if self.stopping.wait(1.0):
                return
            conn.sendall(bytes([byte]))


@contextmanager
def trickler() -> Iterator[Trickler]:
    server = Trickler()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        thread.join(timeout=5)
        server.sock.close()


@contextmanager
def silent() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts TCP connections and never answers."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=64)
    sock.settimeout(0.1)
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)  # kept open, never written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stopping.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        sock.close()


def elapsed(since: float) -> float:
    return time.monotonic() - since
