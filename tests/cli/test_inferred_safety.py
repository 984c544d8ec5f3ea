"""Inferred safety through the installed CLI: the sync summary names the inferred tools, the
guide marks them, and ``--read-only`` runs a POST search against a real server on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from appctl.contract.io import load_schema
from appctl.generate.guides import COMPACT_OVER, render_guide
from tests.cli.test_cli import run
from tests.conftest import serving

FLOWS = [{"id": "f1", "name": "etl-nightly"}, {"id": "f2", "name": "etl-hourly"}]


def _spec(path: Path, extra_filters: int = 0) -> None:
    body = {
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"limit": {"type": "integer"}}}
            }
        }
    }
    paths: dict[str, object] = {
        "/flows": {"post": {"operationId": "create_flow"}, "get": {"operationId": "list_flows"}},
        "/flows/filter": {"post": {"operationId": "read_flows_filter_post", "requestBody": body}},
        "/flows/bulk_delete": {"post": {"operationId": "bulk_delete_flows"}},
        "/flows/filter/by-query": {"query": {"operationId": "query_flows", "requestBody": body}},
    }
    for i in range(extra_filters):
        paths[f"/things{i:02}/count"] = {"post": {"operationId": f"count_things{i:02}"}}
    doc = {"openapi": "3.0.3", "info": {"title": "Flows", "version": "1"}, "paths": paths}
    path.write_text(yaml.safe_dump(doc))


class _Flows(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append((self.command, self.path, self.rfile.read(length)))
        found = json.dumps(FLOWS).encode() if self.path == "/flows/filter" else b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(found)))
        self.end_headers()
        self.wfile.write(found)

    do_QUERY = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def flows_server() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    seen: ClassVar[list[tuple[str, str, bytes]]] = []
    with serving(type("Handler", (_Flows,), {"seen": seen})) as url:
        yield url, seen


def test_read_only_runs_a_post_filter_and_refuses_the_rest(
    tmp_path: Path, flows_server: tuple[str, list[tuple[str, str, bytes]]]
) -> None:
    url, seen = flows_server
    _spec(tmp_path / "spec.yaml")
    run("sync", "--openapi", "spec.yaml", "--base-url", url, cwd=tmp_path)
    found = run("call", "--read-only", "read_flows_filter_post", "limit=10", cwd=tmp_path)
    assert json.loads(found.stdout) == FLOWS
    assert seen == [("POST", "/flows/filter", b'{"limit":10}')]
    for tool, safety in (("create_flow", "mutating"), ("bulk_delete_flows", "destructive")):
        refused = run("call", "--read-only", "--yes", tool, cwd=tmp_path, code=3)
        assert f"{tool} is {safety} and read-only mode is on" in refused.stderr
    assert len(seen) == 1
    run("call", "--read-only", "query_flows", "limit=3", cwd=tmp_path)
    assert seen[1] == ("QUERY", "/flows/filter/by-query", b'{"limit":3}')


def test_sync_summary_names_the_inferred_tools(tmp_path: Path) -> None:
    _spec(tmp_path / "spec.yaml", extra_filters=9)
    proc = run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    lines = proc.stderr.splitlines()
    start = lines.index("11 tools with safety inferred from the path or operationId:")
    assert lines[start + 1] == "  destructive (1): bulk_delete_flows"
    counts = ", ".join(f"count_things{i:02}" for i in range(8))
    assert lines[start + 2] == f"  read_only (10): {counts} (+2 more; -v lists all)"
    assert lines[start + 3] == "  confirm or correct them in overrides.yaml (actions: or rules:)"
    verbose = run("-v", "sync", "--openapi", "spec.yaml", cwd=tmp_path).stderr
    assert "count_things08, read_flows_filter_post\n" in verbose
    (tmp_path / ".appctl" / "overrides.yaml").write_text(
        "rules:\n  - {match: {path: '/*/count'}, safety: read_only}\n"
        "actions:\n  bulk_delete_flows: {safety: destructive}\n"
    )
    declared = run("sync", "--openapi", "spec.yaml", cwd=tmp_path).stderr
    assert "1 tool with safety inferred from the path or operationId:" in declared
    assert "  read_only (1): read_flows_filter_post\n" in declared
    assert "destructive (" not in declared


def test_a_contract_without_inferred_tools_says_nothing_about_them(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(
        yaml.safe_dump(
            {
                "openapi": "3.0.3",
                "info": {"title": "T", "version": "1"},
                "paths": {"/flows": {"post": {}, "get": {}}},
            }
        )
    )
    proc = run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    assert "inferred" not in proc.stderr


def test_guide_marks_inferred_safety(tmp_path: Path) -> None:
    _spec(tmp_path / "spec.yaml")
    run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    guide = run("guide", cwd=tmp_path).stdout
    assert "A safety marked `(inferred)` was guessed" in guide
    assert "- read_flows_filter_post() — read (inferred)\n" in guide
    assert "- bulk_delete_flows() — DESTRUCTIVE (inferred)\n" in guide
    assert "- list_flows() — read\n" in guide and "- create_flow() — write\n" in guide


def test_compact_guide_groups_inferred_tools_apart(tmp_path: Path) -> None:
    _spec(tmp_path / "spec.yaml", extra_filters=0)
    doc = yaml.safe_load((tmp_path / "spec.yaml").read_text())
    for i in range(COMPACT_OVER):
        doc["paths"][f"/flows/{i}/history"] = {"get": {"operationId": f"history_{i:03}"}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(doc))
    run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    guide = render_guide(load_schema(tmp_path / ".appctl"))
    lines = [line for line in guide.splitlines() if line.startswith("- ")]
    labels = [line.split(":", 1)[0] for line in lines]
    assert labels == ["- read", "- read (inferred)", "- write", "- DESTRUCTIVE (inferred)"]
    assert "- read (inferred): read_flows_filter_post()" in lines
