"""One deadline per call against peers that trickle: headers, body, retries and waits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from appctl.config import Config
from appctl.execute.executor import CallOptions, call
from appctl.execute.result import ErrorCategory
from tests.helpers import spec, sync_doc
from tests.trickle import Trickler, elapsed, trickler

SLACK = 3.0  # generous: the machine is shared
DOC = spec(
    {
        "/trickle-head": {"get": {"operationId": "slowHead"}},
        "/trickle-body": {"get": {"operationId": "slowBody"}},
        "/busy/{after}": {
            "get": {
                "operationId": "busy",
                "parameters": [
                    {"name": "after", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
            }
        },
        "/flaky-head": {"get": {"operationId": "flakyHead"}},
        "/fast": {"get": {"operationId": "fast"}},
    }
)
SCHEMA = sync_doc(DOC).schema


@pytest.fixture
def slow() -> Iterator[Trickler]:
    with trickler() as server:
        yield server


def _call(server: Trickler, tool: str, args: dict[str, Any] | None = None, **options: Any) -> Any:
    return call(SCHEMA, tool, args or {}, CallOptions(base_url=server.url, **options), environ={})


def _deadline_error(result: Any, seconds: float) -> None:
    assert not result.ok and result.error.category == ErrorCategory.TIMEOUT
    assert f"deadline of {seconds:g} s" in result.error.message
    assert "total time" in result.error.message


@pytest.mark.parametrize("tool", ["slow_head", "slow_body"])
def test_a_trickling_peer_is_cut_at_the_calls_deadline(slow, tool) -> None:
    started = time.monotonic()
    result = _call(slow, tool, timeout=2.0)
    assert 1.9 <= elapsed(started) < 2.0 + SLACK
    _deadline_error(result, 2.0)


def test_the_policy_timeout_is_the_deadline(slow) -> None:
    config = Config.model_validate({"policy": [{"match": {"name": "slow_*"}, "timeout": 2}]})
    started = time.monotonic()
    result = _call(slow, "slow_body", config=config)
    assert elapsed(started) < 2.0 + SLACK
    _deadline_error(result, 2.0)


def test_retries_and_their_waits_count_against_the_deadline(slow) -> None:
    # 503 "retry after 1 s" twice would take 2 s of waits and three attempts; the deadline
    # of 1.5 s leaves room for one wait only, so there are two attempts and no third
    started = time.monotonic()
    result = _call(slow, "busy", {"after": "1"}, timeout=1.5)
    assert elapsed(started) < 1.5 + SLACK
    assert result.status == 503 and slow.hits == {"/busy/1": 2}
    assert any("not retried" in note and "1.5 s deadline" in note for note in result.notes)


def test_a_retry_after_past_the_deadline_is_not_waited_for(slow) -> None:
    started = time.monotonic()
    result = _call(slow, "busy", {"after": "8"}, timeout=2.0)
    assert elapsed(started) < 1.0  # answered at once: waiting could only end past the deadline
    assert result.status == 503 and slow.hits == {"/busy/8": 1}


def test_a_retry_that_trickles_ends_at_the_deadline_of_the_whole_call(slow) -> None:
    # attempt one: 503 "retry after 1 s"; attempt two trickles its headers. The deadline
    # (2.5 s) is for the call, not per attempt: it ends 2.5 s after the call began
    started = time.monotonic()
    result = _call(slow, "flaky_head", timeout=2.5)
    assert 2.4 <= elapsed(started) < 2.5 + SLACK
    _deadline_error(result, 2.5)
    assert slow.hits == {"/flaky-head": 2}  # a spent deadline is not retried


def test_a_fast_call_is_unaffected(slow) -> None:
    result = _call(slow, "fast", timeout=2.0)
    assert result.ok and result.data == {"ok": True}
