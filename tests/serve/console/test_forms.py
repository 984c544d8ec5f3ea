"""Forms from real schemas: every action of GitHub's API and a sample of the corpus renders
a tool page with a labelled form, and a form filled in gives arguments without a problem;
the overview of GitHub's 1,000+ tools is paged and searchable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from appctl.config import Config
from appctl.contract.models import Contract
from appctl.execute.audit.history import History
from appctl.execute.executor import CallOptions
from appctl.serve.console.forms import Input, arguments_of, inputs_of
from appctl.serve.console.pages import PAGE, Catalog
from appctl.serve.rest import ServeState, create_app
from appctl.session.approval import PolicyOnly
from appctl.session.core import Session
from tests.corpus import ABSENT, GITHUB, GITHUB_ACTIONS, selected_specs
from tests.serve.console.conftest import csrf_of, result_of

LABEL_FOR = re.compile(r'<label for="([^"]+)"')
INPUT_ID = re.compile(r'<(?:input|select|textarea) id="([^"]+)"')
CORPUS_SPECS = 6  # of the corpus sample: each is synced here, so a few


def _client(schema: Contract, tmp: Path) -> TestClient:
    config = Config()
    session = Session(
        schema=schema,
        config=config,
        options=CallOptions(config=config, base_url="http://127.0.0.1:9"),
        environ={},
        history=History(f"sqlite:///{tmp / 'history.db'}"),
        approver=PolicyOnly("appctl serve"),
    )
    return TestClient(create_app(ServeState(session=session)), base_url="https://testserver")


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Contract, TestClient]]:
    if not GITHUB.is_file():
        pytest.skip(ABSENT)
    from appctl.sync.openapi.api import sync_openapi

    schema = sync_openapi(str(GITHUB)).schema
    with _client(schema, tmp_path_factory.mktemp("github")) as client:
        yield schema, client


def test_github_overview_is_paged_and_searchable(github: Any) -> None:
    schema, client = github
    page = client.get("/ui/")
    assert page.status_code == 200
    assert page.text.count('<li class="tool"') == PAGE
    assert f"of {len(schema.actions())} tools" in page.text
    assert len(schema.actions()) >= GITHUB_ACTIONS
    last = -(-len(schema.actions()) // PAGE)
    tail = client.get("/ui/", params={"page": str(last)})
    assert tail.text.count('<li class="tool"') == len(schema.actions()) - (last - 1) * PAGE
    found = client.get("/ui/", params={"q": "repos get"})
    assert 'href="/ui/tools/repos_get"' in found.text


def test_every_github_tool_page_renders(github: Any) -> None:
    schema, client = github
    for action in schema.actions():
        page = client.get(f"/ui/tools/{action.name}")
        assert page.status_code == 200, action.name
        assert sorted(LABEL_FOR.findall(page.text)) == sorted(INPUT_ID.findall(page.text))


def test_a_github_form_filled_in_gives_its_arguments(github: Any) -> None:
    _, client = github
    page = client.get("/ui/tools/issues_create")
    assert '<textarea id="arg-labels"' in page.text  # an array: JSON
    form = {
        "csrf": csrf_of(page.text),
        "arg:owner": "octo",
        "arg:repo": "hello",
        "arg:title": "It broke",
        "arg:labels": '["bug"]',
        "mode": "dry",
    }
    answer = client.post("/ui/tools/issues_create/try", data=form)
    assert answer.status_code == 200
    assert "/repos/octo/hello/issues" in answer.text
    body = json.loads(result_of(answer.text)["request"]["body"])
    assert body == {"title": "It broke", "labels": ["bug"]}


def _corpus() -> list[Path]:
    return selected_specs()[:CORPUS_SPECS]


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.stem)
def test_corpus_actions_give_forms_that_fill_in(path: Path, tmp_path: Path) -> None:
    from appctl.sync.openapi.api import sync_openapi

    schema = sync_openapi(str(path)).schema
    catalog = Catalog(schema)
    for action in schema.actions():
        inputs = inputs_of(catalog.spec(action).input_schema)
        arguments, problems = arguments_of(inputs, {i.field: _filled(i) for i in inputs})
        assert problems == [], (action.name, problems)
        assert set(arguments) <= {i.name for i in inputs}
        assert len({i.id for i in inputs}) == len(inputs)
    with _client(schema, tmp_path) as client:
        for action in schema.actions()[:50]:
            assert client.get(f"/ui/tools/{action.name}").status_code == 200


def _filled(made: Input) -> str:
    """A value of the input's kind, as a person would type or pick it."""
    if made.kind == "select":
        return made.choices[-1]
    if made.kind == "boolean":
        return "true"
    if made.kind in ("number", "integer"):
        return "3"
    if made.kind == "json":
        return json.dumps({"a": [1, "x"]})
    return "some text"


@pytest.mark.parametrize(
    ("schema", "form", "expected"),
    [
        ({"type": "integer"}, "42", 42),
        ({"type": "number"}, "2.5", 2.5),
        ({"type": ["string", "null"]}, "x", "x"),
        ({"type": "boolean"}, "false", False),
        ({"enum": [1, "1", None, True]}, "1", 1),
        ({"enum": [1, "1", None, True]}, '"1"', "1"),
        ({"enum": [1, "1", None, True]}, "null", None),
        ({"enum": [1, "1", None, True]}, "true", True),
        ({"$ref": "#/$defs/Color"}, "red", "red"),
        ({"type": "object"}, '{"a": 1}', {"a": 1}),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, '"x"', "x"),
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "It broke", "It broke"),
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "7", 7),
    ],
)
def test_odd_shapes(schema: dict[str, Any], form: str, expected: Any) -> None:
    root = {
        "type": "object",
        "properties": {"v": schema},
        "$defs": {"Color": {"enum": ["red", "blue"]}},
    }
    (made,) = inputs_of(root)
    assert arguments_of([made], {made.field: form}) == ({"v": expected}, [])


def test_blank_inputs_are_left_out_and_bad_ones_named() -> None:
    root = {
        "type": "object",
        "properties": {"n": {"type": "number"}, "e": {"enum": ["a"]}, "j": {}, "s": {}},
    }
    inputs = inputs_of(root)
    form = {"arg:n": "Infinity", "arg:e": "b", "arg:j": "{", "arg:s": "  "}
    arguments, problems = arguments_of(inputs, form)
    assert arguments == {}
    assert [p.split(":")[0] for p in problems] == ["n", "e", "j"]


def test_names_that_are_not_ids_get_distinct_ids() -> None:
    root = {"type": "object", "properties": {"a b": {}, "a_b": {}, "a/b": {}, "": {}}}
    ids = [i.id for i in inputs_of(root)]
    assert len(set(ids)) == 4 and all(re.fullmatch(r"arg-[A-Za-z0-9_-]+", i) for i in ids)


def test_a_default_selects_its_own_option() -> None:
    root = {"type": "object", "properties": {"v": {"enum": [1, "1", True], "default": True}}}
    (made,) = inputs_of(root)
    assert made.choices == ("1", '"1"', "true") and made.value == "true"
