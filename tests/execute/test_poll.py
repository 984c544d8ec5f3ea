"""Long-running operations end to end against a real API on 127.0.0.1 (tests/lro_app.py):
the write is sent once, its operation polled (GET, same origin, Retry-After honoured) to
the final resource, a failure or a timeout whose handle ``appctl_poll`` resumes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from appctl.config import Config, Match, Rule
from appctl.contract.models import Contract
from appctl.contract.polltool import POLL_TOOL
from appctl.execute.audit.history import History
from appctl.execute.continuation import Sealer
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory, ToolResult
from tests.helpers import sync_doc
from tests.lro_app import LroApp, lro_app, spec

KEY = b"k" * 32


@pytest.fixture
def app() -> Iterator[LroApp]:
    with lro_app() as running:
        yield running


@pytest.fixture(scope="module")
def contract() -> Contract:
    return sync_doc(spec()).schema


def options(app: LroApp, *, wait: float | None = None, **more: Any) -> CallOptions:
    rules = [Rule(match=Match(name="*"), action="allow")]
    if wait is not None:
        rules.append(Rule(match=Match(name="*"), wait=wait))
    config = Config(policy=rules)
    return CallOptions(base_url=app.url, config=config, sealer=Sealer(KEY), **more)


def run(contract: Contract, tool: str, args: dict[str, Any], opts: CallOptions) -> ToolResult:
    return call(contract, tool, args, opts, environ={})


def test_a_202_location_job_is_polled_to_its_final_resource(
    contract: Contract, app: LroApp
) -> None:
    told: list[str] = []
    result = run(contract, "start_job", {"polls": 3}, options(app, progress=told.append))
    assert result.ok, result
    assert result.data == {"id": "1", "made": True}  # the 303's target, read with GET
    assert app.writes == ["POST /jobs"]  # the write was sent exactly once
    assert len(app.reads_of("/jobs/1/status")) == 3
    assert result.operation is not None and result.operation["state"] == "succeeded"
    assert result.operation["polls"] == 3
    assert any("start_job: accepted (poll 1" in m for m in told), told


def test_work_done_at_once_is_not_polled(contract: Contract, app: LroApp) -> None:
    result = run(contract, "start_job", {"at_once": True}, options(app))
    assert result.ok and result.status == 201 and result.data == {"id": "1", "made": True}
    assert result.operation is None and not app.reads  # its Location is the resource made


def test_a_job_that_never_ends_times_out_with_a_handle_that_resumes(
    contract: Contract, app: LroApp
) -> None:
    opts = options(app, wait=2)
    started = time.monotonic()
    result = run(contract, "start_job", {"polls": -1, "retry_after": ""}, opts)
    took = time.monotonic() - started
    assert took < 2 + 3
    assert result.error is not None and result.error.category == ErrorCategory.TIMEOUT
    assert result.operation is not None and result.operation["state"] == "running"
    handle = result.operation["handle"]
    assert handle in result.error.suggestions[0]  # what the model is told to pass on
    assert app.writes == ["POST /jobs"]
    polled = len(app.reads_of("/jobs/1/status"))
    assert polled >= 1

    app.finish("1")
    resumed = run(contract, POLL_TOOL, {"operation": handle}, opts)
    assert resumed.ok, resumed
    assert resumed.tool == POLL_TOOL
    assert resumed.data == {"id": "1", "made": True}
    assert app.writes == ["POST /jobs"]  # appctl_poll never sends the write again
    assert len(app.reads_of("/jobs/1/status")) == polled + 1


def test_a_status_that_never_answers_ends_within_the_wait(contract: Contract, app: LroApp) -> None:
    started = time.monotonic()
    result = run(contract, "start_job", {"hang": True}, options(app, wait=2))
    assert time.monotonic() - started < 2 + 3  # each poll within the wait left
    assert result.error is not None and result.error.category == ErrorCategory.TIMEOUT
    assert result.operation is not None and result.operation["handle"]
    assert "could not be read" in result.operation["status"]
    assert app.writes == ["POST /jobs"]


def test_a_still_running_resume_hands_out_a_new_handle(contract: Contract, app: LroApp) -> None:
    opts = options(app, wait=0)
    first = run(contract, "start_job", {"polls": -1}, opts)
    assert first.operation is not None and first.operation["polls"] == 0
    again = run(contract, POLL_TOOL, {"operation": first.operation["handle"]}, opts)
    assert again.error is not None and again.error.category == ErrorCategory.TIMEOUT
    assert again.operation is not None and again.operation["handle"]
    assert again.operation["polls"] == 1  # a resume reads the status once, even with no wait
    assert app.writes == ["POST /jobs"] and len(app.reads) == 1


def test_retry_after_is_honoured(contract: Contract, app: LroApp) -> None:
    result = run(contract, "start_job", {"polls": -1, "retry_after": "2"}, options(app, wait=5))
    assert result.error is not None and result.error.category == ErrorCategory.TIMEOUT
    times = [t for t, _ in app.reads_of("/jobs/1/status")]
    # at 2 s and 4 s; backoff without Retry-After would have polled 4 or 5 times by 5 s
    assert 1 <= len(times) <= 2, times
    assert all(b - a >= 1.5 for a, b in pairwise(times)), times


def test_a_status_url_on_another_origin_is_not_followed(contract: Contract, app: LroApp) -> None:
    result = run(contract, "start_job", {"elsewhere": True}, options(app))
    assert result.ok and result.status == 202  # the write was accepted; its status unread
    assert result.operation == {
        "state": "not_followed",
        "status_url": f"http://localhost:{app.port}/jobs/1/status",
    }
    assert any("another origin" in n for n in result.notes)
    assert not app.reads  # nothing was sent there (nor anywhere)


def test_a_failed_operation_takes_its_category_from_the_error(
    contract: Contract, app: LroApp
) -> None:
    fail = {"code": "Conflict", "message": "the name is taken"}
    result = run(contract, "start_azure", {"polls": 2, "fail": fail}, options(app))
    assert result.error is not None
    assert result.error.category == ErrorCategory.CONFLICT
    assert "the name is taken" in result.error.message
    assert result.operation is not None and result.operation["state"] == "failed"
    assert app.writes == ["POST /azure"]
    assert len(app.reads_of("/monitors/1")) == 2


def test_azure_operation_location_with_final_state_via_location(
    contract: Contract, app: LroApp
) -> None:
    result = run(contract, "make_vault", {"name": "v1", "polls": 2}, options(app))
    assert result.ok, result
    assert result.data == {"vault": "v1", "ready": True}  # read at the first Location
    assert [p for _, p in app.reads] == ["/ops/1", "/ops/1", "/vaults/v1/result"]
    assert app.writes == ["PUT /vaults/v1"]


def test_azure_put_without_final_state_via_reads_its_own_url(
    contract: Contract, app: LroApp
) -> None:
    args = {"name": "d1", "polls": 1, "api-version": "2024-01-01"}
    result = run(contract, "make_disk", args, options(app))
    assert result.ok, result
    assert result.data == {"disk": "d1", "ready": True}
    # the original URI with its query (Azure's api-version), not the bare path
    assert [p for _, p in app.reads] == ["/monitors/1", "/disks/d1?api-version=2024-01-01"]
    assert app.writes == ["PUT /disks/d1"]


def test_a_google_operation_resource(contract: Contract, app: LroApp) -> None:
    result = run(contract, "make_thing", {"polls": 2}, options(app))
    assert result.ok, result
    assert result.data == {"thing": "1"}  # the operation's response
    assert [p for _, p in app.reads] == ["/v1/operations/1", "/v1/operations/1"]
    failed = run(
        contract, "make_thing", {"polls": 1, "fail": {"code": 5, "message": "gone"}}, options(app)
    )
    assert failed.error is not None and failed.error.category == ErrorCategory.NOT_FOUND


@pytest.mark.parametrize("damage", ["tampered", "expired", "foreign key", "another tool"])
def test_a_bad_handle_is_refused_before_any_io(
    contract: Contract, app: LroApp, damage: str
) -> None:
    opts = options(app, wait=0)
    state = {"tool": "start_job", "status": f"{app.url}/jobs/1/status", "method": "POST"}
    handle = Sealer(KEY).seal(POLL_TOOL, {}, state)
    if damage == "tampered":
        handle = handle[:-3] + ("AAA" if handle[-3:] != "AAA" else "BBB")
    elif damage == "expired":
        handle = Sealer(KEY).seal(POLL_TOOL, {}, state, now=time.time() - 7200)
    elif damage == "foreign key":
        handle = Sealer(b"x" * 32).seal(POLL_TOOL, {}, state)
    else:
        handle = Sealer(KEY).seal("start_job", {}, state)
    result = run(contract, POLL_TOOL, {"operation": handle}, opts)
    assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
    assert "nothing was sent" in result.error.message
    assert not app.reads and not app.writes


def test_a_sound_handle_of_another_origin_is_refused(contract: Contract, app: LroApp) -> None:
    state = {"tool": "start_job", "status": "http://localhost:1/x", "method": "POST"}
    handle = Sealer(KEY).seal(POLL_TOOL, {}, state)
    result = run(contract, POLL_TOOL, {"operation": handle}, options(app))
    assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
    assert not app.reads


def test_appctl_poll_is_gated_and_recorded(contract: Contract, app: LroApp, tmp_path: Path) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    denied = Config(policy=[Rule(match=Match(name=POLL_TOOL), action="deny")])
    opts = CallOptions(base_url=app.url, config=denied, sealer=Sealer(KEY))
    result = call(contract, POLL_TOOL, {"operation": "c1.x.y"}, opts, environ={}, history=history)
    assert result.error is not None and result.error.category == ErrorCategory.REFUSED
    read_only = CallOptions(base_url=app.url, read_only=True, sealer=Sealer(KEY))
    result = call(
        contract, POLL_TOOL, {"operation": "c1.x.y"}, read_only, environ={}, history=history
    )
    assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
    rows = history.entries()
    assert [(r.tool, r.outcome) for r in rows] == [(POLL_TOOL, "refused"), (POLL_TOOL, "invalid")]
    history.close()


def test_the_history_row_says_polling_while_the_operation_runs(
    contract: Contract, app: LroApp, tmp_path: Path
) -> None:
    history = History(f"sqlite:///{tmp_path / 'history.db'}")
    opts = options(app, wait=20)
    done: list[ToolResult] = []
    args = {"polls": -1, "retry_after": "0.1"}
    thread = threading.Thread(
        target=lambda: done.append(
            call(contract, "start_job", args, opts, environ={}, history=history)
        )
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(app.reads) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        [row] = history.entries()
        assert row.outcome == "polling", row
        assert "poll" in (row.message or "")
    finally:
        app.finish("1")
        thread.join(timeout=20)
    assert done and done[0].ok
    [row] = history.entries()
    assert row.outcome == "ok" and row.status == 200
    history.close()


def test_appctl_poll_is_offered_only_beside_long_running_tools(contract: Contract) -> None:
    from appctl.generate.formats import FORMATS, render
    from appctl.generate.toolspec import build_tool_specs

    names = [s.name for s in build_tool_specs(contract)]
    assert names[-1] == POLL_TOOL and names.count(POLL_TOOL) == 1
    [poll] = [s for s in build_tool_specs(contract) if s.name == POLL_TOOL]
    assert poll.safety.value == "read_only" and poll.input_schema["required"] == ["operation"]
    for fmt in FORMATS:  # a name and schema every format takes as they are
        for strict in (False, True):
            assert not render(fmt, [poll], strict=strict).warnings, fmt
    reads = build_tool_specs(contract, include=["read_job", "get_operation"])
    assert POLL_TOOL not in [s.name for s in reads]  # no long-running tool offered
    assert POLL_TOOL not in [s.name for s in build_tool_specs(contract, exclude=[POLL_TOOL])]
    plain = sync_doc(
        {
            "openapi": "3.0.3",
            "info": {"title": "T", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
        }
    ).schema
    assert [s.name for s in build_tool_specs(plain)] == ["get_a"]
    result = call(plain, POLL_TOOL, {"operation": "x"}, CallOptions(), environ={})
    assert result.error is not None and result.error.reason is not None  # unknown tool there
    assert result.error.reason.value == "unknown_tool"


def test_polls_carry_the_actions_credentials(app: LroApp) -> None:
    doc = spec()
    doc["components"]["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer"}}
    doc["security"] = [{"token": []}]
    secured = sync_doc(doc).schema
    [scheme] = secured.auth.schemes
    environ = {scheme.credentials["token"][4:]: "s3cret-token"}
    result = call(secured, "start_job", {"polls": 2}, options(app), environ=environ)
    assert result.ok, result
    assert app.credentials == ["Bearer s3cret-token"] * 3  # two polls and the 303's target


def test_a_job_read_again_at_the_path_that_started_it(contract: Contract, app: LroApp) -> None:
    result = run(contract, "make_report", {"name": "q3", "polls": 2}, options(app))
    assert result.ok, result
    assert result.data == {"status": "success", "report": "q3"}
    assert [p for _, p in app.reads] == ["/reports/q3", "/reports/q3"]
    assert app.writes == ["POST /reports/q3"]


def test_the_guide_names_the_long_running_tools_and_appctl_poll(contract: Contract) -> None:
    from appctl.generate.guides import render_guide

    guide = render_guide(contract)
    [line] = [x for x in guide.splitlines() if x.startswith("Long-running:")]
    assert "start_job" in line and "make_thing" in line and "appctl_poll" in line
    assert "read_job" not in line
    plain = render_guide(contract, include=("read_job",))
    assert "appctl_poll" not in plain


def test_the_wait_comes_from_the_first_rule_that_sets_it(contract: Contract) -> None:
    import yaml

    text = "policy:\n  - {match: {name: 'start_*'}, wait: 5}\n  - {wait: 1.5}\n  - {wait: 9}\n"
    config = Config.model_validate(yaml.safe_load(text))
    start, read = contract.find("start_job"), contract.find("read_job")
    assert start is not None and read is not None
    assert config.limits(start[1], start[0].name).wait == 5
    assert config.limits(read[1], read[0].name).wait == 1.5
    assert Config().limits(start[1], start[0].name).wait is None  # DEFAULT_WAIT then
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Config.model_validate({"policy": [{"wait": -1}]})


def test_retry_after_reads_seconds_and_dates() -> None:
    from email.utils import formatdate

    from appctl.execute.http.poll import MAX_RETRY_AFTER, retry_after
    from appctl.execute.http.transport import Answer

    def after(value: str) -> float | None:
        return retry_after(Answer("http://x/", 202, {"retry-after": value}, b""))

    assert after("3") == 3.0 and after("0") == 0.0
    assert after("99999") == MAX_RETRY_AFTER
    dated = after(formatdate(time.time() + 30, usegmt=True))
    assert dated is not None and 25 <= dated <= 31
    assert after(formatdate(time.time() - 30, usegmt=True)) == 0.0  # passed: at once
    assert after("soon") is None and after("") is None


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (5, ErrorCategory.NOT_FOUND),  # google.rpc.Code NOT_FOUND
        (7, ErrorCategory.PERMISSION),
        (409, ErrorCategory.CONFLICT),
        ("ResourceNotFound", ErrorCategory.NOT_FOUND),
        ("AuthorizationFailed", ErrorCategory.PERMISSION),
        ("QuotaExceeded", ErrorCategory.RATE_LIMITED),
        ("InvalidParameter", ErrorCategory.VALIDATION),
        ("InternalServerError", None),
        (True, None),
    ],
)
def test_an_operation_error_code_names_its_category(code: Any, category: Any) -> None:
    from appctl.execute.http.lroerrors import category_of

    assert category_of(code) == category
