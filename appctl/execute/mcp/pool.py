"""A per-process pool of sessions with upstream MCP servers, owned by one event-loop thread.

The SDK is async and a session lives in the task that opened it, so one daemon thread runs
an event loop holding every session, each kept open by its own task. A call is submitted
from any thread with ``asyncio.run_coroutine_threadsafe`` and waited for with its deadline,
which bounds connecting and calling together. A session starts on the first call to its
server, is reused by the next ones, and is dropped (its stdio process ended) when a call
finds it dead, the connection dropped, or the deadline passed: the next call starts it again.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import json
import threading
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from appctl.contract.mcptransport import McpServer
from appctl.sync.mcp.connect import client_for, headers_of, server_env

if TYPE_CHECKING:
    from mcp import Client
    from mcp_types import CallToolResult


PROBE_TIMEOUT = 5.0  # seconds a session has to answer the probe after an error


class Dropped(Exception):
    """The session ended (the server exited or the connection dropped) before answering."""


@dataclass
class _Live:
    """One open (or opening) session: ``ready`` is set once ``client`` is usable or
    ``error`` says why it will not be."""

    ready: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    client: Client | None = None
    error: BaseException | None = None
    done: bool = False
    task: asyncio.Task[None] | None = None


class Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._live: dict[str, _Live] = {}
        self.started = 0  # sessions opened so far (a restart opens one more)

    def call(
        self,
        server: McpServer,
        tool: str,
        arguments: dict[str, Any],
        *,
        environ: Mapping[str, str],
        timeout: float,
    ) -> CallToolResult:
        """The upstream's answer; raises TimeoutError past ``timeout``, ``Dropped`` when the
        session died, or what the SDK raised (an ``MCPError`` for a JSON-RPC error)."""
        key = _key(server, environ)
        used: list[_Live] = []  # the session this call used: only that one is dropped
        coro = self._call(key, server, dict(environ), tool, arguments, used)
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self._running())
        try:
            return future.result(timeout + 2)
        except (TimeoutError, FutureTimeout):
            future.cancel()
            self._drop(key, used)  # a server that hung is not trusted with the next call
            raise TimeoutError(f"no answer within {timeout:g}s") from None
        except Dropped:
            self._drop(key, used)
            raise

    async def _call(
        self,
        key: str,
        server: McpServer,
        environ: dict[str, str],
        tool: str,
        args: dict[str, Any],
        used: list[_Live],
    ) -> CallToolResult:
        live = self._live.get(key)
        if live is None or live.done:
            live = _Live()
            self._live[key] = live
            self.started += 1
            live.task = asyncio.get_running_loop().create_task(_keep(live, server, environ))
        used.append(live)
        await live.ready.wait()
        if live.client is None:
            self._live.pop(key, None)
            error = live.error or Dropped("the session could not be opened")
            raise error
        client = live.client
        try:
            return await client.call_tool(tool, args)
        except Exception as exc:
            if live.done or _is_dropped(exc) or not await _alive(client, exc):
                raise Dropped(leaf(exc)) from None
            raise

    def _drop(self, key: str, used: list[_Live]) -> None:
        """End the session a call used, unless another call already replaced it."""
        loop = self._loop
        if loop is None:
            return

        async def drop() -> None:
            found = self._live.get(key)
            if found is None or (used and found is not used[0]):
                return
            del self._live[key]
            found.stop.set()
            if not found.ready.is_set() and found.task is not None:
                found.task.cancel()  # still connecting (a server that never answers)

        asyncio.run_coroutine_threadsafe(drop(), loop)

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="appctl-mcp-pool", daemon=True
                )
                thread.start()
                self._loop = loop
                atexit.register(self.close)
            return self._loop

    def close(self, timeout: float = 3.0) -> None:
        """End every session (their stdio processes with them), waiting up to ``timeout``."""
        loop = self._loop
        if loop is None:
            return

        async def close_all() -> None:
            sessions = list(self._live.values())
            self._live.clear()
            for live in sessions:
                live.stop.set()
            tasks = [live.task for live in sessions if live.task is not None]
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        try:
            asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout + 1)
        except Exception:  # closing is best effort: the processes end with their stdin
            return


async def _keep(live: _Live, server: McpServer, environ: Mapping[str, str]) -> None:
    """Open the session, hold it open until told to stop, then close it."""
    try:
        async with client_for(server, environ) as client:
            live.client = client
            live.ready.set()
            await live.stop.wait()
    except BaseException as exc:
        live.error = exc if isinstance(exc, Exception) else Dropped(type(exc).__name__)
    finally:
        live.done = True
        live.client = None
        live.ready.set()


async def _alive(client: Client, failure: Exception) -> bool:
    """After a JSON-RPC error that is not about the arguments, whether the session still
    answers: an HTTP server that restarted has forgotten the session, and answers
    every request on it with an error that looks like the tool's own. (A tools/list is the
    probe: ping is gone from the 2026-07-28 protocol.)"""
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import INVALID_PARAMS

    if not isinstance(failure, MCPError) or failure.code == INVALID_PARAMS:
        return True
    try:
        await asyncio.wait_for(client.list_tools(cache_mode="bypass"), PROBE_TIMEOUT)
    except Exception:
        return False
    return True


def _key(server: McpServer, environ: Mapping[str, str]) -> str:
    """Sessions are shared by calls to the same server with the same credentials."""
    try:
        headers = headers_of(server, environ)
    except Exception:
        headers = {}
    text = json.dumps(
        [server.model_dump(mode="json"), server_env(server, environ), headers], sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


def leaf(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _is_dropped(exc: BaseException) -> bool:
    import anyio
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import CONNECTION_CLOSED

    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED
    closed = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError)
    return isinstance(exc, closed)


POOL = Pool()  # the process's pool
