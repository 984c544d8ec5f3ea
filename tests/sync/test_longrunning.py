"""Sync recognises long-running operations and records them as ``Action.long_running``;
an operation that is not long-running has no such key in schema.json."""

from __future__ import annotations

from typing import Any

import orjson

from appctl.contract.io import dump_schema, parse_schema
from tests.helpers import spec, sync_doc
from tests.lro_app import spec as lro_spec


def _located(**headers: str) -> dict[str, Any]:
    return {
        "description": "accepted",
        "headers": {h: {"schema": {"type": "string"}} for h in headers},
    }


def _facts(doc: dict[str, Any]) -> dict[str, Any]:
    schema = sync_doc(doc).schema
    return {
        a.name: a.long_running.model_dump(exclude_none=True) if a.long_running else None
        for a in schema.actions()
    }


def test_each_pattern_of_the_fixture_api() -> None:
    facts = _facts(lro_spec())
    assert facts["start_job"] == {
        "pattern": "location",
        "status_headers": ["location"],
        "done_values": [],
        "failed_values": [],
    }
    assert facts["start_azure"]["pattern"] == "azure"
    assert facts["make_vault"]["pattern"] == "azure"
    assert facts["make_vault"]["final_state_via"] == "location"
    assert facts["make_thing"] == {
        "pattern": "google",
        "status_headers": [],
        "operation_path": "/v1/operations/{id}",
        "id_field": "name",
        "done_values": [],
        "failed_values": [],
        "done_field": "done",
        "error_field": "error",
        "result_field": "response",
    }
    assert facts["make_report"]["operation_path"] == "/reports/{name}"  # read where started
    assert "id_field" not in facts["make_report"]
    # reads of an operation or a status start nothing
    assert facts["get_operation"] is None and facts["read_job"] is None


def test_a_job_resource_with_a_status_enum() -> None:
    job = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "state": {"type": "string", "enum": ["queued", "running", "Completed", "Failed"]},
        },
    }
    doc = spec(
        {
            "/exports": {
                "post": {
                    "responses": {
                        "202": {
                            "description": "queued",
                            "content": {"application/json": {"schema": job}},
                        }
                    }
                }
            },
            "/exports/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "the job"}},
                }
            },
        }
    )
    lro = _facts(doc)["post_exports"]
    assert lro["pattern"] == "job"
    assert lro["operation_path"] == "/exports/{id}" and lro["id_field"] == "id"
    assert lro["status_field"] == "state"
    assert lro["done_values"] == ["Completed"] and lro["failed_values"] == ["Failed"]


def test_operation_location_header_alone_means_azure() -> None:
    doc = spec({"/runs": {"post": {"responses": {"202": _located(**{"Operation-Location": ""})}}}})
    assert _facts(doc)["post_runs"]["pattern"] == "azure"


def test_swagger2_202_with_location() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "paths": {"/jobs": {"post": {"responses": {"202": _located(Location="")}}}},
    }
    assert _facts(doc)["post_jobs"]["pattern"] == "location"


def test_nothing_long_running_without_the_signs() -> None:
    doc = spec(
        {
            "/a": {"post": {"responses": {"201": _located(Location="")}}},  # created, not 202
            "/b": {"post": {"responses": {"202": {"description": "accepted, nothing to follow"}}}},
        }
    )
    assert _facts(doc) == {"post_a": None, "post_b": None}
    data = orjson.loads(dump_schema(sync_doc(doc).schema))
    actions = [a for r in data["resources"] for a in r["actions"]]
    assert actions and all("long_running" not in a for a in actions)


def test_long_running_survives_a_round_trip_through_schema_json() -> None:
    schema = sync_doc(lro_spec()).schema
    raw = dump_schema(schema)
    again = parse_schema(raw, origin="schema.json")
    assert dump_schema(again) == raw
    assert again.action("make_vault") == schema.action("make_vault")
    start = next(
        a for r in orjson.loads(raw)["resources"] for a in r["actions"] if a["name"] == "start_job"
    )
    assert start["long_running"] == {"pattern": "location", "status_headers": ["location"]}
