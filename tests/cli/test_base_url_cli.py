"""Base URLs through the installed CLI against a real server on 127.0.0.1 shaped like Prefect:
its document at /api/openapi.json says ``servers: [{url: /api}]`` and every route lives under
/api. ``--base-url http://host:port`` keeps /api, a re-sync remembers it, a change of servers
warns, ``--check`` and the summary show base URL, servers and auth changes, and a 404 from a
route with no ids names the base URL."""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from appctl.contract.io import load_schema
from tests.cli.test_cli import run
from tests.conftest import serving


def _doc(servers: str = "/api", **components: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Flows", "version": "1"},
        "servers": [{"url": servers}],
        "paths": {
            "/health": {"get": {"operationId": "health"}},
            "/flows/{id}": {
                "get": {
                    "operationId": "read_flow",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                }
            },
        },
        **({"components": components} if components else {}),
    }


class _Api(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        found: Any = None
        if self.path == "/api/openapi.json":
            found = _doc()
        elif self.path == "/api/health":
            found = True
        elif self.path == "/api/flows/f1":
            found = {"id": "f1"}
        body = json.dumps(found if found is not None else {"detail": "Not Found"}).encode()
        self.send_response(200 if found is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    with serving(_Api) as url:
        yield url


def _call(app: Path, tool: str, *args: str, code: int = 0) -> dict[str, Any]:
    proc = run("call", tool, *args, "--json", cwd=app, code=code)
    found: dict[str, Any] = json.loads(proc.stdout)
    return found


def test_bare_base_url_keeps_the_documents_api_path_from_a_url(api: str, tmp_path: Path) -> None:
    spec = f"{api}/api/openapi.json"
    run("sync", "--openapi", spec, "--base-url", api, cwd=tmp_path)
    assert load_schema(tmp_path / ".appctl").base_url == f"{api}/api"
    assert _call(tmp_path, "health")["data"] is True
    again = run("sync", "--openapi", spec, cwd=tmp_path)
    assert "+0 added, -0 removed, ~0 changed" in again.stderr
    assert _call(tmp_path, "read_flow", "id=f1")["data"] == {"id": "f1"}


def test_a_chosen_base_url_is_remembered_until_the_servers_change(api: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_doc()))
    run("sync", "--openapi", "spec.yaml", "--base-url", api, cwd=tmp_path)
    again = run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    assert f"base URL {api}/api kept from the last sync" in again.stderr
    assert "0 warnings" in again.stderr and "is relative" not in again.stderr
    assert load_schema(tmp_path / ".appctl").base_url == f"{api}/api"
    assert _call(tmp_path, "health")["data"] is True
    run("sync", "--openapi", "spec.yaml", "--check", cwd=tmp_path)  # no drift: still chosen

    spec.write_text(yaml.safe_dump(_doc("/api/v2")))
    changed = run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    assert "servers changed (/api → /api/v2)" in changed.stderr
    assert f"pass --base-url {api}/api to keep it" in changed.stderr
    assert f"base URL: {api}/api → /api/v2" in changed.stderr
    assert "servers: /api → /api/v2" in changed.stderr
    assert "2 setting(s) changed" in changed.stderr


def test_check_and_summary_show_auth_changes(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_doc()))
    run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    bearer = {"bearer": {"type": "http", "scheme": "bearer"}}
    spec.write_text(yaml.safe_dump({**_doc(securitySchemes=bearer), "security": [{"bearer": []}]}))
    check = run("sync", "--openapi", "spec.yaml", "--check", cwd=tmp_path, code=1)
    assert "out of date: +0 added, -0 removed, ~0 changed, 2 setting(s) changed" in check.stdout
    assert "  setting: auth scheme added: bearer (bearer)" in check.stdout
    assert "  setting: default security: none → bearer" in check.stdout
    synced = run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    assert "auth scheme added: bearer (bearer)" in synced.stderr


def test_config_base_url_keeps_the_server_path(api: str, tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(_doc()))
    run("sync", "--openapi", "spec.yaml", cwd=tmp_path)
    (tmp_path / ".appctl" / "config.yaml").write_text(yaml.safe_dump({"base_url": api}))
    assert _call(tmp_path, "health")["data"] is True
    assert _call(tmp_path, "health", "--base-url", f"{api}/api/")["data"] is True


def test_a_404_from_a_route_without_ids_names_the_base_url(api: str, tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(_doc()))
    synced = run("sync", "--openapi", "spec.yaml", "--base-url", f"{api}/", cwd=tmp_path)
    assert f"its path replaces the source's /api (give only {api} to keep /api)" in synced.stderr
    failed = _call(tmp_path, "health", code=1)["error"]
    assert failed["category"] == "not_found"
    assert f"not under the base URL {api}: check it" in failed["suggestions"][0]
    assert "keeps the source's server path /api" in failed["suggestions"][0]
    assert not any("Check the ids" in s for s in failed["suggestions"])
    missing = _call(tmp_path, "read_flow", "id=nope", "--base-url", api, code=1)["error"]
    assert missing["suggestions"] == ["Check the ids: list or search first to find valid ones."]
