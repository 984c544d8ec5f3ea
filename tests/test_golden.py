"""Byte-for-byte golden tests: each OpenAPI fixture, synced with the installed CLI.

For every spec in ``FIXTURES`` the ``appctl`` console script syncs it into a fresh app dir
(cwd = the repo root, spec given as a repo-relative path, so the recorded location is the
same on every machine), then prints every tool format and the guide. Each output must match
``fixtures/golden/<fixture>/<file>`` exactly. ``pytest --update-golden`` rewrites the files
instead (and removes stale ones); review the diff before committing it.

``warnings.txt`` records what each command printed on stderr (the app dir replaced by
``<app-dir>``, the repo root by ``<repo>``), so a new or lost warning shows up as a golden
diff too.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPECS = Path("fixtures/openapi")  # relative to REPO on purpose: the contract records it
GOLDEN = REPO / "fixtures" / "golden"

# fixture name → spec path, relative to the repo root
FIXTURES: dict[str, str] = {
    "petstore-swagger2": "petstore-swagger2.json",
    "petstore-openapi30": "petstore-openapi30.yaml",
    "petstore-openapi31": "petstore-openapi31.json",
    "circular": "circular.yaml",
    "allof": "allof.yaml",
    "bodies": "bodies.yaml",
    "swagger2-formdata": "swagger2-formdata.yaml",
    "names": "names.yaml",
    "servers": "servers.yaml",
    "servers-relative": "servers-relative.yaml",
    "parameters": "parameters.yaml",
    "schemas-31": "schemas-31.yaml",
    "multi": "multi/main.yaml",
    "security": "security.yaml",
    "safety": "safety.yaml",
    "descriptions": "descriptions.yaml",
}

# output file → the `appctl tools` arguments that print it
TOOL_FORMATS: dict[str, tuple[str, ...]] = {
    "openai.json": ("--format", "openai"),
    "openai-strict.json": ("--format", "openai", "--strict"),
    "openai-responses.json": ("--format", "openai-responses"),
    "anthropic.json": ("--format", "anthropic"),
    "gemini.json": ("--format", "gemini"),
    "mcp.json": ("--format", "mcp"),
    "jsonschema.json": ("--format", "jsonschema"),
}
OUTPUTS: tuple[str, ...] = (
    "schema.json",
    "tools.json",
    *TOOL_FORMATS,
    "guide.md",
    "warnings.txt",
)
APP_DIR_MARK = "<app-dir>"
REPO_MARK = "<repo>"


def appctl_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m appctl``."""
    script = Path(sys.executable).parent / "appctl"
    if script.exists():
        return [str(script)]
    found = shutil.which("appctl")
    return [found] if found else [sys.executable, "-m", "appctl"]


@dataclass(frozen=True)
class Run:
    files: dict[str, bytes]  # output file name → bytes


def _env(hash_seed: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPCTL_")}
    env.update(PYTHONHASHSEED=hash_seed, LC_ALL="C.UTF-8", NO_COLOR="1")
    return env


def _appctl(app_dir: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    cmd = [*appctl_command(), "--app-dir", str(app_dir), *args]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"appctl {' '.join(args)} exited {done.returncode}:\n"
            + done.stderr.decode("utf-8", "replace"),
            pytrace=False,
        )
    return done


def _log(args: tuple[str, ...], stderr: bytes, app_dir: Path) -> list[str]:
    text = stderr.decode("utf-8").replace(str(app_dir), APP_DIR_MARK)
    text = text.replace(str(REPO), REPO_MARK)  # absolute paths in messages
    return [f"$ appctl {' '.join(args)}\n", text]


def render_all(name: str, app_dir: Path, *, hash_seed: str = "0") -> Run:
    """Sync fixture ``name`` into ``app_dir`` (which must not exist) and collect every output."""
    env = _env(hash_seed)
    spec = (SPECS / FIXTURES[name]).as_posix()
    assert not app_dir.exists()
    log: list[str] = []
    sync_args = ("sync", "--tools", "--openapi", spec)
    log += _log(sync_args, _appctl(app_dir, *sync_args, env=env).stderr, app_dir)
    files = {
        "schema.json": (app_dir / "schema.json").read_bytes(),
        "tools.json": (app_dir / "tools.json").read_bytes(),
    }
    commands = {out: ("tools", *args) for out, args in TOOL_FORMATS.items()}
    commands["guide.md"] = ("guide",)
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:  # read-only: safe in parallel
        results = dict(
            zip(
                commands,
                pool.map(lambda a: _appctl(app_dir, *a, env=env), commands.values()),
                strict=True,
            )
        )
    for out, args in commands.items():
        files[out] = results[out].stdout
        if results[out].stderr:
            log += _log(args, results[out].stderr, app_dir)
    files["warnings.txt"] = "".join(log).encode("utf-8")
    return Run(files=files)


_CACHE: dict[str, Run] = {}


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """``rendered(name)``: every output of one fixture, produced once per session."""

    def get(name: str) -> Run:
        if name not in _CACHE:
            base = tmp_path_factory.mktemp(f"golden-{name}")
            _CACHE[name] = render_all(name, base / ".appctl")
        return _CACHE[name]

    return get


def _diff(expected: bytes, actual: bytes, name: str, limit: int = 80) -> str:
    lines = list(
        difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(),
            actual.decode("utf-8", "replace").splitlines(),
            fromfile=f"golden/{name}",
            tofile="appctl output",
            lineterm="",
        )
    )
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_golden(fixture: str, output: str, rendered, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    actual = rendered(fixture).files[output]
    path = GOLDEN / fixture / output
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != actual:
            path.write_bytes(actual)
        return
    if not path.exists():
        pytest.fail(f"no golden file {path.relative_to(REPO)}; run pytest --update-golden")
    expected = path.read_bytes()
    if expected != actual:
        shown = _diff(expected, actual, f"{fixture}/{output}")
        pytest.fail(
            f"{path.relative_to(REPO)} differs from appctl's output "
            f"(pytest --update-golden rewrites it):\n{shown}",
            pytrace=False,
        )


def test_golden_files_are_exactly_the_expected_set(request: pytest.FixtureRequest) -> None:
    """No stale golden folder or file (``--update-golden`` removes them)."""
    expected = {Path(f, o) for f in FIXTURES for o in OUTPUTS}
    present = {p.relative_to(GOLDEN) for p in GOLDEN.rglob("*") if p.is_file()}
    stale = sorted(present - expected)
    if request.config.getoption("--update-golden"):
        for rel in stale:
            (GOLDEN / rel).unlink()
        for folder in sorted(GOLDEN.iterdir()):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return
    assert not stale, f"stale golden files: {[str(p) for p in stale]}"


def test_every_spec_is_a_fixture() -> None:
    """A spec added under fixtures/openapi/ without a golden entry is a forgotten test."""
    specs = {
        p.relative_to(REPO / SPECS).as_posix()
        for p in (REPO / SPECS).rglob("*")
        if p.suffix in (".json", ".yaml", ".yml")
    }
    referenced_only = {"multi/schemas.yaml"}  # reached through a $ref, not synced on its own
    assert specs - referenced_only == set(FIXTURES.values())


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_deterministic(fixture: str, rendered, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A second sync (fresh dir, other hash seed) gives the same bytes for every output."""
    first = rendered(fixture)
    second = render_all(fixture, tmp_path / ".appctl", hash_seed="12345")
    for output in OUTPUTS:
        assert second.files[output] == first.files[output], (
            f"{fixture}/{output} changed between two syncs:\n"
            + _diff(first.files[output], second.files[output], f"{fixture}/{output}")
        )


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_resync_in_place_is_stable(fixture: str, rendered, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Syncing the same spec again into the same app dir rewrites identical files."""
    app_dir = tmp_path / ".appctl"
    spec = (SPECS / FIXTURES[fixture]).as_posix()
    for seed, flags in (("7", ("--tools",)), ("8", ())):  # once there, tools.json is refreshed
        _appctl(app_dir, "sync", *flags, "--openapi", spec, env=_env(seed))
    first = rendered(fixture)
    for output in ("schema.json", "tools.json"):
        assert (app_dir / output).read_bytes() == first.files[output], f"{fixture}/{output}"


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_tools_json_is_the_jsonschema_format(fixture: str, rendered) -> None:  # type: ignore[no-untyped-def]
    files = rendered(fixture).files
    assert files["tools.json"] == files["jsonschema.json"]
