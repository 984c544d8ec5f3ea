"""End to end against fixtures/app: the pet store with its own OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import TOKEN, run_appctl


def appctl(cwd: Path, *args: str, code: int = 0, token: str = TOKEN) -> str:
    proc = run_appctl(cwd, *args, code=code, token=token)
    return proc.stdout + proc.stderr


def test_calls_arrive_as_the_spec_says(project: Path, pets: Any) -> None:
    out = appctl(project, "call", "list_pets", "limit=5", "--args", '{"tags": ["a", "b"]}')
    assert json.loads(out)["data"][0]["name"] == "Rex"
    assert pets.seen[-1] == ("GET", "/api/pets", [("limit", "5"), ("tags", "a,b")])
    created = json.loads(appctl(project, "call", "create_pet", "name=Tom", "--yes"))
    assert created == {"id": 2, "name": "Tom"}
    appctl(project, "call", "delete_pet", "petId=2", "--yes")
    assert [s[0] for s in pets.seen] == ["GET", "POST", "DELETE"]


def test_read_only_mode_and_dry_run_send_nothing(project: Path, pets: Any) -> None:
    appctl(project, "call", "create_pet", "name=Tom", "--read-only", "--yes", code=3)
    appctl(project, "call", "delete_pet", "petId=1", "--dry-run")
    appctl(project, "call", "get_pet", "petId=..", code=2)
    assert pets.seen == []


def test_doctor_verifies_on_evidence_only(project: Path, pets: Any) -> None:
    report = appctl(project, "doctor", "--write", code=1)  # /ghost is declared but missing
    assert "ok    base URL answers" in report
    assert "ok    credentials accepted" in report
    assert "missing    ghost_route" in report
    assert "routes: 1 missing, 4 verified" in report
    assert all(method in ("GET", "OPTIONS") for method, _, _ in pets.seen)
    contract = json.loads((project / ".appctl" / "schema.json").read_text())
    provenance = {a["name"]: a["provenance"] for r in contract["resources"] for a in r["actions"]}
    assert provenance == {
        "list_pets": "verified",
        "create_pet": "verified",
        "get_pet": "verified",
        "delete_pet": "verified",
        "ghost_route": "declared",
    }


def test_doctor_reports_the_audit_history(project: Path, pets: Any) -> None:
    appctl(project, "call", "list_pets")
    appctl(project, "call", "get_pet", "petId=1")
    assert "ok    audit history: 2 call(s) recorded" in appctl(project, "doctor", code=1)
    rejected = project / ".appctl" / "history.db.rejected"
    rejected.write_bytes(b'["torn", "2026-11\n')
    report = appctl(project, "doctor", code=1)
    assert "??    audit history: 2 call(s) recorded; 1 line(s)" in report
    assert str(rejected) in report
    (project / ".appctl" / "config.yaml").write_text("history:\n  url: 'nosuch://x'\n")
    report = appctl(project, "doctor", code=1)
    assert "FAIL  audit history: the audit history nosuch://x cannot be used" in report


def test_a_history_that_cannot_be_opened_stops_the_call_before_it_runs(
    project: Path, pets: Any
) -> None:
    config = project / ".appctl" / "config.yaml"
    config.write_text("history:\n  url: 'postgresql+nosuch://audit:hunter2@127.0.0.1/x'\n")
    report = appctl(project, "call", "list_pets", code=2)
    assert "error: the audit history postgresql+nosuch://audit:***@127.0.0.1/x cannot" in report
    assert "hunter2" not in report and "internal error" not in report
    config.write_text(f"history:\n  url: 'sqlite:///{project}/no/such/dir/h.db'\n")
    report = appctl(project, "history", code=2)
    assert "unable to open database file" in report and "history.url" in report
    assert pets.seen == []


def test_doctor_reports_rejected_credentials(project: Path) -> None:
    report = appctl(project, "doctor", code=1, token="wrong")
    assert "FAIL  credentials accepted" in report and "rejected (401)" in report
