from pathlib import Path

import pytest

from appctl.contract.models import Safety
from appctl.contract.overrides import apply_overrides, load_overrides
from appctl.errors import OverrideError
from tests.helpers import spec, sync_doc

DOC = spec(
    {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "tags": ["pets"],
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}},
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["a", "b", "c"]},
                    },
                ],
            }
        },
        "/pets/{id}": {
            "delete": {
                "operationId": "deletePet",
                "tags": ["pets"],
                "parameters": [{"name": "id", "in": "path", "required": True}],
            }
        },
        "/search": {"post": {"operationId": "search", "tags": ["pets"]}},
    }
)


def _apply(tmp_path: Path, text: str):
    path = tmp_path / "overrides.yaml"
    path.write_text(text)
    overrides = load_overrides(path)
    assert overrides is not None
    return apply_overrides(sync_doc(DOC).schema, overrides)


def test_rename_hide_redescribe_reclassify_narrow(tmp_path: Path) -> None:
    schema = _apply(
        tmp_path,
        """
actions:
  list_pets:
    name: pets_list
    description: Lists pets, newest first.
    parameters:
      limit: {schema: {maximum: 50}, required: true, description: Page size.}
      status: {schema: {enum: [a, b]}}
  search: {safety: read_only}
  delete_pet: {hide: true}
resources:
  pets: {description: The pets.}
base_url: https://api.example.com
""",
    )
    names = [a.name for a in schema.actions()]
    assert names == ["pets_list", "search"]
    listing = schema.action("pets_list")
    assert listing.description == "Lists pets, newest first."
    limit = listing.field("limit")
    assert limit.required and limit.schema_["maximum"] == 50 and limit.description == "Page size."
    assert listing.field("status").schema_["enum"] == ["a", "b"]
    assert schema.action("search").safety == Safety.READ_ONLY
    assert schema.resources[0].description == "The pets."
    assert schema.base_url == "https://api.example.com"


def test_names_that_no_longer_exist_are_errors_with_hints(tmp_path: Path) -> None:
    with pytest.raises(OverrideError) as info:
        _apply(
            tmp_path,
            """
actions:
  list_petz: {description: x}
  list_pets:
    parameters:
      limmit: {description: x}
resources:
  petz: {description: x}
""",
        )
    message = info.value.message
    assert "no action named 'list_petz'" in message and "Did you mean 'list_pets'?" in message
    assert "no parameter named 'limmit'" in message and "'limit'" in message
    assert "no resource named 'petz'" in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("actions: {delete_pet: {parameters: {id: {required: false}}}}", "cannot make a required"),
        ("actions: {list_pets: {parameters: {status: {schema: {enum: [z]}}}}}", "not allowed"),
        (
            "actions: {list_pets: {parameters: {limit: {schema: {type: string}}}}}",
            "not a narrowing",
        ),
        ("actions: {list_pets: {name: 'bad name'}}", "must match"),
        ("actions: {list_pets: {name: search}}", "both be named 'search'"),
        ("actions: {delete_pet: {parameters: {id: {hide: true}}}}", "only be hidden"),
        ("actions: {list_pets: {safty: read_only}}", "Extra inputs"),
        (
            "actions: {list_pets: {parameters: {limit: {schema: {maximum: '50'}}}}}",
            r"actions\.list_pets\.parameters\.limit\.schema: the narrowed schema is not a "
            r'valid JSON Schema \("50" is not of type "number"\)',
        ),
        (
            "actions: {list_pets: {parameters: {status: {schema: {pattern: '(a'}}}}}",
            r"parameters\.status\.schema: .* is not a \"regex\"",
        ),
        (
            "actions: {list_pets: {parameters: {limit: {schema: {minimum: -1, multipleOf: 0}}}}}",
            r"limit\.schema: the narrowed schema is not a valid JSON Schema \(0 is less than",
        ),
    ],
)
def test_invalid_overrides(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(OverrideError, match=problem):
        _apply(tmp_path, text)


def test_hidden_parameter_with_const(tmp_path: Path) -> None:
    schema = _apply(
        tmp_path, "actions: {delete_pet: {parameters: {id: {hide: true, schema: {const: 7}}}}}"
    )
    field = schema.action("delete_pet").field("id")
    assert field.hidden and field.schema_["const"] == 7


def test_missing_empty_and_bad_files(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "none.yaml") is None
    (tmp_path / "empty.yaml").write_text("")
    assert load_overrides(tmp_path / "empty.yaml") is not None
    (tmp_path / "bad.yaml").write_text("actions: [")
    with pytest.raises(OverrideError, match="not valid YAML"):
        load_overrides(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(OverrideError, match="must be a mapping"):
        load_overrides(tmp_path / "list.yaml")
