"""Per-call cost of the shared limiter (execute/sharedlimits.py) against the in-process one
(execute/limits.py), in the same run.

    .venv/bin/python benchmarks/shared_limits.py [--url URL] [--calls N] [--threads N]

``--url`` is a PostgreSQL or MariaDB SQLAlchemy URL (default: $APPCTL_TEST_POSTGRES_URL,
which ``scripts/dbservers start`` writes to .cache/db/env; $APPCTL_TEST_MARIADB_URL for
MariaDB); the table ``appctl_rate`` is made there if missing. Each series admits and ends
one call, ``--calls`` times, interleaved with the others in blocks of 100 (the order rotating
each round) so that drift cancels out:

- ``rate``: ``rate_limit`` high enough that every call is admitted (the shared window then
  holds every call of the last second: the costliest case of the one-row-per-tool statement);
- ``refused``: a rate of one call per 100 s, so every call after the first is refused (the
  statement, and a second one saying when to try again);
- ``concurrency``: ``max_concurrency: 8`` (an advisory lock taken and given back);
- ``both``: a rate and a concurrency limit together.

Prints median and p90 per call in microseconds for each limiter and the ratio shared /
in-process. With ``--threads N`` (> 1) it then runs the ``concurrency`` series from N threads
at once and prints calls per second for each limiter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from appctl.config import Limits
from appctl.execute.limits import PROCESS, Limiter, OverLimit
from appctl.execute.sharedlimits import limiter_for

BLOCK = 100
SERIES = {
    "rate": Limits(per_second=100_000),
    "refused": Limits(per_second=0.01),
    "concurrency": Limits(max_concurrency=8),
    "both": Limits(per_second=100_000, max_concurrency=8),
}


def one_call(limiter: Limiter, tool: str, limits: Limits) -> float:
    """Seconds to admit (or refuse) one call and end it."""
    started = time.perf_counter()
    try:
        with limiter.admitted(tool, limits):
            pass
    except OverLimit:
        pass
    return time.perf_counter() - started


def measure(limiters: dict[str, Limiter], calls: int) -> dict[tuple[str, str], list[float]]:
    """Per-call seconds of every (limiter, series), interleaved in blocks."""
    runs = [(who, series) for who in limiters for series in SERIES]
    times: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
    for round_ in range(max(1, calls // BLOCK)):
        shift = round_ % len(runs)
        for who, series in runs[shift:] + runs[:shift]:
            tool = f"bench_{series}"
            for _ in range(BLOCK):
                times[who, series].append(one_call(limiters[who], tool, SERIES[series]))
    return times


def throughput(limiter: Limiter, threads: int, seconds: float) -> float:
    """Calls per second through the concurrency series from ``threads`` threads."""
    done = [0] * threads
    stop = time.monotonic() + seconds

    def work(n: int) -> None:
        while time.monotonic() < stop:
            one_call(limiter, "bench_threads", Limits(max_concurrency=threads))
            done[n] += 1

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=seconds + 30)
    return sum(done) / seconds


def _us(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6


def report(times: dict[tuple[str, str], list[float]], say: Callable[[str], None]) -> None:
    say(f"{'series':<12} {'process µs':>11} {'p90':>8} {'shared µs':>10} {'p90':>8} {'ratio':>7}")
    for series in SERIES:
        mine, shared = times["process", series], times["shared", series]
        ratio = statistics.median(shared) / statistics.median(mine)
        say(
            f"{series:<12} {_us(mine, 0.5):>11.1f} {_us(mine, 0.9):>8.1f} "
            f"{_us(shared, 0.5):>10.1f} {_us(shared, 0.9):>8.1f} {ratio:>7.0f}x"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("APPCTL_TEST_POSTGRES_URL", ""))
    parser.add_argument("--calls", type=int, default=2000, help="per series (default 2000)")
    parser.add_argument("--threads", type=int, default=8, help="for the throughput run")
    parser.add_argument("--seconds", type=float, default=3.0, help="of the throughput run")
    args = parser.parse_args()
    engine = sa.create_engine(args.url) if args.url else None
    shared = limiter_for(engine, scope=f"bench-{os.getpid()}") if engine else None
    if shared is None:
        print("give --url of a PostgreSQL or MariaDB database (or scripts/dbservers start)")
        return 2
    limiters: dict[str, Limiter] = {"process": PROCESS, "shared": shared}
    for limiter in limiters.values():  # warm up: the table made, connections pooled
        one_call(limiter, "warm", SERIES["both"])
    times = measure(limiters, args.calls)
    print(f"{engine.dialect.name}: {args.calls} calls per series, blocks of {BLOCK}, interleaved")
    report(times, print)
    if args.threads > 1:
        for who, limiter in limiters.items():
            rate = throughput(limiter, args.threads, args.seconds)
            print(f"{who}: {rate:,.0f} calls/s from {args.threads} threads (concurrency series)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
