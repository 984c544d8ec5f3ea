"""The meta-tool catalogue: word search over names, resources and descriptions."""

from __future__ import annotations

import json

import pytest

from appctl.generate.formats import render
from appctl.generate.toolspec import build_tool_specs
from appctl.session.catalog import Catalog, meta_specs, words
from tests.conftest import NPM

GITHUB = NPM / "@octokit" / "openapi" / "generated" / "api.github.com.json"


def test_words_split_camel_snake_and_plurals() -> None:
    assert words("listRepoIssues") == ["list", "repo", "issue"]
    assert words("get_pet_by_id") == ["get", "pet", "by", "id"]
    assert words("categories address") == ["category", "address"]


@pytest.fixture(scope="module")
def github_specs(tmp_path_factory: pytest.TempPathFactory) -> list:  # type: ignore[type-arg]
    if not GITHUB.exists():
        pytest.skip("the GitHub spec is installed by scripts/setup (npm @octokit/openapi)")
    from appctl.sync.openapi.api import sync_openapi

    return build_tool_specs(sync_openapi(str(GITHUB)).schema)


def test_github_search_finds_the_obvious_tool_first(github_specs: list) -> None:  # type: ignore[type-arg]
    catalog = Catalog(github_specs)
    assert len(catalog) > 1000
    top = [t["name"] for t in catalog.find("list issues of a repository", 5)]
    assert any("issue" in name and "list" in name for name in top[:3]), top
    assert "pulls_create" in [t["name"] for t in catalog.find("create a pull request", 2)]
    # a word matches its longer form at half weight: "repository" finds repos_*
    assert catalog.find("get a repository", 1)[0]["name"] == "repos_get"
    assert catalog.find("search code", 1)[0]["name"] == "search_code"
    assert catalog.find("zzzzqqq") == []


def test_describe_gives_the_whole_input_schema(github_specs: list) -> None:  # type: ignore[type-arg]
    catalog = Catalog(github_specs)
    name = catalog.find("get a repository", 1)[0]["name"]
    described = catalog.describe(name)
    assert described is not None and described["input_schema"]["type"] == "object"
    assert catalog.describe("no_such_tool") is None


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "gemini"])
def test_meta_tools_render_in_every_provider_format(fmt: str) -> None:
    specs = meta_specs(1223, arguments_as_text=fmt == "gemini")
    rendered = render(fmt, specs)
    assert rendered.warnings == []
    text = json.dumps(rendered.document)
    assert "appctl_find_tools" in text and "appctl_call_tool" in text
    if fmt == "gemini":  # Gemini refuses an object parameter without properties
        call = rendered.entries[2]
        assert call["parameters"]["properties"]["arguments"]["type"] == "string"


def _pets() -> Catalog:
    from appctl.sync.openapi.api import sync_openapi
    from tests.conftest import REPO

    return Catalog(build_tool_specs(sync_openapi(str(REPO / "fixtures/app/openapi.yaml")).schema))


def test_find_within_a_resource_and_its_errors() -> None:
    from appctl.session.catalog import find

    catalog = _pets()
    resource = catalog.resources()[0]
    mine = sorted(n for n, s in catalog.specs.items() if s.resource == resource)
    listed = find(catalog, {"query": "", "resource": resource})
    assert listed.ok and listed.data is not None
    assert sorted(t["name"] for t in listed.data["tools"]) == mine
    assert catalog.find("the", resource=None) == []  # stop words alone find nothing
    unknown = find(catalog, {"query": "list", "resource": resource + "x"})
    assert unknown.error is not None and unknown.error.category == "validation"
    assert f"Did you mean '{resource}'?" in unknown.error.message
    empty = find(catalog, {"query": "  "})
    assert empty.error is not None and "needs a query" in empty.error.message
