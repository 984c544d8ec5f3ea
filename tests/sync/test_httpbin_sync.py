"""Real httpbin's own Swagger 2.0 document (written by flasgger) synced from its URL: its
mistakes (``type: int`` on 17 tools, ``/etag/{etag}`` and ``/anything/{anything}`` with no path
parameter) are repaired with warnings, every schema written passes the 2020-12 metaschema, and
the repaired tools reach the right URLs. ``--strict`` refuses the same document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests import runner
from tests.corpus import metaschema_validator

META = metaschema_validator()
META_CHECKED_FORMATS = ("jsonschema", "mcp", "anthropic")  # 2020-12 input schemas


def _appctl(cwd: Path, *args: str, code: int = 0) -> runner.Invoked:
    return runner.invoke(*args, cwd=cwd, code=code)


def _invalid(schema: Any) -> bool:
    return not META.is_valid(schema)


def test_httpbin_syncs_valid_schemas_and_repaired_tools_work(
    httpbin_url: str, tmp_path: Path
) -> None:
    synced = _appctl(
        tmp_path, "sync", "--openapi", f"{httpbin_url}/spec.json", "--base-url", httpbin_url
    )
    assert "type 'int' is not a JSON Schema type" in synced.stderr
    assert "/paths/~1etag~1{etag}/get: path variable {etag} has no path parameter" in synced.stderr
    contract = json.loads((tmp_path / ".appctl" / "schema.json").read_text())
    actions = [a for r in contract["resources"] for a in r["actions"]]
    assert len(actions) == 78
    bad = [a["name"] for a in actions if any(_invalid(f["schema"]) for f in a["parameters"])]
    assert bad == []
    assert not [n for n, d in contract["definitions"].items() if _invalid(d)]
    for fmt in META_CHECKED_FORMATS:
        rendered = json.loads(_appctl(tmp_path, "tools", "--format", fmt).stdout)
        entries = rendered["tools"] if isinstance(rendered, dict) else rendered
        schemas = [
            next(e[k] for k in ("input_schema", "inputSchema", "parameters") if k in e)
            for e in entries
        ]
        assert len(schemas) == 78
        assert not [s for s in schemas if _invalid(s)], fmt

    delay = json.loads(_appctl(tmp_path, "call", "get_delay_delay", "delay=0", "--json").stdout)
    assert delay["ok"] and delay["data"]["url"] == f"{httpbin_url}/delay/0"
    etag = json.loads(_appctl(tmp_path, "call", "get_etag_etag", "etag=abc", "--json").stdout)
    assert etag["ok"] and etag["data"]["url"] == f"{httpbin_url}/etag/abc"
    anything = _appctl(
        tmp_path, "call", "post_anything_anything", "anything=hello", "--yes", "--json"
    )
    assert json.loads(anything.stdout)["data"]["url"] == f"{httpbin_url}/anything/hello"
    missing = json.loads(_appctl(tmp_path, "call", "get_etag_etag", "--json", code=2).stdout)
    assert missing["error"]["category"] == "validation" and "'etag'" in missing["error"]["message"]


def test_strict_refuses_httpbin_and_writes_nothing(httpbin_url: str, tmp_path: Path) -> None:
    refused = _appctl(tmp_path, "sync", "--strict", "--openapi", f"{httpbin_url}/spec.json", code=1)
    assert "error: /paths/~1bytes~1{n}/get/parameters/0/type: type 'int'" in refused.stderr
    assert "--strict" in refused.stderr and "nothing was written" in refused.stderr
    assert not (tmp_path / ".appctl" / "schema.json").exists()
    assert not (tmp_path / ".appctl" / "tools.json").exists()


def _value(field: Any) -> Any:
    """A value a person would try first: the document's own, else a small one of its type."""
    schema = field.schema_
    for key in ("default", "example"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    return {"integer": 1, "number": 1, "boolean": True, "array": []}.get(schema.get("type"), "1")


def test_every_httpbin_tool_is_valid_for_each_consumer_and_every_read_tool_answers(
    httpbin_url: str, tmp_path: Path
) -> None:
    """The issue's proof on real httpbin: no tool invalid in any format (the JSON Schema
    metaschema, Gemini's subset, OpenAI's strict subset), every path variable an argument,
    and every read tool callable: the request goes out and httpbin's answer comes back (an
    upstream 401, 404 or redirect is an answer; a ``validation`` or ``internal`` failure of
    appctl's own is not)."""
    import re

    from appctl.contract.io import load_schema
    from appctl.contract.kinds import Location, Safety
    from appctl.contract.models import HttpTransport
    from appctl.execute.executor import CallOptions, call
    from appctl.execute.result import ErrorCategory
    from appctl.generate.check import consumer_problems
    from appctl.generate.formats import render
    from appctl.generate.formats.openai_subset import problems as strict_problems
    from appctl.generate.toolspec import build_tool_specs

    _appctl(tmp_path, "sync", "--openapi", f"{httpbin_url}/spec.json", "--base-url", httpbin_url)
    schema = load_schema(tmp_path / ".appctl")
    specs = build_tool_specs(schema)
    assert consumer_problems(specs) == []  # the metaschema and Gemini's subset
    strict = [t["function"] for t in render("openai", specs, strict=True).document]
    made_strict = [t["parameters"] for t in strict if t.get("strict")]
    assert len(made_strict) >= 60 and not [p for p in made_strict if strict_problems(p)]
    unanswered: dict[str, str] = {}
    read = 0
    for action in schema.actions():
        assert isinstance(action.transport, HttpTransport)
        variables = set(re.findall(r"{([^}]+)}", action.transport.path))
        path_args = {f.wire for f in action.parameters if f.location == Location.PATH}
        assert variables == path_args, action.name
        if action.safety != Safety.READ_ONLY:
            continue
        read += 1
        args = {f.name: _value(f) for f in action.parameters if f.required}
        result = call(schema, action.name, args, CallOptions(timeout=15), environ={})
        if result.error is not None and result.error.category in (
            ErrorCategory.VALIDATION,
            ErrorCategory.INTERNAL,
        ):
            unanswered[action.name] = f"{result.error.category}: {result.error.message}"
    assert read >= 50
    assert unanswered == {}
