"""Swagger 2.0 ``collectionFormat`` (csv, ssv, tsv, pipes, multi) in the query, the path, a
header and form data (urlencoded and multipart, with a file), judged by real httpbin's echo
after ``appctl sync`` of a 2.0 document written here; and ``appctl call`` sending a file
given as ``key=@path``, its dry run showing the body's size and digest, and the size cap."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from appctl.contract.models import Contract
from appctl.execute.http.encode import MAX_BINARY_BYTES
from tests import runner
from tests.execute.test_encodings_httpbin import PNG, _call, _sync

COLORS = ["blue", "black", "brown"]
ARRAY = {"type": "array", "items": {"type": "string"}}
QUERY = {
    "csv": "colors=blue,black,brown",
    "ssv": "colors=blue%20black%20brown",
    "tsv": "colors=blue%09black%09brown",
    "pipes": "colors=blue|black|brown",
    "multi": "colors=blue&colors=black&colors=brown",
}
PATH = {
    "csv": "blue,black,brown",
    "ssv": "blue%20black%20brown",
    "tsv": "blue%09black%09brown",
    "pipes": "blue%7Cblack%7Cbrown",
}
HEADER = {
    "csv": "blue,black,brown",
    "ssv": "blue black brown",
    "tsv": "blue\tblack\tbrown",
    "pipes": "blue|black|brown",
}
FORM_BYTES = (
    "colors=blue,black,brown&tags=a&tags=b&piped=blue|black|brown"
    "&spaced=blue+black+brown&tabbed=blue%09black%09brown&note=hi+there"
)


def _param(name: str, where: str, fmt: str) -> dict[str, Any]:
    return {"name": name, "in": where, "required": True, **ARRAY, "collectionFormat": fmt}


def _op(op_id: str, params: list[Any], method: str = "get", **more: Any) -> dict[str, Any]:
    return {method: {"operationId": op_id, "parameters": params, "responses": {"200": {}}, **more}}


def swagger2() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for fmt in QUERY:
        paths[f"/anything/q_{fmt}"] = _op(f"q_{fmt}", [_param("colors", "query", fmt)])
    for fmt in PATH:
        paths[f"/anything/p_{fmt}/{{colors}}"] = _op(f"p_{fmt}", [_param("colors", "path", fmt)])
    for fmt in HEADER:
        paths[f"/anything/h_{fmt}"] = _op(f"h_{fmt}", [_param("X-Colors", "header", fmt)])
    form = [
        _param("colors", "formData", "csv"),
        _param("tags", "formData", "multi"),
        _param("piped", "formData", "pipes"),
        _param("spaced", "formData", "ssv"),
        _param("tabbed", "formData", "tsv"),
        {"name": "note", "in": "formData", "type": "string"},
    ]
    urlencoded = ["application/x-www-form-urlencoded"]
    paths["/anything/form"] = _op("form", form, "post", consumes=urlencoded)
    upload = [
        {"name": "file", "in": "formData", "type": "file", "required": True},
        _param("tags", "formData", "multi"),
        _param("colors", "formData", "csv"),
    ]
    multipart = ["multipart/form-data"]
    paths["/anything/upload"] = _op("upload", upload, "post", consumes=multipart)
    return {"swagger": "2.0", "info": {"title": "formats", "version": "1"}, "paths": paths}


@pytest.fixture(scope="module")
def app(httpbin_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Contract]:
    tmp = tmp_path_factory.mktemp("swagger2")
    return tmp, _sync(tmp, swagger2(), httpbin_url)


@pytest.mark.parametrize(("fmt", "expected"), QUERY.items())
def test_query_collection_formats(app: Any, httpbin_url: str, fmt: str, expected: str) -> None:
    url = f"{httpbin_url}/anything/q_{fmt}?{expected}"
    assert _call(app[1], f"q_{fmt}", {"colors": COLORS}, dry=True)["url"] == url
    echoed = _call(app[1], f"q_{fmt}", {"colors": COLORS})
    assert echoed["url"] == url


@pytest.mark.parametrize(("fmt", "expected"), PATH.items())
def test_path_collection_formats(app: Any, httpbin_url: str, fmt: str, expected: str) -> None:
    url = f"{httpbin_url}/anything/p_{fmt}/{expected}"
    assert _call(app[1], f"p_{fmt}", {"colors": COLORS}, dry=True)["url"] == url
    echoed = _call(app[1], f"p_{fmt}", {"colors": COLORS})
    assert unquote(echoed["url"]) == unquote(url)  # httpbin re-quotes the path it echoes


@pytest.mark.parametrize(("fmt", "expected"), HEADER.items())
def test_header_collection_formats(app: Any, fmt: str, expected: str) -> None:
    assert _call(app[1], f"h_{fmt}", {"X-Colors": COLORS})["headers"]["X-Colors"] == expected


def test_form_data_collection_formats(app: Any) -> None:
    args = {
        "colors": COLORS,
        "tags": ["a", "b"],
        "piped": COLORS,
        "spaced": COLORS,
        "tabbed": COLORS,
        "note": "hi there",
    }
    assert _call(app[1], "form", args, dry=True)["body"] == FORM_BYTES
    assert _call(app[1], "form", args)["form"] == {
        "colors": "blue,black,brown",
        "tags": ["a", "b"],
        "piped": "blue|black|brown",
        "spaced": "blue black brown",
        "tabbed": "blue\tblack\tbrown",
        "note": "hi there",
    }


def test_multipart_form_data_with_a_file_and_formats(app: Any) -> None:
    given = base64.b64encode(PNG).decode()
    echoed = _call(app[1], "upload", {"file": given, "tags": ["a", "b"], "colors": COLORS})
    assert echoed["files"] == {"file": f"data:application/octet-stream;base64,{given}"}
    assert echoed["form"] == {"tags": ["a", "b"], "colors": "blue,black,brown"}


def _appctl(tmp: Path, *args: str) -> runner.Invoked:
    return runner.invoke("--app-dir", str(tmp / ".appctl"), "call", *args, cwd=tmp, code=None)


def test_cli_sends_a_file_given_as_at_path(app: Any) -> None:
    tmp, schema = app
    tool = next(a.name for a in schema.actions() if a.operation_id == "upload")
    (tmp / "logo.png").write_bytes(PNG)
    args = ("file=@logo.png", 'tags=["a"]', 'colors=["blue"]', "--yes")
    shown = _appctl(tmp, tool, *args, "--dry-run")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)["body"]
    assert body["bytes"] > len(PNG) and len(body["sha256"]) == 64
    sent = _appctl(tmp, tool, *args, "--json")
    assert sent.returncode == 0, sent.stderr
    files = json.loads(sent.stdout)["data"]["files"]
    assert files == {
        "file": "data:application/octet-stream;base64," + base64.b64encode(PNG).decode()
    }
    assert hashlib.sha256(PNG).hexdigest() not in sent.stdout  # the bytes, not a digest, went


def test_cli_refuses_a_file_over_the_cap_as_a_validation_error(app: Any) -> None:
    tmp, schema = app
    tool = next(a.name for a in schema.actions() if a.operation_id == "upload")
    with (tmp / "big.bin").open("wb") as handle:
        handle.truncate(MAX_BINARY_BYTES + 10)
    over = _appctl(tmp, tool, "file=@big.bin", "--yes", "--dry-run")
    assert over.returncode != 0 and "Traceback" not in over.stderr
    assert "error (validation)" in over.stderr and "MAX_BINARY_BYTES" in over.stderr
