"""The import layering of appctl's packages, and what `appctl --help` may import.

Each top-level package has a rank; a module may import only from packages of a lower rank
(``appctl.errors`` and ``appctl/__init__`` are the floor every package may use). Sync sits
above generate because the sync use case writes tools.json and checks each tool for its
consumers; the executor may use sync's connection helpers (database URLs, credentials):

    errors < contract < config < generate < sync < execute < doctor, session < agent < serve < cli

Imports inside functions count as much as module-level ones (they are how the lazy-import
rule is kept, not a way around the layers). Packages of the same rank may not import each
other, so there is no cycle between top-level packages.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "appctl"

RANKS = {
    "appctl": 0,
    "appctl.errors": 0,
    "appctl.contract": 1,
    "appctl.config": 2,
    "appctl.generate": 3,
    "appctl.sync": 4,
    "appctl.execute": 5,
    "appctl.doctor": 6,
    "appctl.session": 6,
    "appctl.agent": 7,
    "appctl.serve": 8,
    "appctl.cli": 9,
    "appctl.__main__": 10,
}

# Libraries `appctl --help` must not import (each costs tens to hundreds of milliseconds).
HEAVY = ("sqlalchemy", "pydantic", "httpx", "httpcore", "openai", "anthropic", "google", "mcp")


def _module(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(module: str) -> str:
    top = ".".join(module.split(".")[:2])
    return top if top in RANKS else "appctl"


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "appctl":
                for alias in node.names:
                    yield node.lineno, f"appctl.{alias.name}"
            elif node.module.startswith("appctl."):
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("appctl."):
                    yield node.lineno, alias.name


def layering_violations(root: Path = PACKAGE) -> list[str]:
    """Every import of a package from a lower-ranked or same-ranked sibling package."""
    found = []
    for path in sorted(root.rglob("*.py")):
        importer = _package(_module(path, root))
        for line, target in _imports(path):
            imported = _package(target)
            if imported == importer or imported in ("appctl", "appctl.errors"):
                continue
            if RANKS[imported] >= RANKS[importer]:
                where = path.relative_to(root.parent)
                found.append(f"{where}:{line}: {importer} imports {target}")
    return found


def test_every_top_level_package_has_a_rank() -> None:
    packages = {_module(p) for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()}
    packages = {p for p in packages if not p.endswith("__pycache__") and p != "appctl"}
    assert packages <= set(RANKS), sorted(packages - set(RANKS))


def test_packages_import_only_lower_layers() -> None:
    assert layering_violations() == []


def test_a_forbidden_import_is_found(tmp_path: Path) -> None:
    """The check itself can fail: a contract module importing the executor is reported."""
    copy = tmp_path / "appctl"
    (copy / "contract").mkdir(parents=True)
    (copy / "execute").mkdir()
    (copy / "contract" / "models.py").write_text(
        "def f():\n    from appctl.execute.executor import call\n    return call\n"
    )
    (copy / "execute" / "executor.py").write_text("from appctl.contract.models import Action\n")
    assert layering_violations(copy) == [
        "appctl/contract/models.py:2: appctl.contract imports appctl.execute.executor"
    ]


_PROBE = """
import json, sys
sys.argv = ["appctl", "--help"]
from appctl.cli.main import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("argv", [["--help"], ["sync", "--help"], ["call", "--help"]])
def test_help_imports_no_heavy_library(argv: list[str]) -> None:
    probe = _PROBE.replace('["appctl", "--help"]', json.dumps(["appctl", *argv]))
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    modules = json.loads(proc.stdout.strip().splitlines()[-1])
    heavy = sorted({m for m in modules if m.split(".")[0] in HEAVY})
    assert heavy == [], heavy
