"""`appctl mcp`: a long-running operation's polls reach an SDK client that asked for
progress (a progressToken) as progress notifications, during the call; appctl_poll is
listed beside the long-running tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from appctl.contract.io import dump_schema, write_atomic
from tests import runner
from tests.helpers import sync_doc
from tests.lro_app import lro_app, spec
from tests.runner import APPCTL
from tests.serve.test_mcp import MODES

CONFIG = 'policy:\n  - {match: {name: "*"}, action: allow}\n'


@pytest.mark.parametrize("mode", MODES)
def test_progress_notifications_while_polling(tmp_path: Path, mode: str) -> None:
    with lro_app() as app:
        schema = sync_doc(spec(), base_url=app.url).schema
        write_atomic(tmp_path / ".appctl" / "schema.json", dump_schema(schema))
        (tmp_path / ".appctl" / "config.yaml").write_text(CONFIG)
        told: list[tuple[float, str | None]] = []
        during: list[int] = []

        async def progress(done: float, total: float | None, message: str | None) -> None:
            told.append((done, message))
            during.append(len(app.writes))  # the call is still under way: its POST is out

        async def session() -> dict[str, Any]:
            params = StdioServerParameters(
                command=APPCTL, args=["mcp"], cwd=tmp_path, env=runner.child_env({})
            )
            async with Client(params, mode=mode) as client:
                names = [t.name for t in (await client.list_tools()).tools]
                assert "appctl_poll" in names
                result = await client.call_tool(
                    "start_job", {"polls": 3}, progress_callback=progress
                )
                assert not result.is_error
                assert isinstance(result.structured_content, dict)
                return result.structured_content

        async def bounded() -> dict[str, Any]:
            with anyio.fail_after(30):
                return await session()

        envelope = anyio.run(bounded)
        assert envelope["data"] == {"id": "1", "made": True}
        assert app.writes == ["POST /jobs"]
    assert [done for done, _ in told] == [1.0, 2.0, 3.0], told  # two polls running, then done
    assert told[0][1] == "start_job: accepted (poll 1, 0 s)"
    assert told[-1][1] is not None and told[-1][1].startswith("start_job: succeeded (poll 3")
    assert during == [1, 1, 1]
