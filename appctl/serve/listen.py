"""Binding a listening socket before a server starts, so a taken port is a clear usage error
(uvicorn alone logs it and exits 3) and ``--port 0`` reports the port the system chose."""

from __future__ import annotations

import ipaddress
import socket

from appctl.errors import UsageError


def listen(host: str, port: int) -> tuple[socket.socket, str]:
    """A bound socket and the base URL it serves (``http://host:port``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it a response's body waits for the client's delayed ACK of its
    # headers (~40 ms a request on keep-alive connections)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            suggestion="Pick another --port (0 lets the system choose one).",
        ) from None
    bound = sock.getsockname()[1]
    where = f"[{host}]" if family == socket.AF_INET6 else host
    return sock, f"http://{where}:{bound}"


LOOPBACK_NAMES = frozenset(("localhost", "ip6-localhost", "ip6-loopback"))


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
