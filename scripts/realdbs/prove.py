"""Real schemas, proven: Prefect's and MLflow's own migrations and clients build databases
nobody here designed, and appctl must read every table of them exactly.

    scripts/prove-real-dbs [--only prefect-sqlite,mlflow-mariadb,...] [--gets 200]
                           [--work DIR [--reuse]] [--max-seconds 900] [--db PATH|URL]

Targets: prefect-sqlite, prefect-postgresql, mlflow-sqlite, mlflow-postgresql,
mlflow-mariadb; ``--db`` proves one existing database instead (no rows written). For each:
build the database with the application's own migrations and write rows with its own
client (``prefect_rows.py`` / ``mlflow_rows.py``, run by that application's interpreter),
``appctl sync --db`` it into a temporary app dir (the password from
PGPASSWORD / MYSQL_PWD, never on the command line), then drive ``appctl mcp --read-only``
with the official MCP SDK client (``session.py``). PostgreSQL and MariaDB come from
APPCTL_TEST_POSTGRES_URL / APPCTL_TEST_MARIADB_URL (``scripts/dbservers start``); their
scratch databases ``appctl_proof_<app>`` are dropped and re-created. Prints per database
the tables, rows read directly, rows listed (cursor, offset), gets compared, mismatches,
schema violations, tool errors and seconds; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
from session import Report, prove_database

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TARGETS = (
    "prefect-sqlite",
    "prefect-postgresql",
    "mlflow-sqlite",
    "mlflow-postgresql",
    "mlflow-mariadb",
)
POPULATE_SECONDS = 900


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str


@dataclass(frozen=True)
class Target:
    name: str
    app: str  # prefect | mlflow
    dialect: str  # sqlite | postgresql | mysql
    app_url: str  # for the application's own client (password included)
    sync_url: str  # for appctl (no password)
    direct_url: str  # for the DB-API reference read
    password_env: dict[str, str]


def server(variable: str) -> Server | None:
    url = os.environ.get(variable)
    if not url:
        return None
    parts = urlsplit(url)
    return Server(
        parts.hostname or "127.0.0.1", parts.port or 0, parts.username or "", parts.password or ""
    )


def target(name: str, work: Path) -> Target:
    app, dialect = name.split("-")
    if dialect == "sqlite":
        path = work / f"{app}.db"
        app_url = f"sqlite+aiosqlite:///{path}" if app == "prefect" else f"sqlite:///{path}"
        return Target(name, app, "sqlite", app_url, str(path), str(path), {})
    variable = "APPCTL_TEST_POSTGRES_URL" if dialect == "postgresql" else "APPCTL_TEST_MARIADB_URL"
    found = server(variable)
    if found is None:
        raise SystemExit(
            f"{name}: {variable} is not set (run scripts/dbservers start and source .cache/db/env)"
        )
    db, at = f"appctl_proof_{app}", f"{found.host}:{found.port}"
    auth = f"{found.user}:{found.password}@{at}"
    if dialect == "postgresql":
        driver = "postgresql+asyncpg" if app == "prefect" else "postgresql+psycopg2"
        return Target(
            name,
            app,
            "postgresql",
            f"{driver}://{auth}/{db}",
            f"postgresql://{found.user}@{at}/{db}",
            f"postgresql://{auth}/{db}",
            {"PGPASSWORD": found.password},
        )
    return Target(
        name,
        app,
        "mysql",
        f"mysql+pymysql://{auth}/{db}?charset=utf8mb4",
        f"mysql://{found.user}@{at}/{db}",
        f"mysql://{auth}/{db}",
        {"MYSQL_PWD": found.password},
    )


def existing(db: str) -> Target:
    """A database that is already there (``--db``): a SQLite path, or a postgresql:// or
    mysql:// URL whose password, if any, goes to appctl through the environment."""
    if "://" not in db:
        path = str(Path(db).resolve())
        return Target(f"db {db}", "", "sqlite", "", path, path, {})
    parts = urlsplit(db)
    dialect = "postgresql" if parts.scheme.startswith("postgres") else "mysql"
    netloc = f"{parts.username}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    sync_url = f"{dialect}://{netloc}{parts.path}"
    env = {("PGPASSWORD" if dialect == "postgresql" else "MYSQL_PWD"): parts.password or ""}
    return Target(
        f"db {sync_url}", "", dialect, "", sync_url, f"{dialect}://{parts.netloc}{parts.path}", env
    )


def recreate(t: Target) -> None:
    """A fresh scratch database (PostgreSQL: the role has CREATEDB; MariaDB: appctl_%)."""
    parts, db = urlsplit(t.direct_url), urlsplit(t.direct_url).path.lstrip("/")
    if t.dialect == "postgresql":
        import psycopg

        with psycopg.connect(
            host=parts.hostname,
            port=parts.port,
            user=parts.username,
            password=parts.password,
            dbname="appctl_test",
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
    elif t.dialect == "mysql":
        import pymysql

        conn = pymysql.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=parts.username,
            password=parts.password or "",
            autocommit=True,
        )
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
            cur.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        conn.close()
    else:
        Path(t.direct_url).unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def populate(t: Target, work: Path, args: argparse.Namespace) -> str:
    """Run the application's own migrations and client; their one-line summary."""
    recreate(t)
    if t.app == "prefect":
        python = args.prefect_python
        command = [python, str(HERE / "prefect_rows.py"), t.app_url, "--port", str(free_port())]
    else:
        python = args.mlflow_python
        artifacts = work / "mlflow-artifacts"
        command = [python, str(HERE / "mlflow_rows.py"), t.app_url, "--artifacts", str(artifacts)]
    if not Path(python).exists():
        raise SystemExit(f"{t.name}: {python} not found (see scripts/prove-real-dbs --help)")
    log = work / f"{t.name}.populate.log"
    with log.open("w") as out:
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
            timeout=POPULATE_SECONDS,
            cwd=work,
            env={**os.environ, "HOME": str(work)},
        )
    if done.returncode != 0:
        raise SystemExit(f"{t.name}: populating failed ({done.returncode}); see {log}")
    return done.stdout.strip().splitlines()[-1]


def sync(t: Target, project: Path, appctl: str, env: dict[str, str]) -> dict[str, Any]:
    project.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [appctl, "sync", "--db", t.sync_url],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise SystemExit(f"{t.name}: appctl sync failed: {done.stderr.strip()[-2000:]}")
    for line in done.stderr.strip().splitlines():
        print(f"  {line}", flush=True)
    contract: dict[str, Any] = json.loads((project / ".appctl" / "schema.json").read_text())
    return contract


def prove(t: Target, work: Path, args: argparse.Namespace) -> Report:
    start = time.monotonic()
    if not args.reuse and t.app:
        print(f"  populated: {populate(t, work, args)}", flush=True)
    project = work / f"{t.name.split()[0]}-app"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(project), **t.password_env}
    contract = sync(t, project, args.appctl, env)
    report = Report(t.name)
    deadline = time.monotonic() + args.max_seconds

    async def run() -> None:
        with anyio.fail_after(args.max_seconds + 60):
            await prove_database(
                report=report,
                project=project,
                env=env,
                appctl=args.appctl,
                dialect=t.dialect,
                direct_url=t.direct_url,
                contract=contract,
                gets=args.gets,
                deadline=deadline,
            )

    anyio.run(run)
    report.seconds = round(time.monotonic() - start, 1)
    return report


def show(report: Report) -> None:
    print(
        f"{report.name}: {report.tables} tables, {report.rows} rows read directly, listed "
        f"{report.listed_cursor} by cursor, {report.listed_offset} by offset and "
        f"{report.listed_sorted} by cursor sorted on another column "
        f"({report.cut_listed} pages with a cut row), "
        f"{report.gets} gets ({report.cut_gets} cut, read whole with --full), "
        f"{report.filters} filters, {report.calls} MCP calls; {report.mismatch_count} mismatches, "
        f"{len(report.violations)} schema violations, {len(report.errors)} errors; "
        f"{report.seconds} s"
    )
    if report.by_column:
        counts = sorted(report.by_column.items(), key=lambda kv: (-kv[1], kv[0]))
        print("  mismatches by column: " + ", ".join(f"{c} {n}" for c, n in counts))
    for kind, lines in (
        ("mismatch", report.mismatches),
        ("violation", report.violations),
        ("error", report.errors),
    ):
        for line in lines:
            print(f"  {kind}: {line}")
    if report.mismatch_count > len(report.mismatches):
        print(f"  ... {report.mismatch_count - len(report.mismatches)} more mismatches")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/prove-real-dbs",
        description="Prove appctl on Prefect's and MLflow's real schemas (prove.py says how).",
    )
    parser.add_argument("--only", default=",".join(TARGETS), help="comma-separated targets")
    parser.add_argument(
        "--db", help="prove this database instead (SQLite path or URL); not populated"
    )
    parser.add_argument("--gets", type=int, default=200, help="get_<t> calls per table at most")
    parser.add_argument("--work", type=Path, help="keep databases and app dirs here")
    parser.add_argument("--reuse", action="store_true", help="use the databases already in --work")
    parser.add_argument(
        "--max-seconds", type=float, default=900, help="per database, for the proof"
    )
    parser.add_argument("--appctl", default=str(REPO / ".venv" / "bin" / "appctl"))
    parser.add_argument(
        "--prefect-python",
        default=os.environ.get(
            "PREFECT_PYTHON", str(REPO / ".cache" / "prefect-venv" / "bin" / "python")
        ),
    )
    parser.add_argument(
        "--mlflow-python",
        default=os.environ.get(
            "MLFLOW_PYTHON", str(REPO / ".cache" / "mlflow-venv" / "bin" / "python")
        ),
    )
    return parser


def main() -> int:
    parser = _parser()
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    if unknown := [n for n in names if n not in TARGETS]:
        parser.error(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}")
    if args.reuse and not args.work:
        parser.error("--reuse needs --work")
    with tempfile.TemporaryDirectory(prefix="appctl-real-") as tmp:
        work = (args.work or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        reports = []
        chosen = [existing(args.db)] if args.db else [target(name, work) for name in names]
        for t in chosen:
            print(f"{t.name}:", flush=True)
            reports.append(prove(t, work, args))
            show(reports[-1])
    failed = [r.name for r in reports if r.failed]
    print(
        f"{len(reports) - len(failed)} of {len(reports)} databases proven"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
