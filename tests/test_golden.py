"""Byte-for-byte golden tests: each OpenAPI fixture, synced with appctl's CLI.

For every spec in ``FIXTURES`` ``appctl`` syncs it into a fresh app dir
(cwd = the repo root, spec given as a repo-relative path, so the recorded location is the
same on every machine), then prints every tool format and the guide. Each output must match
``fixtures/golden/<fixture>/<file>`` exactly. ``pytest --update-golden`` rewrites the files
instead (and removes stale ones); review the diff before committing it.

The CLI runs in this process (tests/runner.py ``invoke``: the console script's own ``main()``);
the determinism check renders every fixture again in one more interpreter with another hash
seed.

``warnings.txt`` records what each command printed on stderr (the app dir replaced by
``<app-dir>``, the repo root by ``<repo>``), so a new or lost warning shows up as a golden
diff too.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import runner

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


@dataclass(frozen=True)
class Run:
    files: dict[str, bytes]  # output file name → bytes


# what every run sets; the determinism check's process adds another PYTHONHASHSEED
ENV = {"LC_ALL": "C.UTF-8", "NO_COLOR": "1"}


def _appctl(app_dir: Path, *args: str) -> runner.Invoked:
    """``appctl --app-dir APP_DIR ARGS`` in this process (cwd = the repo root)."""
    done = runner.invoke("--app-dir", str(app_dir), *args, cwd=REPO, env=ENV, code=None)
    if done.returncode != 0:
        pytest.fail(f"appctl {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done


def _log(args: tuple[str, ...], stderr: bytes, app_dir: Path) -> list[str]:
    text = stderr.decode("utf-8").replace(str(app_dir), APP_DIR_MARK)
    text = text.replace(str(REPO), REPO_MARK)  # absolute paths in messages
    return [f"$ appctl {' '.join(args)}\n", text]


def render_all(name: str, app_dir: Path) -> Run:
    """Sync fixture ``name`` into ``app_dir`` (which must not exist) and collect every output."""
    spec = (SPECS / FIXTURES[name]).as_posix()
    assert not app_dir.exists()
    log: list[str] = []
    sync_args = ("sync", "--tools", "--openapi", spec)
    log += _log(sync_args, _appctl(app_dir, *sync_args).stderr_bytes, app_dir)
    files = {
        "schema.json": (app_dir / "schema.json").read_bytes(),
        "tools.json": (app_dir / "tools.json").read_bytes(),
    }
    commands = {out: ("tools", *args) for out, args in TOOL_FORMATS.items()}
    commands["guide.md"] = ("guide",)
    for out, args in commands.items():
        done = _appctl(app_dir, *args)
        files[out] = done.stdout_bytes
        if done.stderr_bytes:
            log += _log(args, done.stderr_bytes, app_dir)
    files["warnings.txt"] = "".join(log).encode("utf-8")
    return Run(files=files)


def resync_in_place(name: str, app_dir: Path) -> Run:
    """Sync fixture ``name`` into ``app_dir`` twice (once there, tools.json is refreshed)."""
    spec = (SPECS / FIXTURES[name]).as_posix()
    for flags in (("--tools",), ()):
        _appctl(app_dir, "sync", *flags, "--openapi", spec)
    return Run(files={o: (app_dir / o).read_bytes() for o in ("schema.json", "tools.json")})


def render_tree(out: str) -> None:
    """Every fixture's outputs, fresh and re-synced in place, as files under ``out``: what
    the determinism check's second interpreter (another hash seed) hands back."""
    for name in FIXTURES:
        for kind, run in (
            ("fresh", render_all(name, Path(out, "app", name, ".appctl"))),
            ("resync", resync_in_place(name, Path(out, "app-resync", name, ".appctl"))),
        ):
            for output, data in run.files.items():
                path = Path(out, kind, name, output)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)


def _reseeded(out: Path) -> None:
    code = f"from tests.test_golden import render_tree; render_tree({str(out)!r})"
    env = {**ENV, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=runner.child_env(env),
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")


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


@pytest.fixture(scope="session")
def reseeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fixture rendered again by another interpreter with another hash seed (one
    process for all of them), fresh and re-synced in place: the folder it wrote."""
    out = tmp_path_factory.mktemp("golden-reseeded")
    _reseeded(out)
    return out


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_deterministic(fixture: str, rendered, reseeded: Path) -> None:  # type: ignore[no-untyped-def]
    """A second sync (fresh dir, other process, other hash seed) gives the same bytes for
    every output."""
    first = rendered(fixture)
    for output in OUTPUTS:
        second = (reseeded / "fresh" / fixture / output).read_bytes()
        assert second == first.files[output], (
            f"{fixture}/{output} changed between two syncs:\n"
            + _diff(first.files[output], second, f"{fixture}/{output}")
        )


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_resync_in_place_is_stable(fixture: str, rendered, reseeded: Path) -> None:  # type: ignore[no-untyped-def]
    """Syncing the same spec again into the same app dir rewrites identical files."""
    first = rendered(fixture)
    for output in ("schema.json", "tools.json"):
        again = (reseeded / "resync" / fixture / output).read_bytes()
        assert again == first.files[output], f"{fixture}/{output}"


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_tools_json_is_the_jsonschema_format(fixture: str, rendered) -> None:  # type: ignore[no-untyped-def]
    files = rendered(fixture).files
    assert files["tools.json"] == files["jsonschema.json"]
