"""Source plugins: examples/appctl-source-csv installed with pip as a distribution (into a
throwaway ``--target`` directory on PYTHONPATH), listed by ``appctl sources``, synced through
``--source csv --option ...`` and its tools called against a real HTTP server; and the
failures of a plugin (import error, bad object, exception, bad return) each a clear error
naming it, nothing written."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests import runner
from tests.conftest import REPO, serving

EXAMPLE = REPO / "examples" / "appctl-source-csv"
ENDPOINTS = """\
name,method,path,summary,params
list_notes,GET,/notes,List the notes,q:query:string limit:query:integer
get_note,GET,/notes/{id},One note,id:path:integer
create_note,POST,/notes,Add a note,title:body:string! done:body:boolean
delete_note,DELETE,/notes/{id},Remove a note,id:path:integer
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/appctl-source-csv installed by pip, as a user would, into its own folder (a
    copy of the example: pip may build in the source tree)."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("example") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",  # hatchling from the dev extra: nothing fetched
            "--no-cache-dir",  # nothing written outside the test's folders
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def _env(*paths: Path) -> dict[str, str]:
    return {"PYTHONPATH": ":".join(str(p) for p in paths)}


class Notes(http.server.BaseHTTPRequestHandler):
    """A small notes API, the one endpoints.csv describes."""

    notes: ClassVar[dict[int, dict[str, object]]] = {}

    def _send(self, status: int, body: object = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/notes":
            q = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("q", "")
            self._send(200, [n for n in self.notes.values() if q in str(n["title"])])
        else:
            note = self.notes.get(int(path.rsplit("/", 1)[1]))
            self._send(200 if note else 404, note or {"error": "no such note"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        note = {"id": len(self.notes) + 1, "done": False, **body}
        self.notes[int(note["id"])] = note
        self._send(201, note)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def notes_api() -> Iterator[str]:
    Notes.notes = {1: {"id": 1, "title": "buy milk", "done": False}}
    with serving(Notes) as url:
        yield url


def test_the_example_plugin_is_listed_as_installed(site: Path, tmp_path: Path) -> None:
    proc = runner.appctl("sources", "--json", cwd=tmp_path, env=_env(site))
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert rows["csv"]["distribution"] == "appctl-source-csv"
    assert rows["csv"]["version"] == "0.1.0"
    assert rows["csv"]["use"] == "--source csv"
    assert "CSV" in rows["csv"]["summary"]
    assert [o["name"] for o in rows["csv"]["options"]] == ["file", "base_url", "max_rows"]
    assert {"openapi", "db"} <= set(rows)  # the built-in ones beside it
    table = runner.appctl("sources", cwd=tmp_path, env=_env(site)).stdout
    line = next(row for row in table.splitlines() if row.startswith("csv "))
    assert line.split()[:4] == ["csv", "--source", "csv", "appctl-source-csv"]


def test_sync_from_the_plugin_then_call_its_tools(
    site: Path, tmp_path: Path, notes_api: str
) -> None:
    (tmp_path / "endpoints.csv").write_text(ENDPOINTS)
    sync = ["sync", "--source", "csv", "--option", "file=endpoints.csv"]
    proc = runner.appctl(*sync, "--option", f"base_url={notes_api}", cwd=tmp_path, env=_env(site))
    assert "4 actions" in proc.stderr, proc.stderr
    schema = json.loads((tmp_path / ".appctl" / "schema.json").read_text())
    assert schema["source"]["kind"] == "plugin" and schema["source"]["format"] == "csv"
    actions = {a["name"]: a for r in schema["resources"] for a in r["actions"]}
    assert sorted(actions) == ["create_note", "delete_note", "get_note", "list_notes"]
    assert actions["delete_note"]["safety"] == "destructive"

    got = runner.appctl("call", "get_note", "id=1", cwd=tmp_path, env=_env(site))
    assert "buy milk" in got.stdout
    made = runner.appctl(
        "call", "create_note", "title=call the plumber", "--yes", cwd=tmp_path, env=_env(site)
    )
    assert "call the plumber" in made.stdout
    assert Notes.notes[2]["title"] == "call the plumber"  # it reached the server

    # --check: the same CSV is up to date; a changed one is drift, exit 1
    check = [*sync, "--option", f"base_url={notes_api}", "--check"]
    runner.appctl(*check, cwd=tmp_path, env=_env(site))
    (tmp_path / "endpoints.csv").write_text(ENDPOINTS.replace("One note", "Read one note"))
    drift = runner.appctl(*check, cwd=tmp_path, env=_env(site), code=1)
    assert "changed: get_note" in drift.stdout


def test_the_plugin_options_are_checked_before_it_runs(site: Path, tmp_path: Path) -> None:
    sync = ["sync", "--source", "csv"]
    missing = runner.appctl(*sync, "--option", "file=x.csv", cwd=tmp_path, env=_env(site), code=2)
    assert "source plugin 'csv' (appctl-source-csv 0.1.0) needs base_url" in missing.stderr
    typo = runner.appctl(*sync, "--option", "fiel=x.csv", cwd=tmp_path, env=_env(site), code=2)
    assert "takes no option 'fiel'. Did you mean 'file'?" in typo.stderr
    typed = runner.appctl(
        *sync,
        "--option",
        "file=x",
        "--option",
        "base_url=http://h",
        "--option",
        "max_rows=many",
        cwd=tmp_path,
        env=_env(site),
        code=2,
    )
    assert "option max_rows takes a whole number, not 'many'" in typed.stderr
    unknown = runner.appctl("sync", "--source", "cvs", cwd=tmp_path, env=_env(site), code=2)
    assert "no source plugin called 'cvs' is installed Did you mean 'csv'?" in unknown.stderr
    assert not (tmp_path / ".appctl" / "schema.json").exists()


def _broken_plugin(root: Path, body: str, *, entry: str = "broken_source:Source") -> Path:
    """A distribution ``broken-source`` 1.0 (metadata and module) in ``root``, as pip lays one."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "broken_source.py").write_text(textwrap.dedent(body))
    info = root / "broken_source-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-source\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[appctl.sources]\nbroken = {entry}\n")
    return root


GOOD_SHAPE = """
    from appctl.sync.plugins import PluginOption

    class Source:
        name = "broken"
        summary = "a plugin that fails"
        options = (PluginOption("mode", "how to fail"),)

        def build(self, options, *, environ):
            {build}
"""


@pytest.mark.parametrize(
    ("body", "entry", "said"),
    [
        (
            "import no_such_module_here\n",
            "broken_source:Source",
            "failed to load: ModuleNotFoundError: No module named 'no_such_module_here'",
        ),
        (
            "Source = 42\n",
            "broken_source:Source",
            "is not a source plugin: broken_source:Source has no name, summary, options, build",
        ),
        (
            GOOD_SHAPE.format(build="raise RuntimeError('the catalogue is locked')"),
            "broken_source:Source",
            "failed: RuntimeError: the catalogue is locked",
        ),
        (
            GOOD_SHAPE.format(build="return {'not': 'a contract'}"),
            "broken_source:Source",
            "returned dict, not (Contract, [Diagnostic, ...])",
        ),
        (
            GOOD_SHAPE.format(
                build="from appctl.errors import SourceError; raise SourceError("
                "'no catalogue at /nowhere', suggestion='Give mode=ok.')"
            ),
            "broken_source:Source",
            "source plugin 'broken' (broken-source 1.0): no catalogue at /nowhere",
        ),
    ],
    ids=["import-error", "not-a-plugin", "raises", "bad-return", "own-error"],
)
def test_a_failing_plugin_is_a_clear_error_naming_it(
    tmp_path: Path, body: str, entry: str, said: str
) -> None:
    site = _broken_plugin(tmp_path / "site", body, entry=entry)
    proc = runner.appctl("sync", "--source", "broken", cwd=tmp_path, env=_env(site), code=1)
    assert said in proc.stderr, proc.stderr
    assert "'broken' (broken-source 1.0)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / ".appctl" / "schema.json").exists()


def test_sources_lists_a_plugin_that_fails_to_load_and_exits_1(tmp_path: Path) -> None:
    site = _broken_plugin(tmp_path / "site", "import no_such_module_here\n")
    proc = runner.appctl("sources", cwd=tmp_path, env=_env(site), code=1)
    line = next(row for row in proc.stdout.splitlines() if row.startswith("broken "))
    assert "broken-source" in line and "error: source plugin 'broken'" in line
    assert "openapi" in proc.stdout  # the rest is still listed


def test_help_and_other_sources_never_import_a_plugin(tmp_path: Path) -> None:
    """Plugins are imported only when chosen or listed: a plugin whose import leaves a mark
    is not imported by --help, sync --help or a sync from a document."""
    mark = tmp_path / "imported"
    site = _broken_plugin(tmp_path / "site", f"open({str(mark)!r}, 'w').close()\n")
    for args in (["--help"], ["sync", "--help"]):
        runner.appctl(*args, cwd=tmp_path, env=_env(site))
    (tmp_path / "api.json").write_text(
        json.dumps({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}})
    )
    runner.appctl("sync", "--openapi", "api.json", cwd=tmp_path, env=_env(site))
    assert not mark.exists()
    runner.appctl("sources", cwd=tmp_path, env=_env(site), code=1)  # listed: imported
    assert mark.exists()
