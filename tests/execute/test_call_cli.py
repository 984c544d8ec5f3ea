"""`appctl call` end to end: the installed command against a real server on 127.0.0.1."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from appctl.contract.io import dump_schema, write_atomic
from tests import runner
from tests.execute.test_executor import SCHEMA

SECRET = "tok-SECRET-4f1d"


@pytest.fixture
def contract(tmp_path: Path, app) -> Path:
    schema = SCHEMA.model_copy(update={"base_url": app.url})
    write_atomic(tmp_path / ".appctl" / "schema.json", dump_schema(schema))
    return tmp_path


def appctl(cwd: Path, *args: str, code: int) -> subprocess.CompletedProcess[str]:
    """A real process: these are the exit codes of the console script itself."""
    proc = runner.appctl(*args, cwd=cwd, code=code, env={"APPCTL_BEARER_TOKEN": SECRET})
    assert SECRET not in proc.stdout + proc.stderr
    return proc


def test_exit_codes_and_outputs(contract: Path, app) -> None:
    ok = appctl(contract, "call", "list_pets", "limit=3", code=0)
    assert json.loads(ok.stdout)["path"] == "/api/pets"
    envelope = json.loads(
        appctl(contract, "call", "list_pets", "--args", '{"limit": 2}', "--json", code=0).stdout
    )
    assert envelope["ok"] is True and envelope["status"] == 200
    bad = appctl(contract, "call", "list_pets", "limit=ten", code=2)
    assert "expected type 'integer'" in bad.stderr
    failed = appctl(contract, "call", "status", "code=404", code=1)
    assert "not_found" in failed.stderr
    refused = appctl(contract, "call", "add_pet", "name=Rex", code=3)
    assert "needs approval" in refused.stderr and "--yes" in refused.stderr
    assert [s.path for s in app.seen] == ["/api/pets", "/api/pets", "/api/status/404"]
    appctl(contract, "call", "add_pet", "name=Rex", "--yes", code=0)
    assert app.seen[-1].method == "POST"


def test_dry_run_and_args_file(contract: Path, app) -> None:
    args = contract / "args.json"
    args.write_text('{"id": 9}')
    proc = appctl(contract, "call", "delete_pet", "--args", f"@{args}", "--dry-run", code=0)
    shown = json.loads(proc.stdout)
    assert shown["method"] == "DELETE" and shown["url"].endswith("/api/pets/9")
    assert shown["headers"]["Authorization"] == "Bearer ***"
    assert app.seen == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--args", "{nope"), "--args is not valid JSON"),
        (("--args", "[1]"), "must be a JSON object"),
        (("--args", "@missing.json"), "cannot read missing.json"),
        (("oops",), "expected key=value"),
    ],
)
def test_bad_usage(contract: Path, args, message) -> None:
    assert message in appctl(contract, "call", "list_pets", *args, code=2).stderr


def test_a_seeded_secret_never_reaches_a_file_or_an_output(
    tmp_path: Path, app, http_server
) -> None:
    base, routes = http_server
    routes["/openapi.json"] = (
        200,
        "application/json",
        json.dumps(
            {
                "openapi": "3.0.3",
                "info": {"title": "S", "version": "1"},
                "servers": [{"url": app.url}],
                "components": {
                    "securitySchemes": {
                        "bearer": {"type": "http", "scheme": "bearer"},
                        "key": {"type": "apiKey", "in": "query", "name": "api_key"},
                    }
                },
                "security": [{"bearer": [], "key": []}],
                "paths": {
                    "/pets": {
                        "get": {
                            "operationId": "listPets",
                            "parameters": [
                                {"name": "q", "in": "query", "schema": {"type": "string"}}
                            ],
                        }
                    },
                    "/status/{code}": {
                        "get": {
                            "operationId": "status",
                            "parameters": [{"name": "code", "in": "path", "required": True}],
                        }
                    },
                },
            }
        ).encode(),
    )
    env = {"APPCTL_BEARER_TOKEN": SECRET, "APPCTL_KEY": SECRET + "-k"}
    outputs: list[str] = []

    def run(*args: str, code: int = 0) -> None:
        proc = runner.invoke(*args, cwd=tmp_path, env=env, code=code)
        outputs.append(proc.stdout + proc.stderr)

    run("sync", "--openapi", f"{base}/openapi.json?token={SECRET}")
    run("call", "list_pets", f"q={SECRET}")  # a secret as an argument value is hidden too
    run("call", "list_pets", "--dry-run", "--json")
    run("call", "status", "code=401", code=1)
    run("call", "list_pets", "q=1", "--base-url", "http://127.0.0.1:9/api", code=1)
    run("history", "--json")
    run("history", "1")
    assert app.seen and app.seen[0].headers["authorization"] == f"Bearer {SECRET}"
    assert ("api_key", SECRET + "-k") in app.seen[0].query
    for text in outputs:
        assert SECRET not in text
    for path in (tmp_path / ".appctl").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    history = json.loads(outputs[5])
    assert [e["outcome"] for e in history] == ["ok", "dry_run", "failed", "failed"]
    assert history[2]["category"] == "auth" and history[3]["category"] == "network"


def test_hostile_command_line_arguments_are_refused_before_sending(contract: Path, app) -> None:
    """Bytes that are not UTF-8 (argv decodes them to lone surrogates), an args file that is
    not UTF-8, JSON too deep to read or deeper than arguments may nest: exit 2, no traceback,
    nothing sent."""
    (contract / "bad.json").write_bytes(b'{"name": "\xff"}')
    deep = '{"name": ' + "[" * 500 + "]" * 500 + "}"
    too_deep = '{"name": ' + "[" * 5000 + "]" * 5000 + "}"
    for args, message in (
        (("name=" + os.fsdecode(b"\xff\xfe"),), "not valid Unicode: a lone surrogate '\\udcff'"),
        (("--args", "@bad.json"), "bad.json is not UTF-8 text"),
        (("--args", deep), "nested more than 64 levels deep"),
        (("--args", too_deep), "--args is nested too deeply"),
    ):
        proc = appctl(contract, "call", "add_pet", *args, "--yes", code=2)
        assert message in proc.stderr, (args[0][:20], proc.stderr)
    assert app.seen == []
