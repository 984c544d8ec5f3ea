"""``appctl tools --descriptions full|short``, the provider-limit cut in ``--stats``, and
warnings for text from overrides.yaml that a format does not carry whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.test_cli import run

PREFECT_CREATE_FLOW = (
    "Creates a new flow from the provided schema. If a flow with the\n"
    "same name already exists, the existing flow is returned.\n\n"
    "For more information, see https://www.prefect.io/docs/v3/concepts/flows."
)
LONG = " ".join(f"Step {i} of the import must finish before step {i + 1}." for i in range(40))
WRITTEN = "Lists flows, newest first. Never returns deleted flows. " + LONG


@pytest.fixture
def app(tmp_path: Path) -> Path:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Flows", "version": "1"},
        "paths": {
            "/flows/": {
                "post": {
                    "operationId": "create_flow_flows__post",
                    "summary": "Create Flow",
                    "description": PREFECT_CREATE_FLOW,
                    "responses": {"201": {"description": "Created"}},
                }
            },
            "/imports/": {
                "post": {
                    "operationId": "start_import",
                    "summary": "Start an import",
                    "description": LONG,
                    "responses": {"201": {"description": "Created"}},
                }
            },
            "/flows/filter": {
                "post": {
                    "operationId": "read_flows",
                    "summary": "Read Flows",
                    "responses": {"200": {"description": "OK"}},
                }
            },
        },
    }
    (tmp_path / "spec.json").write_text(json.dumps(doc))
    run("sync", "--tools", "--openapi", "spec.json", cwd=tmp_path)
    return tmp_path


def _descriptions(app: Path, *args: str) -> dict[str, str]:
    tools = json.loads(run("tools", "--format", "mcp", *args, cwd=app).stdout)["tools"]
    return {t["name"]: t["description"] for t in tools}


def test_full_is_the_default_and_short_is_the_one_liner(app: Path) -> None:
    full = _descriptions(app)
    assert full == _descriptions(app, "--descriptions", "full")
    assert "the existing flow is returned" in full["create_flow_flows_post"]
    assert "Step 39" in full["start_import"]
    written = json.loads((app / ".appctl" / "tools.json").read_text())["tools"]
    assert {t["name"]: t["description"] for t in written} == full  # sync writes full too
    short = _descriptions(app, "--descriptions", "short")
    assert short["create_flow_flows_post"] == (
        "Create Flow. Creates a new flow from the provided schema."
    )
    assert len(short["start_import"]) <= 120


def test_an_unknown_mode_is_a_usage_error(app: Path) -> None:
    proc = run("tools", "--descriptions", "medium", cwd=app, code=2)
    assert "full" in proc.stderr and "short" in proc.stderr


def test_stats_name_the_tools_cut_at_the_provider_limit(app: Path) -> None:
    proc = run("tools", "--format", "openai", "--stats", cwd=app)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("start_import"))
    assert row.endswith("description cut …")
    assert "cut at the provider's documented limit (marked …): start_import" in proc.stderr
    assert "cut at OpenAI's limit of 1,024 characters" in proc.stderr
    tools = json.loads(run("tools", "--format", "openai", cwd=app).stdout)
    cut = next(t["function"] for t in tools if t["function"]["name"] == "start_import")
    assert len(cut["description"]) <= 1024 and cut["description"].endswith("…")
    quiet = run("tools", "--format", "anthropic", "--stats", cwd=app)
    assert "cut" not in quiet.stderr and "cut" not in quiet.stdout


def test_override_descriptions_are_kept_whole_or_warned_about(app: Path) -> None:
    overrides = {"actions": {"read_flows": {"safety": "read_only", "description": WRITTEN}}}
    (app / ".appctl" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    run("sync", "--openapi", "spec.json", cwd=app)
    mcp = run("tools", "--format", "mcp", cwd=app)
    tools = {t["name"]: t for t in json.loads(mcp.stdout)["tools"]}
    assert WRITTEN in tools["read_flows"]["description"]
    assert "not carried whole" not in mcp.stderr
    for args, why in (
        (("--format", "openai"), "cut at the provider's length limit"),
        (("--format", "mcp", "--descriptions", "short"), "--descriptions short"),
    ):
        proc = run("tools", *args, cwd=app)
        assert (
            f"warning: read_flows: the description from overrides.yaml is not carried whole ({why})"
        ) in proc.stderr


def test_sync_warns_when_tools_json_condenses_an_override(app: Path) -> None:
    linked = "Reads flows; see [the filter guide](https://docs.example/filters) for fields."
    overrides = {"actions": {"read_flows": {"description": linked}}}
    (app / ".appctl" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    proc = run("sync", "--openapi", "spec.json", cwd=app)
    assert (
        "warning: read_flows: the description from overrides.yaml is not carried whole "
        "(markup or links condensed)"
    ) in proc.stderr
    tools = json.loads((app / ".appctl" / "tools.json").read_text())["tools"]
    described = next(t["description"] for t in tools if t["name"] == "read_flows")
    assert "see the filter guide for fields." in described
    overrides["actions"]["read_flows"]["description"] = "Reads flows, newest first."
    (app / ".appctl" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    assert "not carried whole" not in run("sync", "--openapi", "spec.json", cwd=app).stderr
