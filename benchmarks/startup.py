"""How fast `appctl --help` answers, beside a bare Python start-up in the same run.

    .venv/bin/python benchmarks/startup.py [--runs N]

Prints the median wall time of each and the ratio; the target is well under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 0.5


def median_wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    python = sys.executable
    appctl = str(Path(python).parent / "appctl")
    baseline = median_wall([python, "-c", "pass"], args.runs)
    helped = median_wall([appctl, "--help"], args.runs)
    print(f"python -c pass   {baseline:.3f} s (baseline)")
    print(f"appctl --help    {helped:.3f} s ({helped / baseline:.1f}x the baseline)")
    verdict = "met" if helped < TARGET_S else "NOT met"
    print(f"target: appctl --help < {TARGET_S} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
