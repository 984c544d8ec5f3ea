"""Load the Chinook sample database into a SQLAlchemy URL (see tests/chinook.py).

Run with the project's venv:
  .venv/bin/python scripts/chinook.py --download-only      fetch the sdist into .cache/chinook
  .venv/bin/python scripts/chinook.py URL [--replace]      load Chinook into URL, print counts
  .venv/bin/python scripts/chinook.py --example            (re)build examples/chinook.db
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.chinook import TOTAL_ROWS, download, load_chinook  # noqa: E402

EXAMPLE = REPO / "examples" / "chinook.db"


def build_example(path: Path = EXAMPLE) -> dict[str, int]:
    """A fresh SQLite file of the whole Chinook database, VACUUMed."""
    import sqlalchemy as sa

    partial = path.with_suffix(".db.partial")
    partial.unlink(missing_ok=True)
    counts = load_chinook(f"sqlite:///{partial}")
    engine = sa.create_engine(f"sqlite:///{partial}", poolclass=sa.pool.NullPool)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM")
    engine.dispose()
    partial.replace(path)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="SQLAlchemy URL of the database to load into")
    parser.add_argument("--replace", action="store_true", help="drop Chinook's tables first")
    parser.add_argument("--download-only", action="store_true", help="only fetch the sdist")
    parser.add_argument("--example", action="store_true", help=f"rebuild {EXAMPLE.name}")
    args = parser.parse_args(argv)

    if args.download_only:
        print(download())
        return 0
    if args.example == bool(args.url):
        parser.error("give a URL or --example")
    started = time.perf_counter()
    if args.example:
        counts = build_example()
        where = f"{EXAMPLE.relative_to(REPO)} ({EXAMPLE.stat().st_size:,} bytes)"
    else:
        counts = load_chinook(args.url, replace=args.replace)
        where = args.url.split("://", 1)[0]
    for table, count in counts.items():
        print(f"{table:14} {count:6,}")
    total = sum(counts.values())
    print(f"{'total':14} {total:6,}  into {where} in {time.perf_counter() - started:.2f} s")
    if total != TOTAL_ROWS:
        print(f"chinook: expected {TOTAL_ROWS:,} rows, got {total:,}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
