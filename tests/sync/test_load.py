from pathlib import Path

import pytest

from appctl.errors import BudgetError, SourceError
from appctl.sync.openapi.api import sync_openapi
from appctl.sync.openapi.load import Budget, load, redact_url
from appctl.sync.openapi.parse import SyncOptions

YAML_BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_yaml_alias_bomb_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text("openapi: 3.0.0\n" + YAML_BOMB)
    with pytest.raises(BudgetError, match="alias bomb"):
        load(str(path))


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [1, *a]\n")
    with pytest.raises(BudgetError, match="recursive"):
        load(str(path))


def test_size_budget(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"openapi": "3.0.0", "x": "' + "y" * 5000 + '"}')
    with pytest.raises(BudgetError, match="over the"):
        load(str(path), budget=Budget(max_bytes=1000))


def test_depth_budget(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 600 + "]" * 600 + "\n")
    with pytest.raises(BudgetError):
        load(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{ broken json", "not valid JSON"),
        ("a: [unclosed\n", "neither valid JSON nor valid YAML"),
        ("just a string\n", "not an OpenAPI document"),
        ("openapi: 4.0.0\npaths: {}\n", "version field says '4.0.0'"),
        ("info: {title: x}\n", "no 'openapi' or 'swagger' field"),
    ],
)
def test_bad_documents(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(content)
    with pytest.raises(SourceError, match=message) as info:
        sync_openapi(str(path))
    assert info.value.suggestion


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        load(str(tmp_path / "nope.yaml"))
    with pytest.raises(SourceError, match="is a directory"):
        load(str(tmp_path))


def test_url_source_with_relative_server_and_secret_query(http_server) -> None:
    base, routes = http_server
    routes["/api/openapi.yaml"] = (
        200,
        "application/yaml",
        b"""
openapi: 3.1.0
info: {title: Remote, version: '1'}
servers: [{url: /v2}]
paths:
  /items: {get: {operationId: listItems}}
""",
    )
    result = sync_openapi(f"{base}/api/openapi.yaml?api_key=SECRET123&v=1", SyncOptions())
    schema = result.schema
    assert schema.base_url == f"{base}/v2"
    assert "SECRET123" not in schema.source.location
    assert "v=1" in schema.source.location
    assert [a.name for a in schema.actions()] == ["list_items"]


def test_url_errors_are_clear(http_server) -> None:
    base, _ = http_server
    with pytest.raises(SourceError, match="answered 404"):
        sync_openapi(f"{base}/missing.json")
    with pytest.raises(SourceError, match="cannot fetch"):
        sync_openapi("http://127.0.0.1:9/openapi.json")


def test_redact_url() -> None:
    assert redact_url("https://user:pw@h.example/x?token=1&a=2") == (
        "https://h.example/x?token=REDACTED&a=2"
    )


def test_a_100_mb_document_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: no 100 MB written to disk
        handle.truncate(100 * 1024 * 1024)
    with pytest.raises(BudgetError, match=r"100\.0 MiB, over the 64 MiB limit") as info:
        load(str(path))
    assert "--max-bytes" in info.value.suggestion


def test_a_url_source_is_cut_off_at_the_size_budget(http_server) -> None:
    base, routes = http_server
    body = b'{"openapi": "3.0.0", "x": "' + b"y" * 50_000 + b'"}'
    routes["/big.json"] = (200, "application/json", body)
    with pytest.raises(BudgetError, match="over the"):
        load(f"{base}/big.json", budget=Budget(max_bytes=10_000))
