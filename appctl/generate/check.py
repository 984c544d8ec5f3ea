"""Every tool checked against what each consumer accepts, at sync time (pure).

``consumer_problems(specs)`` renders each tool as the formats emit it and checks it: the
neutral input schema (also what MCP, Anthropic and plain OpenAI tools carry) against the
JSON Schema 2020-12 metaschema, Gemini's declaration against its documented subset
(``gemini_subset``), and a ``strict: true`` OpenAI tool against OpenAI's strict subset
(``openai_subset``; a tool the adapter could not make strict is emitted ``strict: false``
with its own warning, and is not a problem). Each problem is a ``Diagnostic`` naming the tool,
the format and where in its schema; none is expected (the adapters convert what a provider
does not take), so one means a bug to report.
"""

from __future__ import annotations

from collections.abc import Iterable

from appctl.errors import Diagnostic
from appctl.generate.formats import gemini, gemini_subset, openai, openai_subset
from appctl.generate.toolspec import ToolSpec

MAX_PER_TOOL = 3


def consumer_problems(specs: Iterable[ToolSpec]) -> list[Diagnostic]:
    import jsonschema_rs

    found: list[Diagnostic] = []
    for spec in specs:
        problems: list[tuple[str, str]] = []
        if not jsonschema_rs.meta.is_valid(spec.input_schema):
            problems.append(("jsonschema", "not a valid JSON Schema 2020-12"))
        parameters = gemini.declaration(spec).get("parameters")
        if parameters is not None:
            problems += [("gemini", p) for p in gemini_subset.problems(parameters)]
        try:
            strict = openai.strict_parameters(spec.input_schema)
        except openai.NotStrict:
            pass  # emitted strict: false, with the adapter's own warning
        else:  # strict_parameters checks the subset itself: this guards that it still does
            problems += [("openai --strict", p) for p in openai_subset.problems(strict)]
        found += [
            Diagnostic(f"{spec.name}: its {fmt} tool is not valid there ({problem})")
            for fmt, problem in problems[:MAX_PER_TOOL]
        ]
    return found
