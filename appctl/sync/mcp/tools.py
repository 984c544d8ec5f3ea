"""An MCP server's tool list → a ``Contract``: one action per upstream tool.

Takes the tools as the server listed them (plain JSON objects, as ``tools/list`` answers)
and returns the contract; no I/O. Each top-level property of a tool's input schema is one
argument, its schema kept exactly (``$defs`` move to the contract's definitions, under the
tool's name). An output schema is kept as a 200 application/json response, so the tool's
structured answer is described and checked like any other. Safety comes from the tool's
annotations, and an unknown server is never trusted to be read-only: ``readOnlyHint`` true
→ read_only; ``destructiveHint`` true, or absent (MCP's default) → destructive; else
mutating.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appctl.contract.models import (
    Action,
    Contract,
    Field,
    Location,
    McpServer,
    McpTransport,
    Provenance,
    Resource,
    Response,
    Safety,
    Source,
    Verb,
)
from appctl.contract.names import arg_name, dedupe, tool_name
from appctl.errors import Diagnostic

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Made:
    schema: Contract
    diagnostics: tuple[Diagnostic, ...]
    counted: int
    filtered: int


def safety_of(annotations: Mapping[str, Any]) -> Safety:
    if annotations.get("readOnlyHint") is True:
        return Safety.READ_ONLY
    if annotations.get("destructiveHint", True) is not False:
        return Safety.DESTRUCTIVE
    return Safety.MUTATING


def to_contract(
    tools: Sequence[JsonObject],
    *,
    key: str,
    server: McpServer,
    source: Source,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Made:
    """The contract of ``tools`` served by ``server`` (recorded under ``key``)."""
    actions: list[Action] = []
    definitions: dict[str, JsonObject] = {}
    diagnostics: list[Diagnostic] = []
    taken: set[str] = set()
    for tool in sorted(tools, key=lambda t: str(t.get("name", ""))):
        upstream = str(tool.get("name", ""))
        if not _selected(upstream, include, exclude):
            continue
        name = dedupe(tool_name(upstream, fallback="tool"), taken, key=upstream)
        taken.add(name)
        action, defs, problems = _action(tool, name=name, key=key)
        definitions.update(defs)
        actions.append(action)
        diagnostics.extend(Diagnostic(p, pointer=f"/tools/{upstream}") for p in problems)
    schema = Contract(
        source=source,
        mcp_servers={key: server},
        definitions=definitions,
        resources=[Resource(name="tools", actions=actions)] if actions else [],
    )
    return Made(schema, tuple(diagnostics), len(tools), len(tools) - len(actions))


def _selected(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not any(fnmatch.fnmatchcase(name, p) for p in include):
        return False
    return not any(fnmatch.fnmatchcase(name, p) for p in exclude)


def _action(tool: JsonObject, *, name: str, key: str) -> tuple[Action, JsonObject, list[str]]:
    upstream = str(tool["name"])
    annotations = tool.get("annotations") or {}
    safety = safety_of(annotations)
    declared = "readOnlyHint" in annotations or "destructiveHint" in annotations
    schema = tool.get("inputSchema") or {}
    defs, schema = _lift_defs(schema, prefix=name)
    fields, problems = _fields(schema)
    responses: list[Response] = []
    output = tool.get("outputSchema")
    if isinstance(output, dict):
        out_defs, output = _lift_defs(output, prefix=f"{name}.out")
        defs.update(out_defs)
        responses.append(Response(status="200", content={"application/json": output}))
    action = Action(
        name=name,
        summary=str(tool.get("title") or annotations.get("title") or ""),
        description=str(tool.get("description") or ""),
        verb=Verb.GET if safety == Safety.READ_ONLY else Verb.CUSTOM,
        safety=safety,
        provenance=Provenance.DECLARED if declared else Provenance.INFERRED,
        transport=McpTransport(server=key, tool=upstream),
        parameters=fields,
        operation_id=upstream,
        idempotent=annotations.get("idempotentHint") is True,
        responses=responses,
        pointer=f"/tools/{upstream.replace('~', '~0').replace('/', '~1')}",
    )
    return action, defs, problems


def _fields(schema: JsonObject) -> tuple[list[Field], list[str]]:
    """One argument per top-level property, its schema kept exactly."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields: list[Field] = []
    problems: list[str] = []
    if not isinstance(properties, dict):
        return [], ["its input schema's properties are not an object: it takes no arguments"]
    for wire, prop in properties.items():
        name = arg_name(str(wire))
        fields.append(
            Field(
                name=name,
                wire_name=None if name == wire else str(wire),
                location=Location.BODY,
                required=wire in required,
                description=str(prop.get("description") or "") if isinstance(prop, dict) else "",
                schema_=prop if isinstance(prop, dict) else {},
            )
        )
    return fields, problems


def _lift_defs(schema: JsonObject, *, prefix: str) -> tuple[JsonObject, JsonObject]:
    """``$defs``/``definitions`` of a tool's schema moved out under ``prefix.NAME``, and
    the schema with its local refs pointing there."""
    defs: JsonObject = {}
    for word in ("$defs", "definitions"):
        found = schema.get(word)
        if isinstance(found, dict):
            for def_name, value in found.items():
                defs[f"{prefix}.{def_name}"] = value
    if not defs:
        return {}, schema
    rest = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
    lifted = {k: _repointed(v, prefix) for k, v in defs.items()}
    return lifted, _repointed(rest, prefix)


def _repointed(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        out = {k: _repointed(v, prefix) for k, v in value.items()}
        ref = out.get("$ref")
        if isinstance(ref, str):
            for word in ("#/$defs/", "#/definitions/"):
                if ref.startswith(word):
                    out["$ref"] = f"#/definitions/{prefix}.{ref[len(word) :]}"
        return out
    if isinstance(value, list):
        return [_repointed(v, prefix) for v in value]
    return value
