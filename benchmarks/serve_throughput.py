"""Throughput of ``appctl serve``'s ``POST /tools/{name}/call`` beside a bare Starlette endpoint.

    .venv/bin/python benchmarks/serve_throughput.py [--seconds 20] [--clients 32]

Both servers are separate processes on 127.0.0.1 (uvicorn, one worker, log level warning)
over a copy of the bundled Chinook SQLite database:

- ``appctl``: ``appctl serve`` on a contract synced from it, calling the read-only tool
  ``get_artist`` (argument validation, gates, the SQL executor and an audit-history row each);
- ``bare``: a Starlette app whose same route runs the same primary-key ``select`` through a
  pooled SQLAlchemy engine in a worker thread and returns the row as JSON.

Each side gets ``--clients`` concurrent keep-alive clients (httpx, asyncio) for ``--seconds``,
cycling over artist ids 1..275, bounded by time and by ``--max-requests``; a warm-up of one
second is not counted. Prints requests/s and p50/p99 latency per side and the ratios. The load
generator shares the machine's cores with the server under test, as any single-box
measurement does; both sides pay that the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
APPCTL = REPO / ".venv" / "bin" / "appctl"
ARTISTS = 275

BARE_APP = """\
import sys, anyio, orjson, sqlalchemy as sa, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

engine = sa.create_engine("sqlite:///" + sys.argv[1])
artist = sa.Table("artist", sa.MetaData(), autoload_with=engine)
query = sa.select(artist).where(artist.c.ArtistId == sa.bindparam("id"))

def fetch(key):
    with engine.connect() as conn:
        row = conn.execute(query, {"id": key}).mappings().first()
    return {str(k): v for k, v in row.items()} if row else None

async def call(request):
    body = orjson.loads(await request.body())
    row = await anyio.to_thread.run_sync(fetch, body["arguments"]["ArtistId"])
    return Response(orjson.dumps({"ok": True, "data": row}), media_type="application/json")

app = Starlette(routes=[
    Route("/tools/get_artist/call", call, methods=["POST"]),
    Route("/health", lambda r: Response(b"{}"), methods=["GET"]),
])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not start in {timeout} s")


async def load(url: str, clients: int, seconds: float, cap: int) -> tuple[int, list[float], int]:
    """(requests done, latencies in seconds, failures) within ``seconds``, after a warm-up."""
    latencies: list[float] = []
    failures = 0
    done = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker(n: int, until: float, record: bool) -> None:
            nonlocal failures, done
            key = n
            while time.monotonic() < until and done < cap:
                key = key % ARTISTS + 1
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/tools/get_artist/call", json={"arguments": {"ArtistId": key}}
                    )
                    good = response.status_code == 200
                except httpx.HTTPError:
                    good = False
                if record:
                    latencies.append(time.perf_counter() - started)
                    done += 1
                    failures += not good

        warm = time.monotonic() + 1.0
        await asyncio.gather(*(worker(n, warm, False) for n in range(clients)))
        until = time.monotonic() + seconds
        await asyncio.gather(*(worker(n, until, True) for n in range(clients)))
    return done, latencies, failures


def report(name: str, done: int, latencies: list[float], failures: int, seconds: float) -> float:
    rate = done / seconds
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(
        f"{name:8} {rate:9,.0f} req/s   p50 {cuts[49] * 1000:7.2f} ms   "
        f"p99 {cuts[98] * 1000:7.2f} ms   {done:,} requests, {failures} not 200"
    )
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="appctl-serve-bench-") as tmp:
        work = Path(tmp)
        shutil.copy(REPO / "examples" / "chinook.db", work / "chinook.db")
        subprocess.run(
            [str(APPCTL), "sync", "--db", "chinook.db"], cwd=work, check=True, capture_output=True
        )
        results = {}
        for name in ("bare", "appctl"):
            port = free_port()
            if name == "bare":
                command = [sys.executable, "-c", BARE_APP, str(work / "chinook.db"), str(port)]
            else:
                command = [str(APPCTL), "serve", "--port", str(port)]
            proc = subprocess.Popen(
                command,
                cwd=work,
                env=os.environ.copy(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                url = f"http://127.0.0.1:{port}"
                wait_ready(url, proc)
                done, latencies, failures = asyncio.run(
                    load(url, args.clients, args.seconds, args.max_requests)
                )
                cuts = statistics.quantiles(latencies, n=100)
                results[name] = (
                    report(name, done, latencies, failures, args.seconds),
                    cuts[49],
                    cuts[98],
                )
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        (bare_rate, bare_p50, bare_p99), (rate, p50, p99) = results["bare"], results["appctl"]
        print(
            f"appctl / bare: throughput {rate / bare_rate:.2f}x, p50 {p50 / bare_p50:.2f}x, "
            f"p99 {p99 / bare_p99:.2f}x  ({args.clients} clients, {args.seconds:g} s each)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
