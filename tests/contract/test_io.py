from pathlib import Path

import orjson
import pytest

from appctl.contract.io import (
    contract_json_schema,
    dump_schema,
    find_app_dir,
    load_schema,
    parse_schema,
    write_atomic,
)
from appctl.errors import ContractError
from tests.helpers import spec, sync_doc


def _schema():
    doc = spec(
        {
            "/b": {"get": {"operationId": "zeta", "tags": ["b"]}},
            "/a": {
                "get": {"operationId": "alpha", "tags": ["a"]},
                "post": {"operationId": "beta", "tags": ["a"]},
            },
        }
    )
    return sync_doc(doc).schema


def test_dump_is_deterministic_sorted_and_ends_with_newline() -> None:
    first = dump_schema(_schema())
    assert first == dump_schema(_schema())
    assert first.endswith(b"}\n")
    data = orjson.loads(first)
    assert [r["name"] for r in data["resources"]] == ["a", "b"]
    assert [a["name"] for a in data["resources"][0]["actions"]] == ["alpha", "beta"]
    action = data["resources"][0]["actions"][0]
    for key in ("name", "verb", "safety", "provenance", "transport", "parameters"):
        assert key in action
    assert "description" not in action  # empty: left out, read back as ""


def test_round_trip(tmp_path: Path) -> None:
    schema = _schema()
    write_atomic(tmp_path / "schema.json", dump_schema(schema))
    assert load_schema(tmp_path) == parse_schema(dump_schema(schema), origin="x")
    assert dump_schema(load_schema(tmp_path)) == dump_schema(schema)


def test_idempotence_is_written_only_where_the_method_does_not_imply_it() -> None:
    schema = _schema()
    beta = schema.action("beta")
    assert beta is not None and not beta.idempotent  # a POST, as its method says
    resources = [
        r.model_copy(
            update={"actions": [a.model_copy(update={"idempotent": True}) for a in r.actions]}
        )
        for r in schema.resources
    ]
    marked = schema.model_copy(update={"resources": resources})  # an override's doing
    data = orjson.loads(dump_schema(marked))
    written = {a["name"]: a.get("idempotent") for r in data["resources"] for a in r["actions"]}
    assert written == {"alpha": None, "beta": True, "zeta": None}  # GETs: implied, left out
    back = parse_schema(dump_schema(marked), origin="x")
    assert {a.name: a.idempotent for a in back.actions()} == {
        "alpha": True,
        "beta": True,
        "zeta": True,
    }
    assert dump_schema(parse_schema(dump_schema(marked), origin="x")) == dump_schema(marked)


def test_hand_edit_errors_name_the_place(tmp_path: Path) -> None:
    data = orjson.loads(dump_schema(_schema()))
    data["resources"][0]["actions"][0]["safety"] = "harmless"
    (tmp_path / "schema.json").write_bytes(orjson.dumps(data))
    with pytest.raises(ContractError) as info:
        load_schema(tmp_path)
    assert "resources/0/actions/0/safety" in info.value.message


def test_literal_secret_in_auth_is_refused() -> None:
    data = orjson.loads(dump_schema(_schema()))
    data["auth"] = {"schemes": [{"name": "t", "type": "bearer", "credentials": {"token": "abc"}}]}
    with pytest.raises(ContractError, match="env:NAME"):
        parse_schema(orjson.dumps(data), origin="schema.json")


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no contract"):
        load_schema(tmp_path)
    (tmp_path / "schema.json").write_text("{not json")
    with pytest.raises(ContractError, match="not valid JSON"):
        load_schema(tmp_path)


def test_write_atomic_leaves_no_temp_files_and_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]
    assert target.stat().st_mode & 0o044  # readable by group/others under a normal umask


def test_find_app_dir(tmp_path: Path) -> None:
    (tmp_path / ".appctl").mkdir()
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_app_dir(None, cwd=nested) == (tmp_path / ".appctl").resolve()
    assert find_app_dir("x/y", cwd=nested) == Path("x/y")
    lonely = tmp_path / "elsewhere"
    lonely.mkdir()
    # no .appctl above tmp_path's own tree beyond the one we made: nearest wins
    assert find_app_dir(None, cwd=lonely) == (tmp_path / ".appctl").resolve()


def test_json_schema_validates_a_real_contract() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = contract_json_schema()
    data = orjson.loads(dump_schema(_schema()))
    jsonschema.validate(data, doc)
    data["resources"][0]["actions"][0]["verb"] = "explode"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, doc)
