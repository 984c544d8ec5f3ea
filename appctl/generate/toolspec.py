"""Contract actions → neutral tool specs, the one input every format adapter takes.

An input schema is self-contained: the definitions it reaches are copied into ``$defs``
(refs rewritten to ``#/$defs/<Name>``), breadth first, within a node budget; a reference past
the budget becomes a described stub, so no tool ever carries a dangling ``$ref``.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from appctl.contract.models import Action, Field, Safety, Schema
from appctl.generate.text import brief, condense, humanize, plain, sentences, tool_description

JsonSchema = dict[str, Any]
CONTRACT_PREFIX = "#/definitions/"
TOOL_PREFIX = "#/$defs/"
DESCRIPTION_LIMIT = 200
PARAM_SOFT_LIMIT = 60  # whole sentences up to here
PARAM_HARD_LIMIT = 150  # a single longer sentence is cut here
DEFS_NODE_BUDGET = 4000
BOILERPLATE_MIN = 20  # a later sentence repeated in this many descriptions is boilerplate


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    title: str
    description: str
    input_schema: JsonSchema
    resource: str
    verb: str
    safety: Safety
    idempotent: bool
    deprecated: bool


def select_actions(
    schema: Schema,
    *,
    read_only: bool = False,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> list[tuple[str, Action]]:
    """(resource name, action) pairs after the read-only and name/resource/glob filters."""
    include, exclude = tuple(include), tuple(exclude)
    out = []
    for resource in sorted(schema.resources, key=lambda r: r.name):
        for action in sorted(resource.actions, key=lambda a: a.name):
            keys = (action.name, resource.name, *action.tags)
            if read_only and action.safety != Safety.READ_ONLY:
                continue
            if include and not any(fnmatch.fnmatchcase(k, p) for p in include for k in keys):
                continue
            if any(fnmatch.fnmatchcase(k, p) for p in exclude for k in keys):
                continue
            out.append((resource.name, action))
    return out


@dataclass(frozen=True, slots=True)
class Prose:
    """Shortens argument descriptions; ``boilerplate`` holds sentences the API repeats a lot."""

    boilerplate: frozenset[str] = frozenset()

    @classmethod
    def learn(cls, actions: Iterable[Action]) -> Prose:
        """Sentences that follow the first one in many argument descriptions are boilerplate."""
        counts: Counter[str] = Counter()
        for action in actions:
            for f in action.parameters:
                counts.update(set(sentences(plain(f.description))[1:]))
        return cls(frozenset(s for s, n in counts.items() if n >= BOILERPLATE_MIN))

    def short(self, text: str) -> str:
        said = sentences(plain(text))
        kept = [s for i, s in enumerate(said) if i == 0 or s not in self.boilerplate]
        return brief(" ".join(kept), soft=PARAM_SOFT_LIMIT, hard=PARAM_HARD_LIMIT)

    def schema(self, node: Any) -> Any:
        """A copy of a schema with every description shortened."""
        if isinstance(node, dict):
            return {
                k: self.short(v)
                if k == "description" and isinstance(v, str)
                else (
                    {p: self.schema(s) for p, s in v.items()}
                    if k in ("properties", "$defs") and isinstance(v, dict)
                    else self.schema(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [self.schema(v) for v in node]
        return node


def build_tool_specs(
    schema: Schema,
    *,
    read_only: bool = False,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> list[ToolSpec]:
    prose = Prose.learn(schema.actions())
    return [
        tool_spec(action, resource=resource, definitions=schema.definitions, prose=prose)
        for resource, action in select_actions(
            schema, read_only=read_only, include=include, exclude=exclude
        )
    ]


def tool_spec(
    action: Action, *, resource: str, definitions: dict[str, JsonSchema], prose: Prose | None = None
) -> ToolSpec:
    description = tool_description(action.summary, action.description, limit=DESCRIPTION_LIMIT)
    if not description:
        description = humanize(action.name) + "."
    if action.deprecated:
        description = f"Deprecated. {description}"
    return ToolSpec(
        name=action.name,
        title=condense(action.summary, 120) or humanize(action.name),
        description=description,
        input_schema=input_schema(action.parameters, definitions, prose or Prose()),
        resource=resource,
        verb=action.verb.value,
        safety=action.safety,
        idempotent=action.idempotent,
        deprecated=action.deprecated,
    )


def property_schema(field: Field, prose: Prose) -> JsonSchema:
    text = prose.short(field.description) if field.description else ""
    if not text:
        text = f"{humanize(field.wire)} ({field.location.value})."
    rest = {k: v for k, v in field.schema_.items() if k != "description"}
    return {"description": text, **prose.schema(rest)}


def input_schema(
    fields: Iterable[Field], definitions: dict[str, JsonSchema], prose: Prose
) -> JsonSchema:
    visible = [f for f in fields if not f.hidden]
    properties = {f.name: property_schema(f, prose) for f in visible}
    out: JsonSchema = {"type": "object", "properties": properties}
    required = [f.name for f in visible if f.required]
    if required:
        out["required"] = required
    included = closure(properties, definitions)
    out = rewrite_refs(out, included, definitions)
    if included:
        out["$defs"] = {
            n: prose.schema(rewrite_refs(definitions[n], included, definitions)) for n in included
        }
    return out


def refs_in(node: Any) -> list[str]:
    """Definition names referenced anywhere in ``node``, in first-seen order."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(CONTRACT_PREFIX):
                found.append(ref[len(CONTRACT_PREFIX) :])
            stack.extend(reversed([v for v in item.values() if isinstance(v, dict | list)]))
        elif isinstance(item, list):
            stack.extend(reversed([v for v in item if isinstance(v, dict | list)]))
    return list(dict.fromkeys(found))


def size_of(node: Any) -> int:
    count, stack = 0, [node]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def closure(root: Any, definitions: dict[str, JsonSchema]) -> list[str]:
    """Definitions reachable from ``root``, breadth first, while they fit the node budget."""
    included: list[str] = []
    seen: set[str] = set()
    frontier = refs_in(root)
    spent = 0
    while frontier:
        following: list[str] = []
        for name in frontier:
            if name in seen or name not in definitions:
                continue
            seen.add(name)
            cost = size_of(definitions[name])
            if spent + cost > DEFS_NODE_BUDGET:
                continue
            spent += cost
            included.append(name)
            following.extend(refs_in(definitions[name]))
        frontier = following
    return sorted(included)


def _stub(name: str, definitions: dict[str, JsonSchema]) -> JsonSchema:
    target = definitions.get(name, {})
    stub: JsonSchema = {}
    if isinstance(target.get("type"), str | list):
        stub["type"] = target["type"]
    stub["description"] = f"A {name} value (its full schema is too large to include here)."
    return stub


def rewrite_refs(node: Any, included: list[str], definitions: dict[str, JsonSchema]) -> Any:
    """Copy ``node`` with contract refs pointed at ``$defs`` (or stubbed when not included)."""
    keep = set(included)
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(CONTRACT_PREFIX):
            name = ref[len(CONTRACT_PREFIX) :]
            if name not in keep:
                extra = {k: v for k, v in node.items() if k not in ("$ref", "description")}
                return {**_stub(name, definitions), **extra}
            return {**node, "$ref": TOOL_PREFIX + name}
        return {k: rewrite_refs(v, included, definitions) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite_refs(v, included, definitions) for v in node]
    return node
