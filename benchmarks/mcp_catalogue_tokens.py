"""What an MCP client reads from ``tools/list`` for GitHub: every tool, or the catalogue.

    .venv/bin/python benchmarks/mcp_catalogue_tokens.py

Input: GitHub's OpenAPI document from the npm package ``@octokit/openapi``
(``.cache/npm/node_modules/@octokit/openapi/generated/api.github.com.json``, installed by
``scripts/setup``), synced whole into a temp app dir.

``appctl mcp``'s server is driven in process by the official SDK client twice: with
``--no-catalogue`` (every page of ``tools/list`` walked to the end) and in the catalogue mode
it chooses by itself for GitHub (three meta-tools). For each, the tools as the client got
them (``model_dump(by_alias=True, exclude_none=True)``, the wire JSON) are written to a file
and counted with o200k_base by ``benchmarks/count_tokens.mjs``. Prints bytes, tokens and the
ratios.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from appctl.serve.mcp import ToolServer, build_server
from appctl.session.approval import PolicyOnly
from appctl.session.core import Session

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / ".cache/npm/node_modules/@octokit/openapi/generated/api.github.com.json"
MAX_PAGES = 1000


async def listed(tools: ToolServer) -> list[dict[str, Any]]:
    """Every tool of tools/list, page after page (bounded)."""
    out: list[dict[str, Any]] = []
    async with Client(build_server(tools)) as client:
        cursor = None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            out += [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page.tools]
            cursor = page.next_cursor
            if cursor is None:
                break
    return out


def tokens(path: Path) -> int:
    script = ROOT / "benchmarks" / "count_tokens.mjs"
    done = subprocess.run(
        ["node", str(script), str(path)], capture_output=True, text=True, check=True, timeout=300
    )
    return int(done.stdout.split()[0])


def main() -> int:
    if not SPEC.exists():
        print(f"missing {SPEC}: run scripts/setup", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "appctl", "sync", "--openapi", str(SPEC)],
            cwd=root,
            check=True,
            capture_output=True,
            timeout=600,
        )
        session = Session.open(root / ".appctl", approver=PolicyOnly("benchmark"), environ={})
        rows = []
        for label, catalogue in (("every tool", False), ("catalogue", None)):
            tools = ToolServer(session, catalogue=catalogue)
            got = anyio.run(listed, tools)
            path = root / f"{label.replace(' ', '_')}.json"
            text = json.dumps({"tools": got}, separators=(",", ":"), ensure_ascii=False)
            path.write_text(text, encoding="utf-8")
            rows.append((label, len(got), len(text.encode()), tokens(path)))
    for label, count, size, counted in rows:
        print(f"{label:>10}: {count:5} tools  {size:>10,} bytes  {counted:>9,} tokens")
    (_, _, full_bytes, full_tokens), (_, _, cat_bytes, cat_tokens) = rows
    print(
        f"catalogue / every tool: bytes {cat_bytes / full_bytes:.5f}, "
        f"tokens {cat_tokens / full_tokens:.5f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
