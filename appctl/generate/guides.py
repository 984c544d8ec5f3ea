"""Contract → compact markdown tool guide, rendered from ``templates/guide.md.j2``.

The view model is computed here (pure); the template only lays it out. One Jinja2
environment (StrictUndefined, trim_blocks) is built once and reused. Large APIs switch to a
compact layout (tool names with required arguments, grouped by safety) so the guide still
fits in a system prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appctl.contract.models import (
    Action,
    Contract,
    HttpTransport,
    Location,
    Provenance,
    Safety,
    Verb,
)
from appctl.generate.shaping import offers_fields
from appctl.generate.text import condense
from appctl.generate.toolspec import returns_of, select_actions

if TYPE_CHECKING:
    import jinja2

COMPACT_OVER = 150
LABELS = {Safety.READ_ONLY: "read", Safety.MUTATING: "write", Safety.DESTRUCTIVE: "DESTRUCTIVE"}
MAX_CONSUMERS = 6
MAX_NAMED = 12  # long-running tools named in the guide (a large API has hundreds)


def templates_dir() -> Path:
    """Templates ship inside the wheel as ``appctl/templates``; a checkout keeps them at the top."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("appctl templates folder not found")


@cache
def environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


@dataclass
class _ResourceView:
    name: str
    description: str
    keys: list[str]
    columns: str = ""  # SQL resources: the columns, compactly
    relations: list[str] = field(default_factory=list)  # SQL: "t.col → other.col"
    actions: list[dict[str, str]] = field(default_factory=list)
    groups: list[tuple[str, list[str]]] = field(default_factory=list)


def label(action: Action) -> str:
    """The safety label; ``(inferred)`` when appctl guessed it from the path or operationId."""
    mark = " (inferred)" if action.provenance == Provenance.INFERRED else ""
    return LABELS[action.safety] + mark


def returned(action: Action, definitions: dict[str, Any]) -> str:
    """`` → {id, name, …}`` (an object) or `` → [{id, name, …}]`` (a list): the main fields
    a success returns, when the source documents them; else nothing."""
    found = returns_of(action, definitions)
    if found is None:
        return ""
    kind, names = found
    fields = "{" + ", ".join(names) + "}"
    return f" → [{fields}]" if kind == "list" else f" → {fields}"


def call_signature(action: Action) -> str:
    required = [f.name for f in action.parameters if f.required and not f.hidden]
    mark = " (deprecated)" if action.deprecated else ""
    return f"{action.name}({', '.join(required)}){mark}"


def _keys(actions: list[Action]) -> list[str]:
    """Identifying fields: the last path parameter of the resource's get actions."""
    keys: list[str] = []
    for action in actions:
        if action.verb == Verb.GET and isinstance(action.transport, HttpTransport):
            last = action.transport.path.rstrip("/").rsplit("/", 1)[-1]
            if last.startswith("{") and last.endswith("}"):
                param = next((f.name for f in action.parameters if f.wire == last[1:-1]), None)
                if param and param not in keys:
                    keys.append(param)
    return keys[:4]


def chains(actions: list[Action]) -> list[dict[str, Any]]:
    """Which list tools produce an id, and which tools take it as a path argument."""
    lists = {
        a.transport.path.rstrip("/"): a.name
        for a in actions
        if a.verb == Verb.LIST and isinstance(a.transport, HttpTransport)
    }
    producers: dict[str, list[str]] = {}
    consumers: dict[str, list[str]] = {}
    for action in actions:
        if not isinstance(action.transport, HttpTransport):
            continue
        path = action.transport.path
        for f in action.parameters:
            if f.location != Location.PATH:
                continue
            consumers.setdefault(f.name, []).append(action.name)
            prefix = path.split("{" + f.wire + "}", 1)[0].rstrip("/")
            producer = lists.get(prefix)
            if producer and producer not in producers.setdefault(f.name, []):
                producers[f.name].append(producer)
    out = []
    for name in sorted(producers):
        if not producers[name]:
            continue
        users = sorted(set(consumers[name]))
        out.append(
            {
                "field": name,
                "producers": producers[name][:3],
                "consumers": users[:MAX_CONSUMERS],
                "more": max(0, len(users) - MAX_CONSUMERS),
            }
        )
    return out


def view(
    schema: Contract,
    *,
    read_only: bool = False,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> dict[str, Any]:
    chosen = select_actions(schema, read_only=read_only, include=include, exclude=exclude)
    compact = len(chosen) > COMPACT_OVER
    # several sources (contract/sources.py): a resource is its source's, and named so
    by_resource: dict[tuple[str, str], list[Action]] = {}
    for resource, action in chosen:
        by_resource.setdefault((action.source_name, resource), []).append(action)
    parts = schema.parts or {"": schema}
    found = {(s, r.name): r for s, part in parts.items() for r in part.resources}
    resources = []
    relations: list[str] = []
    for (source, name), actions in by_resource.items():
        table = found[source, name].table if (source, name) in found else None
        rv = _ResourceView(
            name=f"{source}.{name}" if source else name,
            description=condense(found[source, name].description, 100)
            if (source, name) in found
            else "",
            keys=list(table.primary_key) if table else _keys(actions),
        )
        if table is not None:
            rv.columns = ", ".join(
                f"{c.name} {c.kind}{'' if c.nullable else '!'}" for c in table.columns
            )
            rv.relations = [
                f"{name}.{','.join(r.columns)} → {r.target}.{','.join(r.target_columns)}"
                for r in table.relations
            ]
            relations += rv.relations
        groups: dict[str, list[str]] = {}
        for a in sorted(actions, key=lambda a: (list(LABELS).index(a.safety), label(a))):
            groups.setdefault(label(a), []).append(call_signature(a))
        rv.groups = list(groups.items())
        rv.actions = [
            {
                "call": call_signature(a),
                "label": label(a),
                "summary": condense(a.summary or a.description, 90),
                "returns": returned(a, schema.definitions),
            }
            for a in actions
        ]
        resources.append(rv)
    lasting = [a.name for _, a in chosen if a.long_running is not None]
    return {
        "title": schema.source.title or ("Database" if schema.database else "API"),
        "relations": relations,
        "base_url": schema.base_url or "",
        "actions_count": len(chosen),
        "resources": resources,
        "compact": compact,
        "chains": [
            c for src in parts for c in chains([a for _, a in chosen if a.source_name == src])
        ],
        "inferred": any(a.provenance == Provenance.INFERRED for _, a in chosen),
        # tools whose work may end after the call (contract/longrunning.py): appctl_poll
        "long_running": lasting[:MAX_NAMED],
        "long_running_more": max(0, len(lasting) - MAX_NAMED),
        "fields": any(offers_fields(a) for _, a in chosen),
    }


def render_guide(
    schema: Contract,
    *,
    read_only: bool = False,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> str:
    context = view(schema, read_only=read_only, include=include, exclude=exclude)
    text = environment().get_template("guide.md.j2").render(**context)
    return text.rstrip("\n") + "\n"
