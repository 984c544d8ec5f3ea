"""``appctl mcp`` with arguments no schema can make safe: each is a tool error result (a
``validation`` envelope, recorded), never a protocol error, and nobody is asked to approve
a call that would be refused anyway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mcp_types as types
import pytest

from tests.serve.test_mcp import MODES, _envelope, _history, _run, _stdio
from tests.serve.test_rest_robust import odd_project


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


HOSTILE = {
    "a 401-bit number": {"name": 2**400},
    "nesting past the limit": {"name": _nested(150)},
    "a 65-bit number deep inside": {"name": [[{"n": 2**64}]]},
}


@pytest.mark.parametrize("mode", MODES)
def test_hostile_arguments_are_tool_errors_and_never_asked_about(
    project: Path, pets: Any, mode: str
) -> None:
    asked: list[str] = []

    async def elicit(
        context: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={})

    async def session() -> None:
        async with _stdio(project, mode=mode, elicitation_callback=elicit) as client:
            for what, arguments in HOSTILE.items():
                result = await client.call_tool("create_pet", arguments)
                error = _envelope(result)["error"]
                assert result.is_error and error["category"] == "validation", what
                assert "argument 'name" in error["message"], what
            assert not (await client.call_tool("list_pets", {"limit": 1})).is_error

    _run(session)
    assert asked == [] and [s[:2] for s in pets.seen] == [("GET", "/api/pets")]
    assert [r["outcome"] for r in _history(project)] == ["invalid"] * len(HOSTILE) + ["ok"]


def test_an_answer_holding_a_lone_surrogate_is_a_result(tmp_path: Path, http_server) -> None:
    project = odd_project(tmp_path, *http_server)

    async def session() -> None:
        async with _stdio(project) as client:
            result = await client.call_tool("get_odd", {})
            assert not result.is_error
            assert _envelope(result)["data"] == {"name": "a\\ud800b"}  # escaped, visibly

    _run(session)
