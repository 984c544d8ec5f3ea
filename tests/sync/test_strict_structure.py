"""``sync --strict``: an OpenAPI 3.0 / 3.1 document checked against openapi-pydantic's models,
each break an error at its JSON pointer (one mistake, one error), nothing written; without
``--strict`` the same document syncs as before and the check does not run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from appctl.errors import REPAIR, STRUCTURE, Category, StrictError
from appctl.sync import OpenAPI, run
from appctl.sync.openapi.structure import NOT_CHECKED, structure_problems
from tests.conftest import REPO, run_appctl

BROKEN_30 = """\
openapi: 3.0.3
info: {title: Broken, version: "1"}
servers: [{url: "https://api.example.com"}]
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: nowhere, schema: {type: integer}}
        - {name: kind, in: query, schema: {type: int}}
      responses:
        "200": {content: {application/json: {schema: {type: array, items: {type: string}}}}}
        "404": {$ref: 5}
"""
BROKEN_31 = """\
openapi: 3.1.0
info: {title: Broken, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
components:
  schemas:
    Pet: {type: [object, nul], properties: {name: {type: string}}, items: 3}
"""


def _problems(text: str) -> dict[str, str]:
    return {d.pointer: d.message for d in structure_problems(yaml.safe_load(text))}


def test_each_break_of_a_30_document_is_one_error_at_its_pointer() -> None:
    found = _problems(BROKEN_30)
    assert set(found) == {
        "/paths/~1pets/get/parameters/0/in",
        "/paths/~1pets/get/parameters/1/schema/type",
        "/paths/~1pets/get/responses/200",
        "/paths/~1pets/get/responses/404/$ref",
    }
    assert found["/paths/~1pets/get/parameters/0/in"].startswith("value not allowed: should be")
    assert "found 'nowhere'" in found["/paths/~1pets/get/parameters/0/in"]
    assert found["/paths/~1pets/get/responses/200"] == (
        "missing field: 'description' is required in a Response object"
    )
    assert found["/paths/~1pets/get/responses/404/$ref"].startswith("wrong type:")


def test_a_31_document_is_checked_by_the_31_models() -> None:
    found = _problems(BROKEN_31)
    assert set(found) == {
        "/components/schemas/Pet/type/1",
        "/components/schemas/Pet/items",
    }
    assert "'null'" in found["/components/schemas/Pet/type/1"]  # 3.1's type list allows null


@pytest.mark.parametrize(
    "name", ["petstore-openapi30.yaml", "petstore-openapi31.json", "schemas-31.yaml"]
)
def test_valid_documents_have_no_problems(name: str) -> None:
    text = (REPO / "fixtures" / "openapi" / name).read_text()
    assert structure_problems(yaml.safe_load(text)) == []


def test_strict_refuses_and_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(BROKEN_30)
    app_dir = tmp_path / ".appctl"
    with pytest.raises(StrictError) as caught:
        run(OpenAPI(str(spec)), app_dir=app_dir, strict=True, environ={})
    error = caught.value
    assert error.category == Category.SOURCE and "nothing was written" in error.message
    assert "breaks the OpenAPI structure in 3 places" in error.message
    assert "needed 1 repair" in error.message and "without --strict" in error.suggestion
    kinds = {d.pointer: d.kind for d in error.problems}
    # type: int is said once, by the repair that reads it as integer
    assert kinds["/paths/~1pets/get/parameters/1/schema/type"] == REPAIR
    assert kinds["/paths/~1pets/get/parameters/0/in"] == STRUCTURE
    assert all(d.level == "error" for d in error.problems)
    assert not app_dir.exists()


def test_without_strict_the_same_document_syncs_unchecked(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(BROKEN_30)
    outcome = run(OpenAPI(str(spec)), app_dir=tmp_path / ".appctl", environ={})
    assert outcome.actions == ("list_pets",)
    assert not [d for d in outcome.warnings if d.kind == STRUCTURE]


def test_a_swagger2_document_says_it_was_not_checked(tmp_path: Path) -> None:
    spec = str(REPO / "fixtures" / "openapi" / "petstore-swagger2.json")
    outcome = run(OpenAPI(spec), app_dir=tmp_path / ".appctl", strict=True, environ={})
    assert NOT_CHECKED in outcome.notes


def test_the_cli_prints_each_problem_then_the_error(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(BROKEN_31)
    proc = run_appctl(tmp_path, "sync", "--strict", "--openapi", "spec.yaml", code=1)
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: /components/schemas/Pet/")
    # the response schema is converted like an argument's: its repairs are said as such
    said = "error: --strict: the source breaks the OpenAPI structure in 1 place and needed 2"
    assert said in proc.stderr
    assert "hint: Fix the document at the pointers named above" in proc.stderr
    assert not (tmp_path / ".appctl").exists()
