"""``scripts/prove-real-dbs``: the comparison it documents can fail, and its pipeline (sync,
``appctl mcp`` through the SDK client, walks by cursor and offset, gets, schema validation)
passes on small awkward SQLite tables and fails on a value that differs.

Prefect and MLflow themselves are not installed by ``scripts/test`` (minutes and hundreds of
MB); the proof on their schemas is the documented command."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.runner import APPCTL

sys.path.insert(0, str(REPO / "scripts" / "realdbs"))
import compare


def col(kind: str, sqltype: str = "", **schema: Any) -> dict[str, Any]:
    return {"kind": kind, "type": sqltype, "schema": schema}


DT = col("string", "TIMESTAMP", format="date-time")


@pytest.mark.parametrize(
    ("got", "direct", "column", "same"),
    [
        ("1.005", Decimal("1.005"), col("string", "NUMERIC(10,3)"), True),
        ("1.00", Decimal("1.005"), col("string", "NUMERIC(10,3)"), False),
        ("13.86", 13.86, col("string", "NUMERIC(10,2)"), True),
        ("NaN", math.nan, col("number"), True),
        (None, math.nan, col("number"), False),
        ("-Infinity", -math.inf, col("number"), True),
        (0.30000000000000004, 0.3, col("number"), False),
        ({"$json": None}, b"null", col("json"), True),
        (None, b"null", col("json"), False),
        ({"a": 1}, '{"a": 2}', col("json"), False),
        (True, 1, col("boolean"), True),
        (False, 1, col("boolean"), False),
        (1, True, col("integer"), False),
        ("2024-01-01T00:00:00+00:00", b"2024-01-01 00:00:00.000000+00:00", DT, True),
        ("2024-01-01T00:00:00", b"2024-01-01 00:00:00+00:00", DT, False),
        (
            "P1DT2H",
            dt.timedelta(days=1, hours=2),
            col("string", "INTERVAL", format="duration"),
            True,
        ),
        ("AAE=", b"\x00\x01", col("binary"), True),
        ("AAI=", b"\x00\x01", col("binary"), False),
        ("caf\ufffd", b"caf\xe9", col("string"), True),
        ([1, [2, None]], [1, [2, None]], col("array", items={}), True),
        ([1, 2], [1, 3], col("array", items={}), False),
    ],
)
def test_the_documented_comparison(
    got: Any, direct: Any, column: dict[str, Any], same: bool
) -> None:
    assert compare.same(got, direct, column) is same


def test_a_cut_value_must_start_the_whole_one() -> None:
    assert compare.prefix_of("abc", b"abcdef", col("string"))
    assert not compare.prefix_of("abd", b"abcdef", col("string"))
    assert compare.prefix_of('{"k":[1,', b'{"k": [1, 2]}', col("json"))
    assert compare.prefix_of([1], [1, 2], col("array"))
    assert not compare.prefix_of([2], [1, 2], col("array"))


def _awkward(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price NUMERIC(10, 2),
          ratio REAL, flag BOOLEAN, born DATE, seen TIMESTAMP, data BLOB, doc JSON);
        CREATE TABLE pair (a TEXT, b BOOLEAN, v INTEGER, PRIMARY KEY (a, b));
        CREATE TABLE "limit" ("limit" INTEGER PRIMARY KEY, "offset" TEXT);
        """
    )
    for i in range(520):  # more than one page by cursor (500) and three by offset (137)
        conn.execute(
            "INSERT INTO item VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                i,
                "é" * 30_000 if i == 0 else None if i % 7 == 0 else "x" * (i % 50) + " ü 'q' \\",
                f"{i}.{i % 100:02d}",
                i / 3 if i % 5 else None,
                i % 2,
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                f"2024-01-01 00:00:{i % 60:02d}.{i:06d}",
                bytes([i % 256, 0, 255]),
                f'{{"i": {i}, "n": null, "l": [1.5, "a"]}}',
            ),
        )
    conn.executemany(
        "INSERT INTO pair VALUES (?, ?, ?)", [(f"k{i % 40}", i >= 40, i) for i in range(80)]
    )
    conn.executemany('INSERT INTO "limit" VALUES (?, ?)', [(i, str(i)) for i in range(3)])
    conn.execute("CREATE VIEW noisy AS SELECT id, random() AS r FROM item")
    conn.commit()
    conn.close()


def _prove(db: Path, work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "realdbs" / "prove.py"),
            "--db",
            str(db),
            "--gets",
            "5",
            "--work",
            str(work),
            "--appctl",
            APPCTL,
            "--max-seconds",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=work,
    )


def test_the_proof_passes_on_awkward_tables_and_fails_where_a_value_differs(
    tmp_path: Path,
) -> None:
    """Three awkward tables read exactly (a row over the result budget among them: cut on
    its pages, read whole with --full); a view of random() reads differently each time, so
    the proof must name it, row and column, and exit 1 (one run: it takes seconds)."""
    _awkward(tmp_path / "a.db")
    done = _prove(tmp_path / "a.db", tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    figures = (
        "4 tables, 1123 rows read directly, listed 603 by cursor, 1123 by offset and 603 by "
        "cursor sorted on another column (3 pages with a cut row), 13 gets (1 cut, read whole "
        "with --full)"
    )
    assert figures in done.stdout
    assert "mismatch: noisy by offset row 0: r: got " in done.stdout
    reported = [line for line in done.stdout.splitlines() if line.startswith("  ")]
    wrong = [line for line in reported if any(t in line for t in ("item", "pair", "limit"))]
    assert not wrong, wrong
    assert "failed: db " in done.stdout
