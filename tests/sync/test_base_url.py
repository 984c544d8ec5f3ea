"""The contract's base URL from the source's servers and ``--base-url`` (contract/baseurl.py):
a URL with only scheme://host:port keeps the server's path, a URL with a path replaces it;
relative servers of a document read from a URL resolve against the document's URL."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from appctl.sync.openapi.load import Loaded
from appctl.sync.openapi.parse import SyncOptions, SyncResult, build_contract
from tests.helpers import spec, sync_doc

VARIABLES = {
    "url": "https://{region}.example.com/{version}/",
    "variables": {"region": {"default": "eu"}, "version": {"default": "v2"}},
}


@pytest.mark.parametrize(
    ("servers", "given", "expected"),
    [
        ([{"url": "/api"}], "http://127.0.0.1:4200", "http://127.0.0.1:4200/api"),
        ([{"url": "/api/"}], "http://127.0.0.1:4200", "http://127.0.0.1:4200/api"),
        ([{"url": "api"}], "http://127.0.0.1:4200", "http://127.0.0.1:4200/api"),
        ([{"url": "/api"}], "http://127.0.0.1:4200/", "http://127.0.0.1:4200"),
        ([{"url": "/api"}], "http://127.0.0.1:4200/v2/", "http://127.0.0.1:4200/v2"),
        ([{"url": "https://prod.example.com/v1/"}], "http://h:8080", "http://h:8080/v1"),
        ([{"url": "https://prod.example.com"}], "http://h:8080", "http://h:8080"),
        ([VARIABLES], "http://h:8080", "http://h:8080/v2"),
        ([VARIABLES], None, "https://eu.example.com/v2"),
        ([{"url": "/a"}, {"url": "/b"}], "http://h", "http://h/a"),
        (None, "http://h:8080/", "http://h:8080"),
        (None, "http://h:8080", "http://h:8080"),
        ([{"url": "/api"}], "/elsewhere/", "/elsewhere"),
    ],
)
def test_base_url_keeps_or_replaces_the_server_path(
    servers: list[dict[str, Any]] | None, given: str | None, expected: str
) -> None:
    extra = {"servers": servers} if servers is not None else {}
    assert sync_doc(spec({}, **extra), base_url=given).schema.base_url == expected


def test_the_contract_records_the_servers_as_declared() -> None:
    doc = spec({}, servers=[VARIABLES, {"url": "/api/"}])
    schema = sync_doc(doc, base_url="http://127.0.0.1:1").schema
    assert schema.servers == ["https://eu.example.com/v2", "/api"]
    assert schema.base_url == "http://127.0.0.1:1/v2"


def _swagger(**top: Any) -> dict[str, Any]:
    return {"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {}, **top}


@pytest.mark.parametrize(
    ("top", "given", "expected"),
    [
        (
            {"host": "pets.example", "basePath": "/v2", "schemes": ["http"]},
            None,
            "http://pets.example/v2",
        ),
        ({"host": "pets.example", "basePath": "/v2/"}, None, "https://pets.example/v2"),
        (
            {"host": "pets.example", "basePath": "/v2"},
            "http://127.0.0.1:9",
            "http://127.0.0.1:9/v2",
        ),
        ({"host": "pets.example", "basePath": "/v2"}, "http://127.0.0.1:9/", "http://127.0.0.1:9"),
        ({"basePath": "/v2"}, "http://127.0.0.1:9", "http://127.0.0.1:9/v2"),
    ],
)
def test_swagger2_host_base_path_and_schemes(
    top: dict[str, Any], given: str | None, expected: str
) -> None:
    assert sync_doc(_swagger(**top), base_url=given).schema.base_url == expected


def _from_url(doc: dict[str, Any], url: str, **options: Any) -> SyncResult:
    raw = orjson.dumps(doc)
    loaded = Loaded(
        document=doc, sha256=hashlib.sha256(raw).hexdigest(), location=url, base=url, is_url=True
    )
    return build_contract(loaded, SyncOptions(**options))


DOC_URL = "http://docs.example:8000/api/openapi.json"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (spec({}, servers=[{"url": "/api"}]), "http://docs.example:8000/api"),
        (spec({}, servers=[{"url": "v1/"}]), "http://docs.example:8000/api/v1"),
        (spec({}, servers=[{"url": "../other"}]), "http://docs.example:8000/other"),
        (spec({}), "http://docs.example:8000"),  # OpenAPI 3: no servers means "/"
        (spec({}, servers=[]), "http://docs.example:8000"),
        (_swagger(basePath="/v2"), "http://docs.example:8000/v2"),  # 2.0: the serving host
        (_swagger(), "http://docs.example:8000"),
        (_swagger(host="pets.example", basePath="/v2"), "http://pets.example/v2"),  # its scheme
    ],
)
def test_servers_of_a_document_from_a_url_resolve_against_it(
    doc: dict[str, Any], expected: str
) -> None:
    result = _from_url(doc, DOC_URL)
    assert result.schema.base_url == expected
    assert not any("relative" in d.message for d in result.diagnostics)


def test_a_document_from_a_url_with_a_bare_base_url_keeps_the_resolved_path() -> None:
    """Prefect: /api/openapi.json says servers: [{url: /api}]; --base-url http://host:port."""
    doc = spec({}, servers=[{"url": "/api"}])
    result = _from_url(
        doc, "http://127.0.0.1:4200/api/openapi.json", base_url="http://10.0.0.2:4200"
    )
    assert result.schema.base_url == "http://10.0.0.2:4200/api"
    assert result.schema.servers == ["http://127.0.0.1:4200/api"]


def test_a_relative_server_from_a_file_says_how_to_set_the_host() -> None:
    result = sync_doc(spec({}, servers=[{"url": "/api"}]))
    assert result.schema.base_url == "/api"
    (warning,) = [d for d in result.diagnostics if "relative" in d.message]
    assert (
        "--base-url scheme://host:port" in warning.message and "'/api' is kept" in warning.message
    )
    assert warning.pointer == "/servers/0/url"


def test_a_later_server_with_a_password_is_left_out_not_fatal() -> None:
    servers = [{"url": "https://api.example.com"}, {"url": "https://u:secret@old.example.com"}]
    schema = sync_doc(spec({}, servers=servers)).schema
    assert schema.servers == ["https://api.example.com"]
    assert "secret" not in schema.model_dump_json()
