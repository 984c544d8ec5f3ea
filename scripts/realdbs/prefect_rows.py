"""Prefect's own schema and rows: run with Prefect's interpreter (not appctl's venv).

    <prefect-venv>/bin/python scripts/realdbs/prefect_rows.py DB_URL --port P [--flow-runs N]

Starts ``prefect server start --no-ui --no-services`` on 127.0.0.1:P with a temporary
PREFECT_HOME and ``PREFECT_API_DATABASE_CONNECTION_URL=DB_URL`` (Prefect's own migrations
build the schema), then writes rows through Prefect's client only: flows, deployments with
schedules and parameters, flow runs (from deployments and by running small flows with tasks,
logs and artifacts), flow run inputs, variables of every JSON kind, blocks (secret, JSON),
tag and global concurrency limits, work pools and queues, and an automation. Stops the server
(by its PID) and prints one JSON line ``{"flow_runs": ..., "seconds": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STARTUP_SECONDS = 120


def start_server(db_url: str, port: int, home: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": db_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    prefect = Path(sys.executable).parent / "prefect"
    args = [str(prefect), "server", "start", "--no-ui", "--no-services"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"prefect server exited: {(home / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.send_signal(signal.SIGTERM)
    raise SystemExit(f"prefect server not healthy after {STARTUP_SECONDS}s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


async def write_rows(flow_runs: int) -> int:
    """A work pool and queue, a scheduled deployment, its flow runs, and the settings."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate, WorkPoolCreate
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    async with get_client() as client:
        flow_id = await client.create_flow_from_name("deployed-flow")
        pool = await client.create_work_pool(WorkPoolCreate(name="proof-pool", type="process"))
        await client.create_work_queue(name="proof-queue", work_pool_name=pool.name)
        deployment_id = await client.create_deployment(
            flow_id=flow_id,
            name="nightly",
            version="1.2.3",
            parameters={"n": 5, "label": "dé", "nested": {"a": [1, 2.5, None, True]}},
            description="A deployment with schedules — and unicode ✓",
            work_pool_name=pool.name,
            work_queue_name="proof-queue",
            tags=["proof", "nightly"],
            schedules=[
                DeploymentScheduleCreate(
                    schedule=CronSchedule(cron="0 3 * * *", timezone="Europe/Paris")
                ),
                DeploymentScheduleCreate(
                    schedule=IntervalSchedule(interval=timedelta(minutes=90)), active=False
                ),
            ],
            enforce_parameter_schema=False,
        )
        made = 0
        for i in range(flow_runs):
            # run 0: a row larger than the result budget (cut in list and get)
            parameters = {"n": i, "label": f"run {i}", "blob": "é" * (30000 * (i == 0))}
            run = await client.create_flow_run_from_deployment(
                deployment_id, parameters=parameters, tags=[f"batch-{i % 3}"]
            )
            await client.create_flow_run_input(run.id, key=f"input-{i}", value=json.dumps({"i": i}))
            made += 1
            if i < 5:
                await _task_runs_and_logs(client, run.id, i)
        await _settings(client)
    return made


async def _settings(client: Any) -> None:
    """Variables of every JSON kind, a tag and a global concurrency limit."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, VariableCreate

    for name, value in (
        ("v_str", "text with 'quotes'"),
        ("v_int", 9007199254740993),
        ("v_float", 1.5e-300),
        ("v_bool", False),
        ("v_null", None),
        ("v_list", [1, "two", None, {"three": 3}]),
        ("v_obj", {"ünï": "cödé", "empty": {}, "neg": -0.0}),
    ):
        await client.create_variable(VariableCreate(name=name, value=value, tags=["proof"]))
    await client.create_concurrency_limit(tag="io", concurrency_limit=4)
    await client.create_global_concurrency_limit(
        GlobalConcurrencyLimitCreate(name="proof-gcl", limit=7, slot_decay_per_second=0.5)
    )
    await client.send_worker_heartbeat("proof-pool", "proof-worker", heartbeat_interval_seconds=30)
    await client.create_automation(_automation())


def _automation() -> Any:
    """An automation whose trigger matches resources (its related-resource rows too)."""
    from prefect.events.actions import DoNothing
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    trigger = EventTrigger(
        expect={"prefect.flow-run.Failed"},
        match={"prefect.resource.id": "prefect.flow-run.*"},
        posture=Posture.Reactive,
        threshold=2,
        within=timedelta(minutes=5),
    )
    return AutomationCore(
        name="proof-automation", description="ünï ✓", trigger=trigger, actions=[DoNothing()]
    )


async def _task_runs_and_logs(client: Any, flow_run_id: Any, i: int) -> None:
    """Task runs with states and logs written through the client (with --no-services the
    server does not record the events a running task emits, so these are written directly)."""
    from prefect import task
    from prefect.client.schemas.actions import LogCreate
    from prefect.states import Completed, Failed, Running

    @task(name=f"step-{i}", tags=["io", f"t{i}"])
    def step() -> None: ...

    await client.set_flow_run_state(flow_run_id, Running(), force=True)
    logs = []
    for k in range(3):
        task_run = await client.create_task_run(step, flow_run_id, dynamic_key=str(k))
        await client.set_task_run_state(task_run.id, Running(), force=True)
        end = Completed(message=f"done {k}") if k else Failed(message="boom — 'x' \\ \"y\"")
        await client.set_task_run_state(task_run.id, end, force=True)
        logs.append(
            LogCreate(
                name="proof.logger",
                level=10 * (k + 1),
                message=f"task {k} of run {i}: ünïcode ✓ \u0000-free\n second line",
                timestamp=datetime.now(UTC) - timedelta(microseconds=k),
                flow_run_id=flow_run_id,
                task_run_id=task_run.id,
            )
        )
    await client.create_logs(logs)
    await client.set_flow_run_state(flow_run_id, Completed(), force=True)


def run_flows() -> int:
    """Secret block and small flows, run in this process against the server (sync APIs)."""
    from prefect import flow, get_run_logger, tags, task
    from prefect.artifacts import create_markdown_artifact, create_table_artifact
    from prefect.blocks.system import Secret

    @task(tags=["io"])
    def square(x: int) -> int:
        get_run_logger().info("squaring %s — ünïcode ✓", x)
        return x * x

    @flow(name="proof-flow", log_prints=True)
    def proof_flow(n: int = 3, label: str = "ok") -> int:
        total = sum(square(i) for i in range(n))
        print(f"total {total} for {label!r}")
        create_markdown_artifact(markdown=f"# Total\n{total}", key="proof-total")
        create_table_artifact(table=[{"n": n, "total": total, "none": None}], key="proof-table")
        return total

    @flow(name="failing-flow")
    def failing_flow() -> None:
        raise ValueError("expected failure: 'quotes' and \"double\" and \\ backslash")

    Secret(value={"token": "s3cr3t-value", "n": 2**62}).save("proof-secret", overwrite=True)
    made = 0
    with tags("ran-locally"):
        for n in range(3):
            proof_flow(n=n + 2, label=f"local {n}")
            made += 1
        with contextlib.suppress(ValueError):
            failing_flow()
        made += 1
    import logging

    from prefect.logging.handlers import APILogHandler

    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, APILogHandler):
                handler.flush()  # the flows' logs reach the server before it stops
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db_url")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--flow-runs", type=int, default=60)
    args = parser.parse_args()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="prefect-home-") as home:
        server = start_server(args.db_url, args.port, Path(home))
        try:
            os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{args.port}/api"
            os.environ["PREFECT_HOME"] = home
            os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
            made = asyncio.run(write_rows(args.flow_runs)) + run_flows()
        finally:
            stop_server(server)
    print(json.dumps({"flow_runs": made, "seconds": round(time.monotonic() - start, 1)}))


if __name__ == "__main__":
    main()
