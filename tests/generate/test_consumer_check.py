"""The sync-time check of every tool against each consumer: Gemini's documented subset (and
google-genai's own model of it), OpenAI's strict subset, the JSON Schema metaschema."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from appctl.contract.kinds import Safety
from appctl.generate.check import consumer_problems
from appctl.generate.formats import render
from appctl.generate.formats.gemini_subset import problems
from appctl.generate.toolspec import ToolSpec, build_tool_specs
from appctl.sync.db.api import sync_db
from appctl.sync.openapi.api import sync_openapi
from tests.conftest import REPO, run_appctl
from tests.corpus import ABSENT, DIRECTORY, GITHUB


def _tool(schema: dict[str, Any]) -> ToolSpec:
    return ToolSpec(
        name="broken",
        title="Broken",
        description="",
        input_schema=schema,
        resource="things",
        verb="get",
        safety=Safety.READ_ONLY,
        idempotent=True,
        deprecated=False,
    )


def test_a_tool_no_consumer_takes_is_named_with_each_format() -> None:
    found = consumer_problems([_tool({"type": "object", "properties": {"a": {"type": "int"}}})])
    said = [d.message for d in found]
    assert any("broken: its jsonschema tool is not valid" in m for m in said), said
    assert any("broken: its gemini tool" in m and "type 'int'" in m for m in said), said


def test_a_definition_no_consumer_takes_is_named_once_with_its_place() -> None:
    """Definitions are converted by themselves, once per contract, not inside every tool."""
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}},
        "$defs": {"A": {"type": "object", "properties": {"n": {"type": "int"}}}},
    }
    found = [d.message for d in consumer_problems([_tool(schema), _tool(schema)])]
    gemini = [m for m in found if "gemini" in m]
    assert len(gemini) == 2, found  # each tool is named (its schema is the same: checked once)
    assert all("/$defs/A/properties/n: type 'int'" in m for m in gemini), gemini


GEMINI_CASES = [
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}, "unsupported $ref"),
    ({"type": "object", "additionalProperties": False}, "unsupported additionalProperties"),
    ({"type": "object", "properties": {"a": {"type": ["string", "null"]}}}, "type ["),
    ({"type": "object", "properties": {"a": {"type": "integer", "enum": [1]}}}, "enum other"),
    ({"type": "object", "properties": {"a": {"type": "string", "format": "uuid"}}}, "format"),
    ({"type": "object", "properties": {}, "required": ["x"]}, "required names something"),
    ({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}}, "oneOf"),
]


@pytest.mark.parametrize(("schema", "said"), GEMINI_CASES, ids=[s for _, s in GEMINI_CASES])
def test_the_gemini_check_names_each_rule(schema: dict[str, Any], said: str) -> None:
    assert any(said in p for p in problems(schema)), problems(schema)


def _chinook(tmp_path: Path) -> Any:
    shutil.copy(REPO / "examples" / "chinook.db", tmp_path / "chinook.db")
    return sync_db(f"sqlite:///{tmp_path / 'chinook.db'}", root=tmp_path).schema


@pytest.mark.parametrize("source", ["chinook", "github", "kubernetes"])
def test_real_tools_are_valid_for_every_consumer(source: str, tmp_path: Path) -> None:
    paths = {"github": GITHUB, "kubernetes": DIRECTORY / "kubernetes.io.json"}
    if source in paths and not paths[source].is_file():
        pytest.skip(ABSENT)
    schema = _chinook(tmp_path) if source == "chinook" else sync_openapi(str(paths[source])).schema
    specs = build_tool_specs(schema)
    assert consumer_problems(specs) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # google-genai warns of a type it does not know
        for declaration in render("gemini", specs).document["functionDeclarations"]:
            types.FunctionDeclaration.model_validate(declaration)
            # whole, every definition inlined: what the sync-time check judges in pieces
            assert problems(declaration.get("parameters", {"type": "object"})) == []


def test_sync_reports_no_consumer_problem_for_chinook(tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "chinook.db", tmp_path / "chinook.db")
    proc = run_appctl(tmp_path, "sync", "--db", "chinook.db", code=0)
    assert "is not valid there" not in proc.stderr


def test_gemini_says_the_constraints_its_subset_lacks() -> None:
    from tests.helpers import spec, sync_doc

    params = [
        ("tags", {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        ("step", {"type": "integer", "multipleOf": 5}),
        ("code", {"type": "string", "not": {"const": "x"}}),
    ]
    doc = spec(
        {
            "/things": {
                "get": {
                    "operationId": "listThings",
                    "parameters": [
                        {"name": n, "in": "query", "description": "It.", "schema": s}
                        for n, s in params
                    ],
                }
            }
        }
    )
    (tool,) = render("gemini", build_tool_specs(sync_doc(doc).schema)).document[
        "functionDeclarations"
    ]
    props = tool["parameters"]["properties"]
    assert props["tags"]["description"] == "It. Items must be unique."
    assert props["step"]["description"] == "It. A multiple of 5."
    assert props["code"]["description"] == "It. Further rules apply (not)."
    assert problems(tool["parameters"]) == []
