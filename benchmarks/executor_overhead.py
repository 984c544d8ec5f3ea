"""Per-call overhead of appctl's executor over a bare, reused ``httpx.Client``.

    .venv/bin/python benchmarks/executor_overhead.py [--calls N] [--warmup N] [--profile]

A local server on 127.0.0.1 (HTTP/1.1 keep-alive, in its own process) answers
``GET /api/pets/{id}?limit=N`` with a small JSON body. Three series make the same request
with the same client, interleaved in blocks of 100 calls (the order rotating each round) so
that drift cancels out:

- ``bare``: ``client.get(url, params=...)`` then ``.json()``;
- ``appctl``: ``executor.call(...)`` committing a record of each call to a temp SQLite audit
  history before it returns (what ``appctl call`` does) — the series the target is judged on;
- ``appctl-session``: the same call through ``Session.call`` (appctl/session/core.py), the
  path every front end takes since the call session (approval check, options per call);
- ``appctl-nohist``: ``executor.call(...)`` without a history, to show what recording costs;
- ``bare-httpcore``: the same request (same headers) on a bare ``httpcore.ConnectionPool``, the
  transport appctl itself uses (it skips httpx's client layer), to show what appctl's own
  layers cost over the wire it uses.

Prints median and p90 per call in microseconds, the overhead (appctl - bare) and the ratio,
and whether the target (under 150 µs of overhead per call) is met. ``--profile`` then runs
cProfile over ``--calls`` appctl calls and prints the top costs.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import httpx

from appctl.config import Config
from appctl.contract.models import Contract
from appctl.execute.audit.history import History
from appctl.execute.executor import CallOptions, call
from appctl.execute.http.send import USER_AGENT
from appctl.execute.http.transport import ACCEPT_ENCODING, Transport
from appctl.session.core import Session
from appctl.sync.openapi.load import Loaded
from appctl.sync.openapi.parse import SyncOptions, build_contract

TARGET_US = 150.0
BLOCK = 100
TOOL = "get_pet"
ARGS: dict[str, Any] = {"id": 7, "limit": 5}
MAX_SECONDS = 300.0  # the whole timed run stops here, whatever --calls says


class PetHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else the body waits ~40 ms for a delayed ACK
    timeout = 10  # an idle keep-alive connection is closed after this

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/")
        if len(segments) == 3 and segments[:2] == ["api", "pets"] and segments[2].isdigit():
            limit = int(parse_qs(parts.query).get("limit", ["10"])[0])
            self._send(200, {"id": int(segments[2]), "name": "Rex", "tag": "dog", "limit": limit})
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


def serve_forever() -> None:
    """The server process: print the port, then answer until stdin closes or 10 minutes pass."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PetHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    print(server.server_address[1], flush=True)
    stopper = threading.Thread(target=sys.stdin.read, daemon=True)
    stopper.start()
    stopper.join(timeout=600)
    server.shutdown()
    server.server_close()


@contextmanager
def running_server() -> Iterator[str]:
    """The server in its own process, as a real one would be (a server thread in this process
    would compete for the interpreter lock and bill its own work to whichever series runs);
    yields its base URL, ``http://127.0.0.1:PORT/api``."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/api"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def contract() -> Contract:
    """One read operation, ``get_pet``: integer path ``id``, integer query ``limit``."""
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "paths": {
            "/pets/{id}": {
                "get": {
                    "operationId": "getPet",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": {"200": {"description": "a pet"}},
                }
            }
        },
    }
    raw = json.dumps(doc, sort_keys=True).encode()
    loaded = Loaded(
        document=doc,
        sha256=hashlib.sha256(raw).hexdigest(),
        location="spec.json",
        base="/tmp/spec.json",
        is_url=False,
    )
    return build_contract(loaded, SyncOptions()).schema


def make_calls(
    schema: Contract,
    base: str,
    client: httpx.Client,
    pool: httpcore.ConnectionPool,
    transport: Transport,
    history: History,
) -> dict[str, Callable[[], Any]]:
    url = f"{base}/pets/{ARGS['id']}"
    params = {"limit": ARGS["limit"]}
    wire = f"{url}?limit={ARGS['limit']}".encode()
    options = CallOptions(base_url=base)

    def bare() -> Any:
        return client.get(url, params=params).json()

    def appctl() -> Any:
        return call(schema, TOOL, ARGS, options, environ={}, transport=transport, history=history)

    session = Session(
        schema=schema,
        config=Config(),
        options=options,
        environ={},
        history=history,
        id="bench",
        transport=transport,
    )

    def appctl_session() -> Any:
        return session.call(TOOL, ARGS)

    def appctl_nohist() -> Any:
        return call(schema, TOOL, ARGS, options, environ={}, transport=transport)

    headers = [  # what appctl's transport sends besides Host
        (b"Accept-Encoding", ACCEPT_ENCODING),
        (b"Accept", b"*/*"),
        (b"User-Agent", USER_AGENT.encode()),
    ]

    def bare_wire() -> Any:
        return json.loads(pool.request(b"GET", wire, headers=headers).content)

    return {
        "bare": bare,
        "appctl": appctl,
        "appctl-session": appctl_session,
        "appctl-nohist": appctl_nohist,
        "bare-httpcore": bare_wire,
    }


def check(calls: dict[str, Callable[[], Any]]) -> None:
    """Every series gets the same, successful answer before anything is timed."""
    expected = calls["bare"]()
    for name in ("appctl", "appctl-session", "appctl-nohist"):
        result = calls[name]()
        if not result.ok or result.data != expected:
            raise SystemExit(f"{name} did not get the expected answer: {result!r}")
    if calls["bare-httpcore"]() != expected:
        raise SystemExit("bare-httpcore did not get the expected answer")


def timed_block(fn: Callable[[], Any], n: int, out: list[int]) -> None:
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        fn()
        out.append(clock() - start)


def measure(
    calls: dict[str, Callable[[], Any]], n: int, warmup: int, deadline: float
) -> dict[str, list[int]]:
    """Per-call nanoseconds for each series, interleaved in blocks of ``BLOCK`` calls."""
    names = list(calls)
    for name in names:
        timed_block(calls[name], warmup, [])
    samples: dict[str, list[int]] = {name: [] for name in names}
    for round_no in range(-(-n // BLOCK)):
        if time.monotonic() > deadline:
            print(f"note: stopped after {round_no} rounds (time limit reached)")
            break
        size = min(BLOCK, n - round_no * BLOCK)
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            timed_block(calls[name], size, samples[name])
    return samples


def p90(values: list[int]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else float(values[0])


def report(samples: dict[str, list[int]], label: str = "") -> None:
    """Median and p90 per series, the overhead over ``bare`` with and without the history,
    and the verdict on the target (``label`` names the case when there are several)."""
    med = {name: statistics.median(v) / 1000 for name, v in samples.items()}
    print(f"{'series':<15}{'calls':>7}{'median µs':>12}{'p90 µs':>10}")
    for name, values in samples.items():
        print(f"{name:<15}{len(values):>7}{med[name]:>12.1f}{p90(values) / 1000:>10.1f}")
    overhead = med["appctl"] - med["bare"]
    print(f"overhead appctl - bare: {overhead:.1f} µs per call (median)")
    print(f"ratio appctl / bare: {med['appctl'] / med['bare']:.2f}x")
    nohist = med["appctl-nohist"] - med["bare"]
    print(
        f"without the audit history: {nohist:.1f} µs overhead, "
        f"{med['appctl-nohist'] / med['bare']:.2f}x"
    )
    print(f"history recording costs about {med['appctl'] - med['appctl-nohist']:.1f} µs per call")
    if "appctl-session" in med:
        print(
            f"through the call session: {med['appctl-session'] - med['bare']:.1f} µs overhead, "
            f"{med['appctl-session'] - med['appctl']:+.1f} µs over executor.call"
        )
    if "bare-httpcore" in med:  # appctl's own layers over the wire it uses
        own = med["appctl"] - med["bare-httpcore"]
        print(
            f"appctl over bare httpcore (the transport it uses): {own:.1f} µs per call, "
            f"{med['appctl'] / med['bare-httpcore']:.2f}x; bare httpx over bare httpcore: "
            f"{med['bare'] - med['bare-httpcore']:.1f} µs"
        )
    verdict = "met" if overhead < TARGET_US else "NOT met"
    case = f" ({label})" if label else ""
    print(f"target{case}: appctl overhead (with history) < {TARGET_US:.0f} µs per call: {verdict}")


def profile(fn: Callable[[], Any], n: int, top: int, label: str = "") -> None:
    """cProfile ``n`` calls of ``fn``; print the top rows by own and by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        fn()
    profiler.disable()
    where = f" on {label}" if label else ""
    print(f"\ncProfile of {n} appctl calls{where} (with history), top {top} by own time:")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(top)
    print(f"top {top} by cumulative time:")
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per series")
    parser.add_argument("--warmup", type=int, default=300, help="untimed calls per series")
    parser.add_argument("--profile", action="store_true", help="then cProfile the appctl path")
    parser.add_argument("--top", type=int, default=25, help="rows of the profile")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_forever()
        return 0
    if not 10 <= args.calls <= 1_000_000 or not 0 <= args.warmup <= 100_000:
        parser.error("--calls must be 10..1000000 and --warmup 0..100000")
    schema = contract()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server() as base,
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        httpcore.ConnectionPool() as pool,
    ):
        history = History(f"sqlite:///{Path(tmp) / 'history.db'}")
        transport = Transport()
        calls = make_calls(schema, base, client, pool, transport, history)
        check(calls)
        print(
            f"server {base}; {args.calls} timed calls per series after {args.warmup} warm-up, "
            f"blocks of {BLOCK}; audit history: one SQLite file in a temp dir"
        )
        samples = measure(calls, args.calls, args.warmup, time.monotonic() + MAX_SECONDS)
        report(samples)
        if args.profile:
            profile(calls["appctl"], args.calls, args.top)
        written = len(history.entries(last=10**7))
        recorded = ("appctl", "appctl-session")  # the series that write to the history
        expected = sum(1 + args.warmup + len(samples[name]) for name in recorded)
        expected += args.calls if args.profile else 0
        print(f"audit rows written: {written:,} of {expected:,} recorded calls")
        history.engine.dispose()
        transport.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
