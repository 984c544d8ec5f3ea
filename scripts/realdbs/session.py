"""One database's proof through ``appctl mcp`` driven by the official MCP SDK client.

Every table of the contract is listed to the end twice (by cursor at ``limit`` 500, by
offset at ``limit`` 137), the union of each walk compared in order with ``SELECT * …
ORDER BY key`` read directly, and up to ``--gets`` rows per table read with ``get_<t>``
and compared column by column (``compare.py`` says how). Every result is checked by the
SDK's own ``validate_tool_result`` against the tool's outputSchema; a violation is
counted and the data still compared. Loops are bounded by pages and by a deadline.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import compare
import direct
import filters
import mcp_types as types
from mcp import Client, StdioServerParameters

from appctl.contract.names import column_args

CURSOR_LIMIT, OFFSET_LIMIT = 500, 137
MAX_PAGES = 2_000  # per walk
MAX_SHOWN = 40  # mismatches kept per database for the report


@dataclass
class Report:
    name: str
    tables: int = 0
    rows: int = 0  # rows read directly (the reference)
    listed_cursor: int = 0
    listed_offset: int = 0
    gets: int = 0
    filters: int = 0  # eq/like filters built from a value a read returned
    listed_sorted: int = 0  # by cursor, ordered by a boolean or nullable column
    cut_listed: int = 0  # list pages holding one row with values cut to the budget
    cut_gets: int = 0  # gets with values cut to the budget, then read whole with --full
    calls: int = 0
    mismatches: list[str] = field(default_factory=list)
    mismatch_count: int = 0
    by_column: dict[str, int] = field(default_factory=dict)  # table.column → mismatches
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def mismatch(self, text: str, *, group: str = "rows, filters") -> None:
        self.mismatch_count += 1
        self.by_column[group] = self.by_column.get(group, 0) + 1
        if len(self.mismatches) < MAX_SHOWN:
            self.mismatches.append(text)

    @property
    def failed(self) -> bool:
        return bool(self.mismatch_count or self.violations or self.errors)


class Tools:
    """Calls through the SDK session, each result validated by the SDK against its schema."""

    def __init__(
        self, client: Client, report: Report, *, cli: list[str], project: Path, env: dict[str, str]
    ) -> None:
        self.client, self.report = client, report
        self.cli, self.project, self.env = cli, project, env

    def full(self, name: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
        """The row through ``appctl call --full --json`` (no budget), as a note says to."""
        done = subprocess.run(
            [
                *self.cli,
                "call",
                "--full",
                "--json",
                "--read-only",
                name,
                "--args",
                json.dumps(arguments),
            ],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        try:
            envelope = json.loads(done.stdout)
        except ValueError:
            envelope = None
        if (
            done.returncode != 0
            or not isinstance(envelope, dict)
            or not isinstance(envelope.get("data"), dict)
        ):
            self.report.errors.append(
                f"appctl call --full {name} {arguments}: {done.stdout[-300:]}{done.stderr[-300:]}"
            )
            return None
        row: dict[str, Any] = envelope["data"]
        return row

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
        session = self.client.session
        request = types.CallToolRequest(
            params=types.CallToolRequestParams(name=name, arguments=arguments)
        )
        # What Client.call_tool does, split so a schema violation is counted and the data
        # is still compared: the same request, then the SDK's own validation.
        result = await session.send_request(request, session._call_tool_adapter)
        self.report.calls += 1
        assert isinstance(result, types.CallToolResult)
        envelope = result.structured_content
        if result.is_error or not isinstance(envelope, dict):
            self.report.errors.append(f"{name} {arguments}: {str(envelope)[:400]}")
            return None
        try:
            await session.validate_tool_result(name, result)
        except RuntimeError as error:
            self.report.violations.append(f"{name}: {str(error)[:400]}")
        return envelope


async def prove_database(
    *,
    report: Report,
    project: Path,
    env: dict[str, str],
    appctl: str,
    dialect: str,
    direct_url: str,
    contract: dict[str, Any],
    gets: int,
    deadline: float,
) -> None:
    params = StdioServerParameters(
        command=appctl, args=["mcp", "--read-only"], cwd=project, env=env
    )
    async with Client(params) as client:
        listed = {t.name: t.input_schema for t in (await client.list_tools()).tools}
        tools = Tools(client, report, cli=[appctl], project=project, env=env)
        with direct.connect(dialect, direct_url) as conn:
            for resource in contract["resources"]:
                table = resource.get("table")
                if not table:
                    continue
                report.tables += 1
                if time.monotonic() > deadline:
                    report.errors.append(f"{table['name']}: not checked, deadline passed")
                    continue
                await _prove_table(tools, conn, dialect, resource, listed, gets, deadline)


async def _prove_table(
    tools: Tools,
    conn: Any,
    dialect: str,
    resource: dict[str, Any],
    listed: dict[str, Any],
    gets: int,
    deadline: float,
) -> None:
    report, table = tools.report, resource["table"]
    verbs = {a["verb"]: a for a in resource["actions"]}
    # Rows and arguments are keyed by argument names: the column's name unless it is
    # one of the list options (``limit`` → ``limit_<hash>``), by appctl's documented rule.
    arg = column_args(SimpleNamespace(columns=[SimpleNamespace(**c) for c in table["columns"]]))
    columns = {arg[c["name"]]: c for c in table["columns"]}
    primary = list(table.get("primary_key") or [])
    key = [arg[k] for k in primary]
    names, fetched = direct.rows(
        conn,
        dialect,
        table=table["name"],
        schema=table.get("schema"),
        key=primary or [c["name"] for c in table["columns"]],
        limit=MAX_PAGES * OFFSET_LIMIT,
    )
    reference = [{arg[n]: v for n, v in zip(names, r, strict=True)} for r in fetched]
    report.rows += len(reference)
    name = table["name"]
    if "list" not in verbs or verbs["list"]["name"] not in listed:
        report.errors.append(f"{name}: no list tool offered")
        return
    await _walks(tools, verbs["list"]["name"], listed, name, reference, columns, key, deadline)
    if "get" in verbs and key:
        await _compare_gets(tools, verbs["get"]["name"], name, reference, columns, key, gets)


async def _walks(
    tools: Tools,
    tool: str,
    listed: dict[str, Any],
    name: str,
    reference: list[dict[str, Any]],
    columns: dict[str, Any],
    key: list[str],
    deadline: float,
) -> None:
    """The table walked by cursor, by offset, by cursor in another order, and filtered."""
    report = tools.report
    offered = listed[tool].get("properties", {})
    walked: list[tuple[dict[str, Any], list[str]]] = []
    for mode, limit in (("cursor", CURSOR_LIMIT), ("offset", OFFSET_LIMIT)):
        if mode not in offered:  # no cursor without a key: said in the tool's schema
            continue
        pages = await _walk(tools, tool, mode, limit, deadline)
        if pages is None:
            continue
        setattr(report, f"listed_{mode}", getattr(report, f"listed_{mode}") + len(pages))
        _compare_walk(report, name, mode, pages, reference, columns, key)
        walked = walked or pages
    if key and walked:
        schema = listed[tool]
        await filters.probe(tools, tool, schema, walked, key, deadline)
    sort = _sort_column(offered, columns, key)
    if sort and "cursor" in offered and key:
        order = {"order_by": [f"-{sort}"]}
        pages = await _walk(tools, tool, "cursor", OFFSET_LIMIT, deadline, order)
        if pages is not None:
            report.listed_sorted += len(pages)
            _compare_keys(
                report, f"{name} by cursor, order_by -{sort}", pages, reference, columns, key
            )


def _sort_column(offered: dict[str, Any], columns: dict[str, Any], key: list[str]) -> str | None:
    """A column to sort by that is not the key: a boolean first (ties, and a type cursors
    once failed on), else a nullable one (NULLs in the sort), else none."""
    choices = (offered.get("order_by") or {}).get("items", {}).get("enum", [])
    candidates = [c for c in choices if not c.startswith("-") and c not in key and c in columns]
    for wanted in (lambda c: columns[c]["kind"] == "boolean", lambda c: columns[c]["nullable"]):
        found = [c for c in candidates if wanted(c)]
        if found:
            return found[0]
    return None


def _compare_keys(
    report: Report,
    where: str,
    pages: list[tuple[dict[str, Any], list[str]]],
    reference: list[dict[str, Any]],
    columns: dict[str, Any],
    key: list[str],
) -> None:
    """In another order, every row exactly once: the keys listed equal the table's keys."""
    want = sorted(
        json.dumps([compare.argument(r[k], columns[k]) for k in key], default=str)
        for r in reference
    )
    got = sorted(json.dumps([row.get(k) for k in key], default=str) for row, _ in pages)
    if got != want:
        missing, extra = len(set(want) - set(got)), len(got) - len(set(got))
        report.mismatch(
            f"{where}: {len(got)} rows listed, {len(want)} in the table; "
            f"{missing} missing, {extra} repeated"
        )


async def _walk(
    tools: Tools,
    tool: str,
    mode: str,
    limit: int,
    deadline: float,
    order: dict[str, Any] | None = None,
) -> list[tuple[dict[str, Any], list[str]]] | None:
    """Every row of the table, page after page; each row with the columns cut on its page."""
    out: list[tuple[dict[str, Any], list[str]]] = []
    arguments: dict[str, Any] = {"limit": limit, **(order or {})}
    for _ in range(MAX_PAGES):
        if time.monotonic() > deadline:
            tools.report.errors.append(f"{tool} by {mode}: deadline passed after {len(out)} rows")
            return None
        envelope = await tools.call(tool, arguments)
        if envelope is None:
            return None
        data = envelope.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            tools.report.errors.append(f"{tool} by {mode}: page is not rows: {str(data)[:200]}")
            return None
        cut = [m.get("column") for m in data.get("cut") or [] if isinstance(m, dict)]
        tools.report.cut_listed += 1 if cut else 0
        out += [(row, cut) for row in data["rows"]]
        if not data.get("has_more"):
            return out
        if mode == "cursor":
            arguments = {"limit": limit, **(order or {}), "cursor": data.get("next_cursor")}
        else:
            arguments = {"limit": limit, **(order or {}), "offset": data.get("next_offset")}
    tools.report.errors.append(f"{tool} by {mode}: more than {MAX_PAGES} pages")
    return None


def _compare_walk(
    report: Report,
    table: str,
    mode: str,
    pages: list[tuple[dict[str, Any], list[str]]],
    reference: list[dict[str, Any]],
    columns: dict[str, Any],
    key: list[str],
) -> None:
    if len(pages) != len(reference):
        report.mismatch(
            f"{table} by {mode}: {len(pages)} rows listed, {len(reference)} in the table"
        )
    for i, ((row, cut), want) in enumerate(zip(pages, reference, strict=False)):
        if set(row) != set(want):
            report.mismatch(f"{table} by {mode} row {i}: columns {sorted(row)} != {sorted(want)}")
            continue
        _compare_row(
            report, f"{table} by {mode} row {i}", row, want, columns, set(cut), table=table
        )
        if key and not all(compare.same(row[k], want[k], columns[k]) for k in key):
            return  # out of step: the first divergence is reported, not every row after it


def _compare_row(
    report: Report,
    where: str,
    row: dict[str, Any],
    want: dict[str, Any],
    columns: dict[str, Any],
    cut: set[str],
    *,
    table: str,
) -> None:
    for name, value in want.items():
        got = row.get(name)
        if name in cut:
            if not compare.prefix_of(got, value, columns[name]):
                report.mismatch(
                    f"{where}: {name}: cut value {_show(got)} is not a prefix of {_show(value)}",
                    group=f"{table}.{name}",
                )
        elif not compare.same(got, value, columns[name]):
            report.mismatch(
                f"{where}: {name}: got {_show(got)}, direct {_show(value)}", group=f"{table}.{name}"
            )


async def _compare_gets(
    tools: Tools,
    tool: str,
    table: str,
    reference: list[dict[str, Any]],
    columns: dict[str, Any],
    key: list[str],
    gets: int,
) -> None:
    step = max(1, len(reference) // max(1, gets))
    for want in reference[::step][:gets]:
        arguments = {k: compare.argument(want[k], columns[k]) for k in key}
        envelope = await tools.call(tool, arguments)
        if envelope is None:
            continue
        tools.report.gets += 1
        row = envelope.get("data")
        if not isinstance(row, dict):
            tools.report.mismatch(f"get {table} {arguments}: not a row: {_show(row)}")
            continue
        cut = set(compare.cut_columns(envelope))
        _compare_row(tools.report, f"get {table} {arguments}", row, want, columns, cut, table=table)
        if cut:  # read whole as the note says: appctl call --full, then compared in full
            tools.report.cut_gets += 1
            whole = tools.full(tool, arguments)
            if whole is not None:
                _compare_row(
                    tools.report, f"get --full {table}", whole, want, columns, set(), table=table
                )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
