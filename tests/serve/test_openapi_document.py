"""``GET /openapi.json`` read by third parties: openapi-spec-validator, every ``$ref`` resolved
by ``referencing`` (the resolver under ``jsonschema``), and npm swagger-parser, which refuses a
dangling ref (openapi-spec-validator does not follow refs inside 3.1 schemas)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import referencing
import referencing.jsonschema
from openapi_spec_validator import validate

from appctl.serve.openapi import Components, openapi_document
from appctl.sync.openapi.api import sync_openapi
from tests.conftest import REPO, run_appctl
from tests.corpus import ABSENT, DIRECTORY, NPM
from tests.serve.test_rest import Served

SWAGGER_PARSER = NPM / "@apidevtools" / "swagger-parser"
# validates the file named on the command line; prints "ok" or the reason
VALIDATE_JS = """
const SwaggerParser = require(process.argv[1]);
SwaggerParser.validate(process.argv[2]).then(
  () => console.log("ok"),
  (e) => { console.log(String(e.message)); process.exit(1); });
"""
SPECS = {
    "petstore-3.1": NPM / "@readme" / "oas-examples" / "3.1" / "json" / "petstore.json",
    "otoroshi": DIRECTORY / "maif.local" / "otoroshi.json",  # shared, nested definitions
    "kubernetes": DIRECTORY / "kubernetes.io.json",  # 845 tools, a tool named "health"
}


def dangling_refs(doc: dict[str, Any]) -> list[str]:
    resource = referencing.Resource.from_contents(
        doc, default_specification=referencing.jsonschema.DRAFT202012
    )
    resolver = referencing.Registry().with_resource("urn:doc", resource).resolver("urn:doc")
    bad = []
    for ref in sorted(_refs(doc)):
        try:
            resolver.lookup("urn:doc" + ref)
        except referencing.exceptions.Unresolvable:
            bad.append(ref)
    return bad


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return {r for item in node for r in _refs(item)}
    if not isinstance(node, dict):
        return set()
    own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
    return own.union(*(_refs(v) for v in node.values()))


def swagger_parser(doc: dict[str, Any], tmp_path: Path) -> str:
    if not SWAGGER_PARSER.is_dir() or shutil.which("node") is None:
        pytest.skip("@apidevtools/swagger-parser is not installed: run scripts/setup")
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(doc))
    proc = subprocess.run(
        ["node", "-e", VALIDATE_JS, str(SWAGGER_PARSER), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.stdout.strip() or proc.stderr.strip()


def judged(doc: dict[str, Any], tmp_path: Path) -> None:
    validate(doc)
    assert dangling_refs(doc) == []
    assert swagger_parser(doc, tmp_path) == "ok"


def test_served_chinook_document_passes_every_validator(tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "chinook.db", tmp_path / "chinook.db")
    run_appctl(tmp_path, "sync", "--db", "chinook.db", code=0)
    served = Served(tmp_path)
    try:
        doc = httpx.get(f"{served.url}/openapi.json", timeout=30).json()
    finally:
        served.stop()
    schemas = doc["components"]["schemas"]
    assert {"IntegerFilter", "StringFilter", "Result"} <= schemas.keys()
    body = doc["paths"]["/tools/list_album/call"]["post"]["requestBody"]
    where = body["content"]["application/json"]["schema"]["properties"]["arguments"]
    assert "$defs" not in where
    assert "#/components/schemas/IntegerFilter" in json.dumps(where)
    judged(doc, tmp_path)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_documents_of_real_specs_pass_every_validator(name: str, tmp_path: Path) -> None:
    if not SPECS[name].is_file():
        pytest.skip(ABSENT)
    doc = openapi_document(sync_openapi(str(SPECS[name])).schema)
    judged(doc, tmp_path)
    operation_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_hoisting_names_definitions_deterministically() -> None:
    node = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}
    first = {
        "type": "object",
        "properties": {
            "a": {"$ref": "#/$defs/Node"},
            "b": {"$ref": "#/definitions/a~1b"},
            "c": {"$ref": "#/$defs/Node/properties/next"},
            "d": {"enum": [{"$ref": "#/$defs/Node"}]},  # data, not a schema
        },
        "$defs": {"Node": node},
        "definitions": {"a/b": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
    }
    other = {**node, "description": "another Node"}
    second = {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/Node"}, "y": {"$ref": "#/$defs/Same"}},
        "$defs": {"Node": other, "Same": {"$ref": "#/$defs/Node"}},
    }
    again = json.loads(json.dumps(first))
    components = Components({"Result": {"type": "object"}})
    one, two, three = (components.hoist(s) for s in (first, second, again))
    assert one == three and "$defs" not in one and "definitions" not in one
    assert one["properties"]["a"] == {"$ref": "#/components/schemas/Node"}
    assert one["properties"]["b"] == {"$ref": "#/components/schemas/a_b"}
    assert one["properties"]["c"] == {"$ref": "#/components/schemas/Node/properties/next"}
    assert one["properties"]["d"] == {"enum": [{"$ref": "#/$defs/Node"}]}
    assert two["properties"]["x"] == {"$ref": "#/components/schemas/Node_2"}
    assert components.schemas["Node_2"]["properties"]["next"] == {
        "$ref": "#/components/schemas/Node_2"
    }
    assert components.schemas["Same"] == {"$ref": "#/components/schemas/Node_2"}
    assert components.schemas["a_b"]["items"] == {"$ref": "#/components/schemas/Node"}
    assert sorted(components.schemas) == ["Node", "Node_2", "Result", "Same", "a_b"]
