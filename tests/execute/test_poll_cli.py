"""`appctl call` on a long-running operation: the handle of a timeout resumes in another
process (the key is the app dir's), and a terminal sees one progress line, erased after."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from appctl.cli.progress import StatusLine
from appctl.contract.io import dump_schema, write_atomic
from tests import runner
from tests.helpers import sync_doc
from tests.lro_app import LroApp, lro_app, spec

CONFIG = """\
policy:
  - {match: {name: "*"}, action: allow}
  - {match: {name: start_job}, wait: 0}
"""


@pytest.fixture
def app() -> Iterator[LroApp]:
    with lro_app() as running:
        yield running


@pytest.fixture
def project(tmp_path: Path, app: LroApp) -> Path:
    schema = sync_doc(spec(), base_url=app.url).schema
    write_atomic(tmp_path / ".appctl" / "schema.json", dump_schema(schema))
    (tmp_path / ".appctl" / "config.yaml").write_text(CONFIG)
    return tmp_path


def test_a_timeout_handle_resumes_in_another_call(project: Path, app: LroApp) -> None:
    first = runner.invoke("call", "start_job", "polls=-1", "--json", cwd=project, code=1)
    envelope = json.loads(first.stdout)
    assert envelope["error"]["category"] == "timeout"
    handle = envelope["operation"]["handle"]
    plain = runner.invoke("call", "start_job", "polls=-1", cwd=project, code=1)
    assert "appctl_poll" in plain.stderr  # a person is told what to run too
    app.finish("1")
    resumed = runner.invoke("call", "appctl_poll", f"operation={handle}", cwd=project, code=0)
    assert json.loads(resumed.stdout) == {"id": "1", "made": True}
    assert app.writes == ["POST /jobs", "POST /jobs"]  # one per start_job call, none from polls
    history = runner.invoke("history", "--json", cwd=project, code=0)
    rows = json.loads(history.stdout)
    assert [(r["tool"], r["outcome"]) for r in rows] == [
        ("start_job", "failed"),
        ("start_job", "failed"),
        ("appctl_poll", "ok"),
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_status_line_is_drawn_on_a_terminal_and_erased() -> None:
    shown = Terminal()
    with StatusLine(stream=shown) as line:
        line("start_job: accepted (poll 1, 0 s)")
        line("start_job: running\n(poll 2, 1 s)")
    text = shown.getvalue()
    assert "start_job: accepted (poll 1, 0 s)" in text
    assert "running (poll 2" in text  # a line break would break the line: made a space
    assert text.endswith("\r\x1b[2K")  # erased: the result prints as it would without it
    piped = io.StringIO()
    with StatusLine(stream=piped) as line:
        line("start_job: accepted")
    assert piped.getvalue() == ""
