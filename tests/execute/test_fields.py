"""``fields``: a read tool's JSON result cut to the paths asked for, before the size budget,
against a real HTTP server on 127.0.0.1; never hiding that a result was cut."""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from appctl.execute.budget import size
from appctl.execute.executor import CallOptions, call
from appctl.execute.project import parse, project
from appctl.execute.result import ErrorCategory
from appctl.generate.toolspec import build_tool_specs
from tests.conftest import serving
from tests.helpers import spec, sync_doc

REPO = {
    "id": 1296269,
    "name": "Hello-World",
    "full_name": "octocat/Hello-World",
    "owner": {"login": "octocat", "id": 1, "avatar_url": "https://example.invalid/a.png"},
    "private": False,
    "description": "This your first repo!",
    "topics": ["octocat", "api"],
    "a.b": "a key with a dot",
    "urls": {"html": "https://example.invalid/octocat", "api": "https://example.invalid/r"},
}
ITEMS = [{"id": i, "name": f"item {i}", "blob": "x" * 400} for i in range(60)]
SEARCH = {"total_count": 60, "incomplete_results": False, "next_cursor": "c2", "items": ITEMS}
BIG = b'{"items": [' + b",".join(b'{"id": 1, "pad": "' + b"y" * 1000 + b'"}' for _ in range(2200))
BIG += b"]}"
ROUTES: dict[str, tuple[str, bytes]] = {
    "/repos/octocat/Hello-World": ("application/json", json.dumps(REPO).encode()),
    "/search": ("application/json", json.dumps(SEARCH).encode()),
    "/list": ("application/json", json.dumps(ITEMS[:3]).encode()),
    "/text": ("text/plain", b"just text"),
    "/undeclared": ("text/plain", b"just text"),
    "/big": ("application/json", BIG),
    "/own": ("application/json", b'{"echo": true}'),
}


def _get(path: str, op: str, params: list[Any] | None = None, kind: str = "application/json"):
    ok = {"200": {"description": "ok", "content": {kind: {"schema": {}}}}}
    return {path: {"get": {"operationId": op, "parameters": params or [], "responses": ok}}}


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string"}}


PATH_ARGS = [
    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
    for n in ("owner", "repo")
]
DOC = spec(
    {
        **_get("/repos/{owner}/{repo}", "repos/get", PATH_ARGS),
        **_get("/search", "search", [_query("q")]),
        **_get("/list", "list_things"),
        **_get("/text", "plain", kind="text/plain"),
        "/undeclared": {"get": {"operationId": "text", "responses": {"200": {"description": ""}}}},
        **_get("/image", "image", kind="image/png"),
        **_get("/big", "big"),
        **_get("/own", "own", [_query("fields")]),
        "/things": {
            "post": {"operationId": "make_thing", "responses": {"201": {"description": ""}}}
        },
        "/ping": {"head": {"operationId": "ping", "responses": {"200": {"description": ""}}}},
    }
)
SCHEMA = sync_doc(DOC).schema


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        kind, body = ROUTES.get(self.path.split("?")[0], ("text/plain", b"not found"))
        self.send_response(200 if self.path.split("?")[0] in ROUTES else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    with serving(type("Handler", (_Recorder,), {"seen": seen})) as url:
        yield url, seen


def _call(url: str, tool: str, args: dict[str, Any], budget: int = 24_000) -> Any:
    options = CallOptions(base_url=url, result_budget=budget)
    return call(SCHEMA, tool, args, options, environ={})


def test_fields_keep_only_the_named_parts(server: tuple[str, list[str]]) -> None:
    url, seen = server
    args = {"owner": "octocat", "repo": "Hello-World"}
    whole = _call(url, "repos_get", args)
    fields = ["name", "owner.login", "/a.b", "topics"]
    cut = _call(url, "repos_get", {**args, "fields": fields})
    assert whole.data == REPO
    assert cut.ok and cut.notes == []
    assert cut.data == {
        "name": "Hello-World",
        "owner": {"login": "octocat"},
        "topics": ["octocat", "api"],
        "a.b": "a key with a dot",
    }
    assert list(cut.data) == ["name", "owner", "topics", "a.b"]  # the result's own order
    assert seen[-1] == "/repos/octocat/Hello-World"  # fields never reach the application
    pointers = _call(url, "repos_get", {**args, "fields": ["/owner/login", "/urls/*"]})
    assert pointers.data == {"owner": {"login": "octocat"}, "urls": REPO["urls"]}


def test_a_list_projects_each_item_and_keeps_what_says_there_is_more(
    server: tuple[str, list[str]],
) -> None:
    url, _ = server
    listed = _call(url, "list_things", {"fields": ["id"]})
    assert listed.data == [{"id": 0}, {"id": 1}, {"id": 2}]
    found = _call(url, "search", {"q": "x", "fields": ["items.*.name"]})
    assert found.data["items"] == [{"name": it["name"]} for it in ITEMS]
    # paging markers stay at the top even though no path named them
    assert found.data["next_cursor"] == "c2" and found.data["incomplete_results"] is False
    assert "total_count" not in found.data
    same = _call(url, "search", {"q": "x", "fields": "items.name"})  # text, comma-separated
    assert same.data == found.data


def test_projection_comes_before_the_budget_and_never_hides_a_cut(
    server: tuple[str, list[str]],
) -> None:
    url, _ = server
    whole = _call(url, "search", {"q": "x"}, budget=5_000)
    assert len(whole.data["items"]) < 60 and "left out" in whole.notes[0]
    fitted = _call(url, "search", {"q": "x", "fields": ["items.id", "items.name"]}, budget=5_000)
    assert len(fitted.data["items"]) == 60 and fitted.notes == []  # all fit once projected
    tight = _call(url, "search", {"q": "x", "fields": ["items.id", "items.name"]}, budget=600)
    kept = len(tight.data["items"])
    assert 0 < kept < 60 and size(tight.data) <= 600
    assert tight.notes == [
        f"showing {kept} of 60 items of 'items' ({60 - kept} left out to fit 600 characters); "
        "ask for fewer items (narrower filters)"
    ]


def test_a_path_that_matched_nothing_is_named(server: tuple[str, list[str]]) -> None:
    url, _ = server
    args = {"owner": "octocat", "repo": "Hello-World", "fields": ["name", "owner.email", "nope"]}
    result = _call(url, "repos_get", args)
    assert result.data == {"name": "Hello-World"}
    (note,) = result.notes
    assert note.startswith("fields matched nothing: owner.email, nope (the result's fields: id,")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (["owner..login"], "has an empty step"),
        ([""], "is empty"),
        (["/owner/~2"], "not a valid JSON pointer"),
        ([1], "expected a list of field paths"),
        ([], "name at least one field"),
        (["a\x00b"], "not printable"),
    ],
)
def test_invalid_paths_are_refused_before_any_request(
    server: tuple[str, list[str]], fields: Any, problem: str
) -> None:
    url, seen = server
    result = _call(url, "repos_get", {"owner": "o", "repo": "r", "fields": fields})
    assert result.error is not None and result.error.category == ErrorCategory.VALIDATION
    assert result.status is None and problem in result.error.message
    assert seen == []


def test_answers_that_are_not_whole_json_are_left_as_they_came(
    server: tuple[str, list[str]],
) -> None:
    url, _ = server
    text = _call(url, "text", {"fields": ["a"]})
    assert text.data == "just text"
    assert text.notes == [
        "fields not applied: the answer is text, not whole JSON; the result is shown as it came"
    ]
    big = _call(url, "big", {"fields": ["items.id"]}, budget=1000)
    assert isinstance(big.data, str) and len(big.data) == 1000
    assert big.notes[0].startswith("fields not applied: the answer is text, not whole JSON")
    assert big.notes[1].startswith("cut to 1,000 of ")  # the budget's note stays


def test_which_tools_take_fields(server: tuple[str, list[str]]) -> None:
    url, seen = server
    specs = {s.name: s.input_schema["properties"] for s in build_tool_specs(SCHEMA)}
    offered = {n for n, props in specs.items() if "fields" in props}
    assert offered == {"repos_get", "search", "list_things", "big", "own", "text"}
    # not offered: a declared non-JSON answer, a tool that writes, a HEAD (an answer that declares
    # nothing, like ``text``'s, may be JSON: offered)
    assert not {"plain", "image", "make_thing", "ping"} & offered
    # the operation's own `fields` is its own: sent to the application, nothing projected
    assert specs["own"]["fields"]["type"] == "string"
    own = _call(url, "own", {"fields": "a,b"})
    assert own.data == {"echo": True} and seen[-1] == "/own?fields=a%2Cb"
    refused = call(SCHEMA, "make_thing", {"fields": ["id"]}, CallOptions(base_url=url), environ={})
    assert refused.error is not None and "unknown argument 'fields'" in refused.error.message


def test_projection_rules() -> None:
    paths, problems = parse(["a.*.b", "c.0", "/d~1e/~0f"])
    assert problems == () and [p.steps for p in paths] == [
        ("a", "*", "b"),
        ("c", "0"),
        ("d/e", "~f"),
    ]
    data = {"a": {"x": {"b": 1, "z": 2}, "y": {"z": 3}}, "c": [10, 20], "d/e": {"~f": 4, "g": 5}}
    out, missing = project(data, paths)
    assert out == {"a": {"x": {"b": 1}}, "c": [10], "d/e": {"~f": 4}} and missing == []
    # a shorter path keeps the whole value whatever longer ones say; items keep their place
    out, missing = project({"o": {"p": 1, "q": 2}}, parse(["o.p", "o"])[0])
    assert out == {"o": {"p": 1, "q": 2}}
    out, missing = project([{"i": 1}, {"j": 2}, 7], parse(["i"])[0])
    assert out == [{"i": 1}, {}] and missing == []
    assert project({"a": 1}, parse(["a.b"])[0]) == ({}, ["a.b"])


def test_appctl_call_takes_fields_against_httpbin(httpbin_url: str, tmp_path: Any) -> None:
    """The command line end to end: a comma-separated key=value, on real httpbin's /json."""
    from tests import runner

    runner.invoke("sync", "--openapi", f"{httpbin_url}/spec.json", cwd=tmp_path)
    args = ("--base-url", httpbin_url, "--json")
    whole = json.loads(runner.invoke("call", "get_json", *args, cwd=tmp_path).stdout)
    picked = "fields=slideshow.title,slideshow.slides.title"
    cut = json.loads(runner.invoke("call", "get_json", picked, *args, cwd=tmp_path).stdout)
    show = whole["data"]["slideshow"]
    assert cut["data"] == {
        "slideshow": {
            "slides": [{"title": s["title"]} for s in show["slides"]],
            "title": show["title"],
        }
    }
    assert len(show) > 2 and cut.get("notes", []) == []  # the rest was left out, quietly
    history = runner.invoke("history", "--json", cwd=tmp_path).stdout
    assert "slideshow.slides.title" in history  # recorded as given
