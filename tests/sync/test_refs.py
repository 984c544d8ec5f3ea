from pathlib import Path

from appctl.sync.openapi.api import sync_openapi


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_relative_file_refs_and_cycles(tmp_path: Path) -> None:
    _write(
        tmp_path / "schemas.yaml",
        """
Node:
  type: object
  properties:
    name: {type: string}
    children: {type: array, items: {$ref: '#/Node'}}
""",
    )
    main = _write(
        tmp_path / "main.yaml",
        """
openapi: 3.0.3
info: {title: Refs, version: '1'}
paths:
  /nodes:
    post:
      operationId: createNode
      requestBody:
        content:
          application/json:
            schema: {$ref: 'schemas.yaml#/Node'}
""",
    )
    result = sync_openapi(str(main))
    action = result.schema.actions()[0]
    fields = {f.name: f for f in action.parameters}
    assert set(fields) == {"name", "children"}
    assert fields["children"].schema_ == {"type": "array", "items": {"$ref": "#/definitions/Node"}}
    assert result.schema.definitions["Node"]["properties"]["children"]["items"] == {
        "$ref": "#/definitions/Node"
    }


def test_refs_outside_the_folder_and_network_refs_are_not_read(tmp_path: Path) -> None:
    secret = _write(tmp_path / "secret.yaml", "password: hunter2\n")
    main = _write(
        tmp_path / "spec" / "main.yaml",
        f"""
openapi: 3.0.3
info: {{title: Refs, version: '1'}}
paths:
  /a:
    post:
      operationId: a
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                x: {{$ref: '{secret}#/password'}}
                y: {{$ref: '../secret.yaml#/password'}}
                z: {{$ref: 'http://127.0.0.1:9/schema.json#/Thing'}}
""",
    )
    result = sync_openapi(str(main))
    text = result.schema.model_dump_json()
    assert "hunter2" not in text
    messages = " ".join(d.message for d in result.diagnostics)
    assert "outside the document's folder" in messages
    assert "network reference not fetched" in messages
    assert len(result.schema.actions()) == 1


def test_dangling_ref_is_a_warning_not_a_lost_operation(tmp_path: Path) -> None:
    main = _write(
        tmp_path / "main.yaml",
        """
openapi: 3.0.3
info: {title: Refs, version: '1'}
paths:
  /a:
    get:
      operationId: a
      parameters:
        - {name: q, in: query, schema: {$ref: '#/components/schemas/Missing'}}
        - $ref: '#/components/parameters/Gone'
""",
    )
    result = sync_openapi(str(main))
    assert [a.name for a in result.schema.actions()] == ["a"]
    assert [f.name for f in result.schema.actions()[0].parameters] == ["q"]
    pointers = [d.pointer for d in result.diagnostics]
    assert "/paths/~1a/get/parameters/0/schema" in pointers
    assert "/paths/~1a/get/parameters/1" in pointers


def test_mutual_recursion_and_ref_chain_cycles(tmp_path: Path) -> None:
    main = _write(
        tmp_path / "main.yaml",
        """
openapi: 3.0.3
info: {title: Refs, version: '1'}
paths:
  /a:
    post:
      operationId: a
      requestBody: {$ref: '#/components/requestBodies/Loop'}
      parameters:
        - {name: q, in: query, schema: {$ref: '#/components/schemas/A'}}
components:
  requestBodies:
    Loop: {$ref: '#/components/requestBodies/Loop'}
  schemas:
    A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}
    B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}
""",
    )
    result = sync_openapi(str(main))
    assert set(result.schema.definitions) == {"A", "B"}
    assert any("circular $ref chain" in d.message for d in result.diagnostics)
