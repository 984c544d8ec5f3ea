"""contract/sources.py: source names, prefixed tool names, and several contracts loaded from
one app dir into the one a session runs, each tool keeping its own source's definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appctl.contract import io
from appctl.contract.models import Contract
from appctl.contract.names import TOOL_NAME_RE
from appctl.contract.sources import (
    check_source_name,
    load_contract,
    namespaced,
    prefixed,
    source_dir,
)
from appctl.errors import ContractError, UsageError
from appctl.execute.executor import CallOptions, prepare
from appctl.execute.result import ToolResult
from appctl.generate.toolspec import build_tool_specs
from tests.helpers import spec, sync_doc


def _pets(required: list[str], base: str) -> Contract:
    """A contract whose one tool's body is ``#/components/schemas/Pet``, kept a definition
    (it refers to itself)."""
    pet = {
        "type": "object",
        "required": required,
        "properties": {
            **{k: {"type": "string"} for k in required},
            "parent": {"$ref": "#/components/schemas/Pet"},
        },
    }
    doc = spec(
        {
            "/pets": {
                "post": {
                    "operationId": "addPet",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                        },
                    },
                }
            }
        },
        components={"schemas": {"Pet": pet}},
        servers=[{"url": base}],
    )
    return sync_doc(doc).schema


def _write(app_dir: Path, name: str | None, schema: Contract) -> None:
    own = source_dir(app_dir, name)
    io.write_atomic(
        own / io.SCHEMA_FILE, io.dump_schema(namespaced(schema, name) if name else schema)
    )


def test_prefixed_names_are_valid_everywhere_and_stay_unique() -> None:
    long = "get_" + "x" * 58 + "_a"
    other = "get_" + "x" * 58 + "_b"
    assert prefixed("db", "list_artist") == "db_list_artist"
    made = {prefixed("github", long), prefixed("github", other)}
    assert len(made) == 2
    assert all(len(n) <= 64 and TOOL_NAME_RE.match(n) for n in made)


@pytest.mark.parametrize("name", ["", "Git", "git-hub", "1db", "a" * 21, "a_b", "../x"])
def test_a_name_that_cannot_be_a_folder_and_prefix_is_refused(name: str) -> None:
    with pytest.raises(UsageError, match="cannot name a source"):
        check_source_name(name)


def test_one_source_loads_exactly_as_before(tmp_path: Path) -> None:
    _write(tmp_path, None, _pets(["name"], "https://a.example"))
    loaded = load_contract(tmp_path)
    assert loaded.parts == {}
    assert io.dump_schema(loaded) == (tmp_path / io.SCHEMA_FILE).read_bytes()


def test_each_tool_keeps_its_own_definitions_base_url_and_source(tmp_path: Path) -> None:
    _write(tmp_path, None, _pets(["name"], "https://plain.example"))
    _write(tmp_path, "a", _pets(["name"], "https://a.example"))
    _write(tmp_path, "b", _pets(["tag"], "https://b.example"))
    merged = load_contract(tmp_path)
    assert set(merged.parts) == {"", "a", "b"}
    assert sorted(merged.definitions) == ["Pet", "a_Pet", "b_Pet"]
    assert [merged.part_for(t).base_url for t in ("add_pet", "a_add_pet", "b_add_pet")] == [
        "https://plain.example",
        "https://a.example",
        "https://b.example",
    ]
    assert [a.source_name for a in merged.actions()] == ["", "a", "b"]
    specs = {s.name: s.input_schema for s in build_tool_specs(merged)}
    assert "tag" in str(specs["b_add_pet"]) and "tag" not in str(specs["a_add_pet"])
    checked: dict[str, Any] = {}
    for tool in ("a_add_pet", "b_add_pet"):
        done = prepare(merged, tool, {"name": "Rex"}, CallOptions(approved=True), {})
        checked[tool] = done if isinstance(done, ToolResult) else done[1]
    assert not isinstance(checked["a_add_pet"], ToolResult)
    assert str(checked["a_add_pet"].url).startswith("https://a.example")
    refused = checked["b_add_pet"]
    assert isinstance(refused, ToolResult) and refused.error is not None
    assert "tag" in refused.error.message  # b's Pet wants a tag


def test_an_unknown_tool_is_looked_for_across_every_source(tmp_path: Path) -> None:
    _write(tmp_path, None, _pets(["name"], "https://plain.example"))
    _write(tmp_path, "a", _pets(["name"], "https://a.example"))
    merged = load_contract(tmp_path)
    done = prepare(merged, "a_add_pets", {}, CallOptions(), {})
    assert isinstance(done, ToolResult) and done.error is not None
    assert "Did you mean 'a_add_pet'?" in done.error.message


def test_one_tool_name_from_two_sources_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, None, _pets(["name"], "https://plain.example").model_copy())
    clash = namespaced(_pets(["name"], "https://a.example"), "a")
    io.write_atomic(source_dir(tmp_path, "b") / io.SCHEMA_FILE, io.dump_schema(clash))
    _write(tmp_path, "a", _pets(["name"], "https://a.example"))
    with pytest.raises(
        ContractError, match="'a_add_pet' comes from both source 'a' and source 'b'"
    ):
        load_contract(tmp_path)


def test_an_unnamed_definition_named_like_a_renamed_one_is_an_error(tmp_path: Path) -> None:
    plain = _pets(["name"], "https://plain.example")
    plain = plain.model_copy(update={"definitions": {**plain.definitions, "a_Pet": {}}})
    _write(tmp_path, None, plain)
    _write(tmp_path, "a", _pets(["name"], "https://a.example"))
    with pytest.raises(ContractError, match="definition 'a_Pet' of source 'a' is also another"):
        load_contract(tmp_path)


def test_the_merged_title_names_each_source(tmp_path: Path) -> None:
    _write(tmp_path, None, _pets(["name"], "https://plain.example"))
    _write(tmp_path, "a", _pets(["name"], "https://a.example"))
    assert load_contract(tmp_path).source.title == "T, T (a)"


def test_only_real_refs_are_renamed_not_text_that_looks_like_one(tmp_path: Path) -> None:
    schema = _pets(["name"], "https://a.example")
    look_alike = {'k"$ref': "#/definitions/Pet", "description": '"$ref": "#/definitions/Pet"'}
    pet = {**schema.definitions["Pet"], "default": look_alike}
    _write(tmp_path, "a", schema.model_copy(update={"definitions": {"Pet": pet}}))
    _write(tmp_path, "b", _pets(["tag"], "https://b.example"))
    loaded = load_contract(tmp_path).definitions["a_Pet"]
    assert loaded["default"] == look_alike
    assert loaded["properties"]["parent"] == {"$ref": "#/definitions/a_Pet"}
