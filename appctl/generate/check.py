"""Every tool checked against what each consumer accepts, at sync time (pure).

``consumer_problems(specs)`` renders each tool as the formats emit it and checks it: the
neutral input schema (also what MCP, Anthropic and plain OpenAI tools carry) against the
JSON Schema 2020-12 metaschema and Gemini's declaration against its documented subset
(``gemini_subset``). A ``strict: true`` OpenAI tool needs no check here: the adapter checks
each against OpenAI's strict subset whenever it renders one (``openai.strict_parameters``, the
one place that makes them) and emits a tool that fails ``strict: false`` with a warning; the
tests guard that it keeps doing so. Each problem is a ``Diagnostic`` naming the tool,
the format and where in its schema; none is expected (the adapters convert what a provider
does not take), so one means a bug to report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson

from appctl.errors import Diagnostic
from appctl.generate.formats import gemini, gemini_subset
from appctl.generate.toolspec import ToolSpec

MAX_PER_TOOL = 3


def consumer_problems(specs: Iterable[ToolSpec]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    converted: set[bytes] = set()  # the definitions checked already, by name and content
    known: dict[bytes, list[tuple[str, str]]] = {}  # input schemas checked, by digest
    for spec in specs:
        digest = hashlib.blake2b(orjson.dumps(spec.input_schema), digest_size=16).digest()
        problems = known.get(digest)
        if problems is None:  # Graph: 12,821 distinct input schemas among 22,361 tools
            problems = known[digest] = _problems(spec, converted)
        found += [
            Diagnostic(f"{spec.name}: its {fmt} tool is not valid there ({problem})")
            for fmt, problem in problems[:MAX_PER_TOOL]
        ]
    return found


def _problems(spec: ToolSpec, converted: set[bytes]) -> list[tuple[str, str]]:
    import jsonschema_rs

    problems: list[tuple[str, str]] = []
    if not jsonschema_rs.meta.is_valid(spec.input_schema):
        problems.append(("jsonschema", "not a valid JSON Schema 2020-12"))
    problems += [("gemini", p) for p in _gemini_problems(spec, converted)]
    return problems


def _gemini_problems(spec: ToolSpec, converted: set[bytes]) -> list[str]:
    """The tool's Gemini declaration checked in pieces: its own schema with each reference
    left as a placeholder, and each definition it uses converted by itself, once per
    contract (a declaration inlines them, and conversion is node by node, so the pieces
    hold every node the whole does; Microsoft Graph's 22k tools expand to 4.2 million
    nodes, which took 12 s to convert, where its 1,055 distinct definitions take well under
    a second). The tests convert whole declarations of real contracts as well."""
    parameters = gemini.declaration(spec, expand=False).get("parameters")
    found = gemini_subset.problems(parameters) if parameters is not None else []
    for name, target in spec.input_schema.get("$defs", {}).items():
        key = orjson.dumps([name, target], option=orjson.OPT_SORT_KEYS)
        if key not in converted:
            converted.add(key)
            found += gemini_subset.schema_problems(gemini.converted(target), f"/$defs/{name}")
    return found
