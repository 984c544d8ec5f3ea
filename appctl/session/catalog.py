"""Meta-tools for APIs too large to hand a model whole, shared by the built-in agent
(``agent/loop.py``) and ``appctl mcp``'s catalogue mode (``serve/mcpcatalog.py``).

When the tools exceed a provider's per-request limit (OpenAI 128, Gemini 64), the token
budget for tool definitions, or what an MCP client copes with, the model gets three tools
instead: find tools by words (optionally within one resource), read one tool's schema, and
call a tool by name. ``appctl_call_tool`` runs through the same session and gates as a
direct call; ``find`` and ``describe`` here answer the first two as results, and ``unwrap``
takes the third apart.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from appctl.contract.models import Safety
from appctl.errors import did_you_mean
from appctl.execute.result import ErrorCategory, ToolResult
from appctl.generate.toolspec import ToolSpec

FIND = "appctl_find_tools"
DESCRIBE = "appctl_describe_tool"
CALL = "appctl_call_tool"
META = frozenset((FIND, DESCRIBE, CALL))
DEFAULT_RESULTS = 8
PREFIX_MIN = 4
MAX_RESULTS = 25
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# weights of a word found in a tool's name (for a one-word name), its resource, its description
NAME, RESOURCE, TEXT = 4.0, 2.0, 1.0
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "all",
        "any",
        "by",
        "for",
        "from",
        "i",
        "in",
        "into",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "to",
        "with",
    ]
)


def words(text: str) -> list[str]:
    """Lower-case word stems: ``listRepoIssues`` → list, repo, issue."""
    out = []
    for word in _WORD.findall(text):
        word = word.lower()
        if len(word) > 3 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


@dataclass(frozen=True, slots=True)
class _Entry:
    spec: ToolSpec
    name: frozenset[str]
    resource: frozenset[str]
    text: frozenset[str]


class Catalog:
    """The searchable catalogue of one contract's tools."""

    def __init__(self, specs: list[ToolSpec]) -> None:
        self.specs = {s.name: s for s in specs}
        self._entries = [
            _Entry(
                s,
                frozenset(words(s.name)),
                frozenset(words(s.resource)),
                frozenset(words(f"{s.title} {s.description}")),
            )
            for s in specs
        ]
        counts: Counter[str] = Counter()
        for entry in self._entries:
            counts.update(entry.name | entry.resource | entry.text)
        total = max(len(self._entries), 1)
        self._idf = {w: math.log(1 + total / n) for w, n in counts.items()}

    def __len__(self) -> int:
        return len(self.specs)

    def find(
        self, query: str, limit: int = DEFAULT_RESULTS, *, resource: str | None = None
    ) -> list[dict[str, Any]]:
        """The best matches for the words of ``query``, best first; with ``resource``,
        only that resource's tools (all of them, in order, when ``query`` is empty)."""
        terms = set(words(query)) - STOP_WORDS
        scored = []
        for position, entry in enumerate(self._entries):
            if resource is not None and entry.spec.resource != resource:
                continue
            if not terms:  # only a resource's listing has no words
                if resource is not None:
                    scored.append((0.0, position, entry.spec))
                continue
            score = 0.0
            # a word in a short name says more than the same word in a long one
            name_weight = NAME / math.sqrt(max(len(entry.name), 1))
            for term in terms:
                weight = (
                    name_weight * _match(term, entry.name)
                    + RESOURCE * _match(term, entry.resource)
                    + TEXT * _match(term, entry.text)
                )
                score += weight * self._idf.get(term, 1.0)
            if score > 0:
                scored.append((-score, position, entry.spec))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [summary(spec) for _, _, spec in scored[: max(1, min(limit, MAX_RESULTS))]]

    def describe(self, name: str) -> dict[str, Any] | None:
        spec = self.specs.get(name)
        if spec is None:
            return None
        return {**summary(spec), "input_schema": spec.input_schema}

    def resources(self) -> list[str]:
        return sorted({s.resource for s in self.specs.values()})


def _match(term: str, vocabulary: frozenset[str]) -> float:
    """1 for the word itself; 0.5 when one is a prefix of the other ("repo", "repository")."""
    if term in vocabulary:
        return 1.0
    if len(term) >= PREFIX_MIN and any(
        len(word) >= PREFIX_MIN and (word.startswith(term) or term.startswith(word))
        for word in vocabulary
    ):
        return 0.5
    return 0.0


def find(catalog: Catalog, arguments: dict[str, Any]) -> ToolResult:
    """``appctl_find_tools``'s answer: the matches, or a hint naming the resources."""
    query, resource = arguments.get("query", ""), arguments.get("resource")
    if resource is not None and (not isinstance(resource, str) or resource not in _known(catalog)):
        hint = did_you_mean(str(resource), _known(catalog))
        message = (
            f"no resource named {resource!r}.{hint} Resources: {', '.join(catalog.resources())}"
        )
        return ToolResult.failure(FIND, ErrorCategory.VALIDATION, message)
    if not isinstance(query, str) or not (query.strip() or resource):
        message = f"{FIND} needs a query: a few words about what you want to do"
        return ToolResult.failure(FIND, ErrorCategory.VALIDATION, message)
    limit = arguments.get("limit", DEFAULT_RESULTS)
    found = catalog.find(
        query, limit if isinstance(limit, int) else DEFAULT_RESULTS, resource=resource
    )
    data: dict[str, Any] = {"tools": found}
    if not found:
        data["hint"] = "No tool matched; try other words. Resources: " + ", ".join(
            catalog.resources()
        )
    return ToolResult(ok=True, tool=FIND, data=data)


def _known(catalog: Catalog) -> dict[str, None]:
    return dict.fromkeys(catalog.resources())


def describe(
    catalog: Catalog, arguments: dict[str, Any], *, extra: dict[str, Any] | None = None
) -> ToolResult:
    """``appctl_describe_tool``'s answer; ``extra`` adds what a front end knows beside the
    spec (``appctl mcp``: the tool's output schema)."""
    name = str(arguments.get("name", ""))
    described = catalog.describe(name)
    if described is None:
        hint = did_you_mean(name, catalog.specs)
        message = f"no tool named {name!r}.{hint} Find tools with {FIND}."
        return ToolResult.failure(DESCRIBE, ErrorCategory.VALIDATION, message)
    return ToolResult(ok=True, tool=DESCRIBE, data={**described, **(extra or {})})


def unwrap(arguments: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    """appctl_call_tool's target and arguments (an object, or JSON text of one), or what
    is wrong with them."""
    name = arguments.get("name")
    if not isinstance(name, str) or not name:
        return CALL, {}, f"{CALL} needs the name of the tool to call"
    inner = arguments.get("arguments", {})
    if isinstance(inner, str):
        try:
            inner = json.loads(inner) if inner.strip() else {}
        except ValueError as exc:
            return name, {}, f"arguments for {name} are not valid JSON: {exc}"
    if not isinstance(inner, dict):
        return name, {}, f"arguments for {name} must be a JSON object"
    return name, inner, None


def summary(spec: ToolSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "resource": spec.resource,
        "safety": spec.safety.value,
        "description": spec.description,
    }


def meta_specs(count: int, *, arguments_as_text: bool = False) -> list[ToolSpec]:
    """The three meta-tools, as specs every format adapter takes. Gemini refuses an object
    parameter without properties, so there ``arguments`` is JSON text."""
    arguments: dict[str, Any] = (
        {
            "type": "string",
            "description": 'The tool\'s arguments as JSON object text, e.g. {"id": 7}.',
        }
        if arguments_as_text
        else {
            "type": "object",
            "description": "The tool's arguments as an object matching its schema.",
        }
    )
    name = {"type": "string", "description": "The tool's exact name."}
    find = _meta(
        FIND,
        "Find tools",
        f"Search this application's {count} tools by words (what you want to do and to "
        "what). Returns names, safety and descriptions, best match first.",
        {
            "query": {"type": "string", "description": "Words, e.g. 'list open issues'."},
            "resource": {
                "type": "string",
                "description": "Only this resource's tools (an empty query lists them).",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RESULTS,
                "description": f"How many results (default {DEFAULT_RESULTS}).",
            },
        },
        ["query"],
    )
    describe = _meta(
        DESCRIBE,
        "Describe a tool",
        "Get one tool's description and the JSON Schema of its arguments. Read it before "
        f"calling the tool with {CALL}.",
        {"name": name},
        ["name"],
    )
    call = _meta(
        CALL,
        "Call a tool",
        "Run one tool by name with its arguments. The same safety rules apply as to any "
        "call: tools that change data may be refused or need approval.",
        {"name": name, "arguments": arguments},
        ["name", "arguments"],
        safety=Safety.MUTATING,  # whatever it calls may change data; its own gates decide
    )
    return [find, describe, call]


def _meta(
    name: str,
    title: str,
    description: str,
    properties: dict[str, Any],
    required: list[str],
    *,
    safety: Safety = Safety.READ_ONLY,
) -> ToolSpec:
    return ToolSpec(
        name=name,
        title=title,
        description=description,
        input_schema={"type": "object", "properties": properties, "required": required},
        resource="appctl",
        verb="custom",
        safety=safety,
        idempotent=safety == Safety.READ_ONLY,
        deprecated=False,
    )
