"""Contract actions → neutral tool specs, the one input every format adapter takes.

An input schema is self-contained: the definitions it reaches are copied into ``$defs``
(refs rewritten to ``#/$defs/<Name>``), breadth first, within a node budget; a reference past
the budget becomes a described stub, so no tool ever carries a dangling ``$ref``.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

import orjson

from appctl.contract.kinds import Safety
from appctl.contract.polltool import POLL_RESOURCE, POLL_TOOL
from appctl.generate.cursor import with_cursor
from appctl.generate.text import (
    brief,
    cap,
    condense,
    full_description,
    humanize,
    plain,
    sentences,
    terse,
    tool_description,
)

if TYPE_CHECKING:
    from appctl.contract.models import Action, Contract

JsonSchema = dict[str, Any]
CONTRACT_PREFIX = "#/definitions/"
TOOL_PREFIX = "#/$defs/"
DESCRIPTION_LIMIT = 120  # --descriptions short: whole sentences of the first paragraph
PARAM_SOFT_LIMIT = 60  # whole sentences up to here
PARAM_HARD_LIMIT = 150  # a single longer sentence is cut here
NESTED_LIMIT = 100  # nested property descriptions: the first sentence, cut here
DEFS_NODE_BUDGET = 1500  # about 5k tokens of definitions per tool at most
# Array bounds above this are said in the description instead: constrained decoders expand
# ``maxItems: N`` into N nested grammar rules (llama-cpp-python's grammar builder crashed on a
# 500-item bound). The executor still checks the contract's own bound.
ARRAY_BOUND_LIMIT = 100
# Keywords whose values are data, not schemas: never rewritten.
VALUE_KEYWORDS = frozenset(("enum", "const", "default", "examples", "example", "required"))
# Kept in the contract, left out of tool schemas: the description says what a model needs.
DROPPED_KEYWORDS = frozenset(("examples", "title", "x-appctl-unresolved-ref"))
SCHEMA_MAPS = frozenset(("properties", "$defs", "patternProperties", "dependentSchemas"))
BOILERPLATE_MIN = 20  # a later sentence repeated in this many descriptions is boilerplate
# A tool's description: "full" (summary and whole description, condensed; the default) or
# "short" (the summary and what the first paragraph adds, up to DESCRIPTION_LIMIT).
Descriptions = Literal["full", "short"]
DESCRIPTION_MODES: tuple[Descriptions, ...] = ("full", "short")


class FieldLike(Protocol):
    """What a tool reads of an argument: a contract ``Field``, or the database sync's
    lighter record of one (``sync.db.build.ArgField``)."""

    @property
    def name(self) -> str: ...
    @property
    def wire(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def description(self) -> str: ...
    @property
    def schema_(self) -> JsonSchema: ...
    @property
    def hidden(self) -> bool: ...


class ActionLike(Protocol):
    """What a tool reads of an action (besides its verb and safety)."""

    @property
    def name(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def deprecated(self) -> bool: ...
    @property
    def idempotent(self) -> bool: ...
    @property
    def parameters(self) -> Sequence[FieldLike]: ...


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
    # what a success answers, briefly: ("object" | "list", a few top-level property names
    # of the object or of the list's items), from the documented response (None: unknown)
    returns: tuple[str, tuple[str, ...]] | None = None


def select_actions(
    schema: Contract,
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
    def learn(cls, actions: Iterable[ActionLike]) -> Prose:
        """Sentences that follow the first one in many argument descriptions are boilerplate."""
        descriptions = Counter(f.description for action in actions for f in action.parameters)
        counts: Counter[str] = Counter()
        for description, times in descriptions.items():
            for sentence in set(sentences(plain(description))[1:]):
                counts[sentence] += times
        return cls(frozenset(s for s, n in counts.items() if n >= BOILERPLATE_MIN))

    def short(self, text: str, *, nested: bool = False) -> str:
        """Top-level argument descriptions keep short sentences up to PARAM_SOFT_LIMIT; nested
        ones (inside bodies and definitions) their first sentence, up to NESTED_LIMIT."""
        return _short(text, self.boilerplate, nested)


@lru_cache(maxsize=65536)
def _short(text: str, boilerplate: frozenset[str], nested: bool) -> str:
    said = sentences(plain(text))
    kept = [s for i, s in enumerate(said) if i == 0 or s not in boilerplate]
    if nested:
        return terse(cap(kept[0], NESTED_LIMIT)) if kept else ""
    return terse(brief(" ".join(kept), soft=PARAM_SOFT_LIMIT, hard=PARAM_HARD_LIMIT))


class Catalogue:
    """The contract's definitions, with per-definition work memoized across all tools."""

    def __init__(
        self,
        definitions: dict[str, JsonSchema],
        prose: Prose,
        *,
        descriptions: Descriptions = "full",
    ) -> None:
        self.definitions = definitions
        self.prose = prose
        self.descriptions = descriptions
        self._sizes: dict[str, int] = {}
        self._refs: dict[str, list[str]] = {}
        self._rendered: dict[str, JsonSchema] = {}
        self._rendered_refs: dict[str, set[str]] = {}
        # id of an argument schema → (that schema, kept alive so the id stays its own; key)
        self._keys: dict[int, tuple[JsonSchema, bytes | None]] = {}
        # argument schema (by content) → the contract refs in it, as often as used
        self._field_refs: dict[bytes, list[str]] = {}
        # (argument schema by content, which of its refs are kept) → (prepared, its tool refs)
        self._prepared: dict[tuple[bytes, tuple[bool, ...]], tuple[JsonSchema, list[str]]] = {}

    def size(self, name: str) -> int:
        if name not in self._sizes:
            self._sizes[name] = size_of(self.definitions[name])
        return self._sizes[name]

    def refs(self, name: str) -> list[str]:
        if name not in self._refs:
            self._refs[name] = refs_in(self.definitions[name])
        return self._refs[name]

    def closure(self, root: Any) -> tuple[list[str], bool]:
        """Definitions reachable from ``root``, breadth first, while they fit the node budget;
        and whether all of them fit."""
        return self.reach(refs_in(root))

    def reach(self, frontier: list[str]) -> tuple[list[str], bool]:
        """``closure`` from the names ``root`` refers to (each once, in first-seen order)."""
        included: list[str] = []
        seen: set[str] = set()
        spent, complete = 0, True
        while frontier:
            following: list[str] = []
            for name in frontier:
                if name in seen or name not in self.definitions:
                    continue
                seen.add(name)
                cost = self.size(name)
                if spent + cost > DEFS_NODE_BUDGET:
                    complete = False
                    continue
                spent += cost
                included.append(name)
                following.extend(self.refs(name))
            frontier = following
        return sorted(included), complete

    def render(self, name: str, keep: frozenset[str], complete: bool) -> JsonSchema:
        """One definition for a tool's ``$defs``; shared between tools when nothing was cut."""
        if complete and name in self._rendered:
            return self._rendered[name]
        rendered: JsonSchema = self.prepare(self.definitions[name], keep)
        if complete:
            self._rendered[name] = rendered
        return rendered

    def rendered_refs(self, name: str, rendered: JsonSchema, complete: bool) -> set[str]:
        """The ``$defs`` names a rendered definition refers to (memoized with it)."""
        if not complete:
            return set(ref_uses(rendered, TOOL_PREFIX))
        if name not in self._rendered_refs:
            self._rendered_refs[name] = set(ref_uses(rendered, TOOL_PREFIX))
        return self._rendered_refs[name]

    def key(self, schema: JsonSchema) -> bytes | None:
        """``_content_key`` of an argument schema, once per schema object (arguments often
        share one: a contract built from a database shares its column fields)."""
        found = self._keys.get(id(schema))
        if found is not None and found[0] is schema:
            return found[1]
        key = _content_key(schema)
        self._keys[id(schema)] = (schema, key)
        return key

    def field_refs(self, schema: JsonSchema, key: bytes | None) -> list[str]:
        """The contract refs in an argument's schema, in order, as often as used."""
        if key is None:
            return ref_uses(schema, CONTRACT_PREFIX)
        found = self._field_refs.get(key)
        if found is None:
            found = self._field_refs[key] = ref_uses(schema, CONTRACT_PREFIX)
        return found

    def prepared(
        self, schema: JsonSchema, key: bytes | None, refs: list[str], keep: frozenset[str]
    ) -> tuple[JsonSchema, list[str]]:
        """An argument's schema for a tool (without its description), and the ``$defs``
        references in it. Many arguments share a schema (the same column type, say): the
        work is done once per distinct content and set of kept references, and the result
        shared (tool schemas are never changed in place, like shared rendered definitions)."""
        memo = None if key is None else (key, tuple(r in keep for r in refs))
        if memo is not None and memo in self._prepared:
            return self._prepared[memo]
        rest = {k: v for k, v in schema.items() if k != "description"}
        prepared: JsonSchema = self.prepare(rest, keep)
        found = (prepared, ref_uses(prepared, TOOL_PREFIX))
        if memo is not None:
            self._prepared[memo] = found
        return found

    def prepare(self, node: Any, keep: frozenset[str]) -> Any:
        """A copy of a schema for a tool: descriptions shortened, contract refs pointed at
        ``$defs`` when kept, otherwise replaced by a described stub."""
        if isinstance(node, list):
            return [self.prepare(v, keep) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(CONTRACT_PREFIX):
            name = ref[len(CONTRACT_PREFIX) :]
            if name not in keep:
                rest = {k: v for k, v in node.items() if k not in ("$ref", "description")}
                return {**_stub(name, self.definitions), **self.prepare(rest, keep)}
            node = {**_without_echoes(node, self.definitions.get(name)), "$ref": TOOL_PREFIX + name}
        out: JsonSchema = {}
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                out[key] = self.prose.short(value, nested=True)
            elif key in DROPPED_KEYWORDS:
                continue
            elif key in VALUE_KEYWORDS or not isinstance(value, dict | list):
                out[key] = value
            elif key in SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {p: self.prepare(v, keep) for p, v in value.items()}
            else:
                out[key] = self.prepare(value, keep)
        if "enum" in out and "type" in out and enum_implies_type(out["enum"], out["type"]):
            del out["type"]  # the values already say it: the same schema in fewer tokens
        return modest_arrays(out)


def build_tool_specs(
    schema: Contract,
    *,
    read_only: bool = False,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    descriptions: Descriptions = "full",
) -> list[ToolSpec]:
    return list(
        iter_tool_specs(
            schema, read_only=read_only, include=include, exclude=exclude, descriptions=descriptions
        )
    )


def iter_tool_specs(
    schema: Contract,
    *,
    read_only: bool = False,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    descriptions: Descriptions = "full",
) -> Iterator[ToolSpec]:
    """``build_tool_specs`` one tool at a time, for a caller that looks at each once (a
    large API's tools need not all be in memory together)."""
    catalogue = Catalogue(
        schema.definitions, Prose.learn(schema.actions()), descriptions=descriptions
    )
    chosen = select_actions(schema, read_only=read_only, include=include, exclude=exclude)
    for resource, action in chosen:
        yield tool_spec(action, resource=resource, catalogue=catalogue)
    poll = _poll_tool(schema, chosen, exclude)
    if poll is not None:
        yield tool_spec(poll, resource=POLL_RESOURCE, catalogue=catalogue)


def _poll_tool(
    schema: Contract, chosen: list[tuple[str, Action]], exclude: Iterable[str]
) -> Action | None:
    """``appctl_poll`` (contract/polltool.py) when a chosen tool is long-running and
    ``exclude`` does not name it."""
    if not any(a.long_running is not None for _, a in chosen):
        return None
    from appctl.contract.polltool import offers_poll, poll_action

    keys = (POLL_TOOL, POLL_RESOURCE)
    if any(fnmatch.fnmatchcase(k, p) for p in exclude for k in keys) or not offers_poll(schema):
        return None
    return poll_action()


def tool_spec(action: Action, *, resource: str, catalogue: Catalogue) -> ToolSpec:
    from appctl.generate.shaping import offers_fields, with_fields

    schema = input_schema(action.parameters, catalogue)
    if offers_fields(action):
        schema = with_fields(schema)
    spec = spec_of(action, resource, action.verb.value, action.safety, catalogue, schema)
    return with_cursor(action, spec)


def spec_of(
    action: ActionLike,
    resource: str,
    verb: str,
    safety: Safety,
    catalogue: Catalogue,
    schema: JsonSchema | None = None,
) -> ToolSpec:
    """The tool spec of an action (a contract ``Action`` or a lighter record of one);
    ``schema`` is its ``input_schema`` when the caller has it already."""
    description = describe(action.summary, action.description, catalogue.descriptions)
    if not description:
        description = humanize(action.name) + "."
    if action.deprecated:
        description = f"Deprecated. {description}"
    return ToolSpec(
        name=action.name,
        title=condense(action.summary, 120) or humanize(action.name),
        description=description,
        input_schema=input_schema(action.parameters, catalogue) if schema is None else schema,
        resource=resource,
        verb=verb,
        safety=safety,
        idempotent=action.idempotent,
        deprecated=action.deprecated,
        returns=returns_of(action, catalogue.definitions),
    )


RETURNED_NAMES = 6  # property names said of what a tool returns (a few: the first declared)


def returns_of(action: ActionLike, definitions: dict[str, JsonSchema]) -> Any:
    """``ToolSpec.returns`` of an action with documented responses (HTTP), else None."""
    responses = getattr(action, "responses", None)
    if not responses:
        return None
    from appctl.generate.outputs import returned_fields

    found = returned_fields(responses, definitions)
    if found is None:
        return None
    kind, names = found
    return kind, tuple(names[:RETURNED_NAMES]) + (("…",) if len(names) > RETURNED_NAMES else ())


def describe(summary: str, description: str, mode: Descriptions) -> str:
    """A tool's description in the chosen mode (never cut here: each format applies its
    provider's documented limit, with a visible ellipsis and a warning)."""
    if mode == "short":
        return tool_description(summary, description, limit=DESCRIPTION_LIMIT)
    return full_description(summary, description)


def shared_tool_specs(
    actions: Iterable[tuple[str, ActionLike, str, Safety]],
    definitions: dict[str, JsonSchema],
    *,
    descriptions: Descriptions = "full",
) -> list[ToolSpec]:
    """``build_tool_specs`` of (resource, action, verb, safety), in tool order, whose actions
    share their argument objects (the database sync's): the input schema is made once per
    list of the same arguments and shared between those tools (never changed in place)."""
    listed = list(actions)
    prose = Prose.learn(a for _, a, _, _ in listed)
    catalogue = Catalogue(definitions, prose, descriptions=descriptions)
    # ids of an argument list → (the arguments, kept alive so the ids stay theirs; schema)
    made: dict[tuple[int, ...], tuple[Sequence[FieldLike], JsonSchema]] = {}
    specs = []
    for resource, action, verb, safety in listed:
        fields = action.parameters
        key = tuple(map(id, fields))
        found = made.get(key)
        if found is None:
            found = made[key] = (fields, input_schema(fields, catalogue))
        specs.append(spec_of(action, resource, verb, safety, catalogue, found[1]))
    return specs


def _content_key(schema: JsonSchema) -> bytes | None:
    """A schema's content as bytes (key order kept, 1 and 1.0 and true told apart), or None
    for one that is not plain JSON."""
    try:
        return orjson.dumps(schema)
    except TypeError:
        return None


def _text(field: FieldLike, catalogue: Catalogue) -> str:
    text = catalogue.prose.short(field.description) if field.description else ""
    return text or humanize(field.wire)


def property_schema(field: FieldLike, catalogue: Catalogue, keep: frozenset[str]) -> JsonSchema:
    key = catalogue.key(field.schema_)
    refs = catalogue.field_refs(field.schema_, key)
    prepared, _ = catalogue.prepared(field.schema_, key, refs, keep)
    return described(_text(field, catalogue), prepared)


def described(text: str, prepared: JsonSchema) -> JsonSchema:
    """An argument's schema, its description first; notes ``prepare`` made follow the text."""
    notes = prepared.get("description")
    if not isinstance(notes, str) or not notes:
        return {"description": text, **prepared}
    rest = {k: v for k, v in prepared.items() if k != "description"}
    return {"description": _sentences(text, notes), **rest}


def _sentences(text: str, notes: str) -> str:
    text = text.strip()
    if text and text[-1] not in ".!?":
        text += "."
    return f"{text} {notes}" if text else notes


def modest_arrays(node: JsonSchema) -> JsonSchema:
    """``node`` with array bounds over ARRAY_BOUND_LIMIT moved into its description."""
    out, notes = dict(node), []
    for key, said in (("minItems", "At least {} items."), ("maxItems", "At most {} items.")):
        bound = out.get(key)
        if isinstance(bound, int) and not isinstance(bound, bool) and bound > ARRAY_BOUND_LIMIT:
            notes.append(said.format(out.pop(key)))
    if not notes:
        return node
    out["description"] = _sentences(str(out.get("description", "")), " ".join(notes))
    return out


def input_schema(fields: Iterable[FieldLike], catalogue: Catalogue) -> JsonSchema:
    visible = [f for f in fields if not f.hidden]
    keys = [catalogue.key(f.schema_) for f in visible]
    refs = [catalogue.field_refs(f.schema_, k) for f, k in zip(visible, keys, strict=True)]
    included, complete = catalogue.reach(list(dict.fromkeys(r for rs in refs for r in rs)))
    keep = frozenset(included)
    properties: JsonSchema = {}
    uses: dict[str, list[str]] = {}  # property → the $defs refs in it
    for field, key, field_refs in zip(visible, keys, refs, strict=True):
        prepared, uses[field.name] = catalogue.prepared(field.schema_, key, field_refs, keep)
        properties[field.name] = described(_text(field, catalogue), prepared)
    out: JsonSchema = {"type": "object", "properties": properties}
    required = [f.name for f in visible if f.required]
    if required:
        out["required"] = required
    if included:
        defs = {n: catalogue.render(n, keep, complete) for n in included}
        edges = {n: catalogue.rendered_refs(n, body, complete) for n, body in defs.items()}
        return _inline(out, defs, edges, uses)
    return out


def json_type(value: Any) -> str:
    """The JSON Schema type name of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "?"


def enum_implies_type(values: Any, declared: Any) -> bool:
    """Whether every enum value already has one of the declared types (so ``type`` is
    redundant: JSON Schema accepts exactly the same values without it)."""
    allowed = {declared} if isinstance(declared, str) else set(declared or ())
    if "number" in allowed:
        allowed.add("integer")
    return (
        isinstance(values, list) and bool(values) and all(json_type(v) in allowed for v in values)
    )


def _subschemas(node: dict[str, Any]) -> list[Any]:
    """A schema's child schemas: a property named like a keyword ("default") is a schema too."""
    children: list[Any] = []
    for key, value in node.items():
        if key in SCHEMA_MAPS and isinstance(value, dict):
            children.extend(value.values())
        elif key not in VALUE_KEYWORDS:
            children.append(value)
    return children


def ref_uses(node: Any, prefix: str) -> list[str]:
    """Every reference to ``prefix<Name>`` in a schema, in document order (a name as often
    as it is used); data keywords (enum, default...) are not schemas and are not searched."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                found.append(ref[len(prefix) :])
            stack.extend(reversed(_subschemas(item)))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def refs_in(node: Any) -> list[str]:
    """Contract definition names a schema references, each once, in first-seen order."""
    return list(dict.fromkeys(ref_uses(node, CONTRACT_PREFIX)))


def inline_single_use(schema: JsonSchema) -> JsonSchema:
    """Put a definition used once, and not recursive, in place of its reference (lossless:
    the same schema in fewer tokens)."""
    defs: dict[str, JsonSchema] = schema["$defs"]
    edges = {name: set(ref_uses(body, TOOL_PREFIX)) for name, body in defs.items()}
    top = {k: v for k, v in schema.items() if k != "$defs"}
    return _inline(top, defs, edges, {"": ref_uses(top, TOOL_PREFIX)}, whole=True)


def _inline(
    top: JsonSchema,
    defs: dict[str, JsonSchema],
    edges: dict[str, set[str]],
    uses: dict[str, list[str]],
    *,
    whole: bool = False,
) -> JsonSchema:
    """``inline_single_use`` of ``top`` with ``defs`` as its ``$defs``, given each
    definition's references (``edges``) and those in ``top``: in each of its properties
    (``uses``, by property name), or in all of it (``whole``, under any one key). A part that
    refers to no inlined definition is the same after substitution, and is kept as it is."""
    counts = Counter(r for refs in uses.values() for r in refs)
    for body_refs in edges.values():
        counts.update(body_refs)
    inline = {n for n in defs if counts[n] == 1 and not _reaches(edges, n, n)}
    if not inline:
        return {**top, "$defs": defs}

    def substitute(node: Any) -> Any:
        if isinstance(node, list):
            return [substitute(v) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref[len(TOOL_PREFIX) :] in inline:
            name = ref[len(TOOL_PREFIX) :]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return {**definition(name), **siblings}
        return {
            k: {p: substitute(s) for p, s in v.items()}
            if k in SCHEMA_MAPS and isinstance(v, dict)
            else v
            if k in VALUE_KEYWORDS
            else substitute(v)
            for k, v in node.items()
        }

    def definition(name: str) -> Any:
        body = defs[name]
        return substitute(body) if edges[name] & inline else body

    if whole:
        out: JsonSchema = substitute(top)
    else:
        out = dict(top)
        out["properties"] = {
            p: substitute(s) if inline.intersection(uses[p]) else s
            for p, s in top["properties"].items()
        }
    kept = {n: definition(n) for n in defs if n not in inline}
    if kept:
        out["$defs"] = kept
    return out


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    stack = list(edges.get(start, ()))
    while stack:
        name = stack.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            stack.extend(edges.get(name, ()))
    return False


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


def _without_echoes(node: JsonSchema, target: JsonSchema | None) -> JsonSchema:
    """A reference without the keywords beside it that repeat its target's own (sync keeps
    ``type``/``format`` beside a shared argument schema's ``$ref`` for the front ends that read
    an argument's type: ``sync/openapi/share.py``). A tool gets the plain reference, which
    the provider adapters know how to treat (OpenAI's strict mode wraps it to accept null)."""
    if not isinstance(target, dict):
        return node
    return {k: v for k, v in node.items() if k == "$ref" or k not in target or target[k] != v}


def _stub(name: str, definitions: dict[str, JsonSchema]) -> JsonSchema:
    target = definitions.get(name, {})
    stub: JsonSchema = {}
    if isinstance(target.get("type"), str | list):
        stub["type"] = target["type"]
    stub["description"] = f"A {name} value (its full schema is too large to include here)."
    return stub
