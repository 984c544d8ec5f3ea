"""``rules:`` in overrides.yaml: one glob rule re-classifies many tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from appctl.contract.models import Contract, Provenance, Safety
from appctl.contract.overrides import apply_overrides, load_overrides
from appctl.errors import OverrideError
from tests.helpers import spec, sync_doc

DOC = spec(
    {
        "/flows/filter": {"post": {"operationId": "read_flows_flows_filter_post", "tags": ["f"]}},
        "/runs/filter": {"post": {"operationId": "read_runs_runs_filter_post", "tags": ["r"]}},
        "/flows/history": {"post": {"operationId": "flow_history", "tags": ["f"]}},
        "/runs/history": {"post": {"operationId": "run_history", "tags": ["r"]}},
        "/runs/lateness": {"post": {"operationId": "run_lateness", "tags": ["r"]}},
        "/flows": {"get": {"operationId": "list_flows", "tags": ["f"]}},
    }
)


def _apply(tmp_path: Path, text: str) -> Contract:
    path = tmp_path / "overrides.yaml"
    path.write_text(text)
    overrides = load_overrides(path)
    assert overrides is not None
    return apply_overrides(sync_doc(DOC).schema, overrides)


def _safety(schema: Contract) -> dict[str, tuple[Safety, Provenance]]:
    return {a.name: (a.safety, a.provenance) for a in schema.actions()}


def test_one_path_rule_covers_many_tools_and_declares_them(tmp_path: Path) -> None:
    schema = _apply(
        tmp_path, "rules:\n  - {match: {path: '/*/history', method: post}, safety: read_only}\n"
    )
    found = _safety(schema)
    assert found["flow_history"] == found["run_history"] == (Safety.READ_ONLY, Provenance.DECLARED)
    assert found["run_lateness"] == (Safety.MUTATING, Provenance.DECLARED)


def test_a_rule_can_declare_what_was_inferred(tmp_path: Path) -> None:
    before = _safety(sync_doc(DOC).schema)
    assert before["read_runs_runs_filter_post"] == (Safety.READ_ONLY, Provenance.INFERRED)
    schema = _apply(
        tmp_path, "rules:\n  - {match: {name: 'read_*_filter_post'}, safety: read_only}\n"
    )
    found = _safety(schema)
    assert found["read_flows_flows_filter_post"] == (Safety.READ_ONLY, Provenance.DECLARED)
    assert found["read_runs_runs_filter_post"] == (Safety.READ_ONLY, Provenance.DECLARED)


def test_first_matching_rule_wins_and_every_key_must_hold(tmp_path: Path) -> None:
    schema = _apply(
        tmp_path,
        """
rules:
  - {match: {tag: r, path: '*/history'}, safety: destructive}
  - {match: {method: POST, name: 'run_*'}, safety: read_only}
""",
    )
    found = _safety(schema)
    assert found["run_history"][0] == Safety.DESTRUCTIVE
    assert found["run_lateness"][0] == Safety.READ_ONLY
    assert found["flow_history"][0] == Safety.MUTATING  # tag f: the first rule does not hold


def test_explicit_action_override_wins_over_rules(tmp_path: Path) -> None:
    schema = _apply(
        tmp_path,
        """
rules:
  - {match: {path: '/runs/*'}, safety: read_only}
actions:
  run_lateness: {safety: mutating}
  read_flows_flows_filter_post: {safety: destructive}
""",
    )
    found = _safety(schema)
    assert found["run_lateness"] == (Safety.MUTATING, Provenance.DECLARED)
    assert found["run_history"] == (Safety.READ_ONLY, Provenance.DECLARED)
    assert found["read_flows_flows_filter_post"] == (Safety.DESTRUCTIVE, Provenance.DECLARED)


def test_a_rule_that_matches_nothing_is_an_error_like_a_stale_name(tmp_path: Path) -> None:
    with pytest.raises(OverrideError) as info:
        _apply(
            tmp_path,
            """
rules:
  - {match: {path: '/*/history'}, safety: read_only}
  - {match: {path: '/*/histroy'}, safety: read_only}
  - {match: {name: 'flow_*', method: DELETE}, safety: read_only}
""",
        )
    message = info.value.message
    assert "rules.0" not in message
    assert "rules.1: matches no action (path: '/*/histroy')" in message
    assert "rules.2: matches no action (name: 'flow_*', method: 'DELETE')" in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rules: [{match: {}, safety: read_only}]", "give at least one of name, path"),
        ("rules: [{match: {name: null}, safety: read_only}]", "give at least one of name"),
        ("rules: [{match: {name: x}}]", "rules.0.safety"),
        ("rules: [{match: {name: x}, safety: harmless}]", "rules.0.safety"),
        ("rules: [{match: {verb: list}, safety: read_only}]", "rules.0.match.verb"),
    ],
)
def test_invalid_rules(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(OverrideError, match=problem):
        _apply(tmp_path, text)
