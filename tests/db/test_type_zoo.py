"""The type zoo (tests/db/zoo.py) on SQLite, PostgreSQL and MariaDB: synced by ``appctl sync
--db``, every row listed and fetched, rows created through the tools and read back exactly,
and every result's structured content validated against the tool's output schema, both with
jsonschema directly and by the official MCP SDK client (``appctl mcp``), which rejects a
result that does not match its tool's outputSchema."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest
import sqlalchemy as sa
from mcp import Client, StdioServerParameters

from appctl.contract.io import load_schema
from appctl.contract.models import Contract
from appctl.execute.executor import CallOptions, call
from appctl.generate.formats.mcp import output_schema
from tests.db import zoo
from tests.runner import APPCTL

PASSWORD_ENV = "APPCTL_ZOO_PASSWORD"


def kind_of(url: str) -> str:
    return (
        "sqlite" if url.startswith("sqlite") else "postgresql" if "postgres" in url else "mariadb"
    )


def _env(url: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    password = sa.make_url(url).password
    if password:
        env[PASSWORD_ENV] = str(password)
    return env


def _sync(url: str, project: Path) -> subprocess.CompletedProcess[str]:
    args = [APPCTL, "sync", "--db", url]
    if not url.startswith("sqlite"):
        args += ["--password-env", PASSWORD_ENV]
    proc = subprocess.run(
        args, cwd=project, capture_output=True, text=True, timeout=60, env=_env(url)
    )
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def synced(fresh_db: str, tmp_path: Path) -> tuple[str, str, Path, Contract, str]:
    """The zoo made, filled with its raw rows and synced: (url, kind, project, schema, the
    sync's stderr)."""
    kind = kind_of(fresh_db)
    engine = sa.create_engine(fresh_db)
    with engine.begin() as conn:
        for statement in zoo.DDL[kind] + zoo.RAW[kind]:
            conn.exec_driver_sql(statement)
    engine.dispose()
    project = tmp_path / "project"
    project.mkdir()
    proc = _sync(fresh_db, project)
    return fresh_db, kind, project, load_schema(project / ".appctl"), proc.stderr


def _call(url: str, schema: Contract, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """A call through the executor, its envelope validated against the tool's outputSchema."""
    result = call(schema, tool, args, CallOptions(database_url=url, approved=True), environ={})
    assert result.ok, (tool, result.error)
    action, resource = schema.action(tool), schema.resource_of(tool)
    assert action is not None and resource is not None and resource.table is not None
    shape = output_schema(action, resource.table)
    assert shape is not None
    envelope = result.model_dump(mode="json", exclude_none=True)
    jsonschema.validate(envelope, shape)
    assert isinstance(envelope["data"], dict), "cut to the budget: the zoo rows are small"
    return dict(envelope["data"])


def test_the_contract_types_every_column(synced) -> None:
    _, kind, project, schema, stderr = synced
    text = (project / ".appctl" / "schema.json").read_text()
    assert "NULLTYPE" not in text
    for expected in zoo.UNKNOWN[kind]:
        assert f"{expected} is not one appctl knows" in stderr
    assert "Did not recognize type" not in stderr
    columns = {c.name: c for c in schema.resources[0].table.columns}  # type: ignore[union-attr]
    jsonschema.Draft202012Validator.check_schema({"anyOf": [c.schema_ for c in columns.values()]})
    big = columns["bi"] if kind != "postgresql" else columns["i8"]
    assert (big.schema_["minimum"], big.schema_["maximum"]) == zoo.I64
    if kind == "postgresql":
        assert columns["a2"].type == "INTEGER[][]"
        assert columns["a2"].schema_["items"]["items"]["type"] == ["integer", "null"]
        assert columns["a3"].schema_["items"]["items"]["items"]["type"] == ["integer", "null"]
        assert columns["pt"].type == "point" and columns["x"].type == "xml"
        assert columns["dom"].kind == "integer"
    if kind == "mariadb":
        assert columns["biu"].schema_["maximum"] == 2**64 - 1
        assert columns["s"].schema_["items"]["enum"] == ["r", "w", "x"]
        assert columns["y"].kind == "integer" and columns["j"].kind == "json"
    if kind == "sqlite":
        assert columns["si"].schema_["maximum"] == zoo.I64[1]  # SQLite keeps 64 bits
        assert "type" not in columns["nt"].schema_  # no declared type: any value


def test_every_row_reads_and_matches_its_schema(synced) -> None:
    url, kind, _, schema, _ = synced
    listed = _call(url, schema, "list_zoo", {"limit": 500})
    assert len(listed["rows"]) == len(zoo.RAW[kind]) and not listed["has_more"]
    for row in listed["rows"]:
        assert _call(url, schema, "get_zoo", {"id": row["id"]}) == row


def test_written_values_read_back_exactly(synced) -> None:
    url, kind, _, schema, _ = synced
    for i, values in enumerate(zoo.WRITES[kind]):
        created = _call(url, schema, "create_zoo", values)
        expected = values | zoo.READ_BACK.get(kind, {}).get(i, {})
        assert {k: created[k] for k in values} == expected
        got = _call(url, schema, "get_zoo", {"id": created["id"]})
        assert got == created
        listed = _call(url, schema, "list_zoo", {"where": {"id": {"eq": created["id"]}}})
        assert listed["rows"] == [created]
        changed = _call(url, schema, "update_zoo", {"id": created["id"], **values})
        assert changed == created


def test_the_mcp_client_accepts_every_result(synced) -> None:
    """ClientSession.call_tool validates structuredContent against each tool's outputSchema
    and raises on a mismatch."""
    url, kind, project, _, _ = synced
    params = StdioServerParameters(
        command=APPCTL, args=["mcp", "--yes"], cwd=project, env=_env(url)
    )
    seen: list[dict[str, Any]] = []

    async def session() -> None:
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert tools["list_zoo"].output_schema is not None
            for values in zoo.WRITES[kind]:
                created = await client.call_tool("create_zoo", values)
                assert not created.is_error, created.structured_content
            listed = await client.call_tool("list_zoo", {"limit": 500})
            assert not listed.is_error and listed.structured_content is not None
            rows = listed.structured_content["data"]["rows"]
            assert len(rows) == len(zoo.RAW[kind]) + len(zoo.WRITES[kind])
            for row in rows:
                got = await client.call_tool("get_zoo", {"id": row["id"]})
                assert got.structured_content is not None and not got.is_error
                seen.append(got.structured_content["data"])
            assert seen == rows

    async def bounded() -> None:
        with anyio.fail_after(60):
            await session()

    anyio.run(bounded)
    assert json.dumps(seen)  # plain JSON all through
