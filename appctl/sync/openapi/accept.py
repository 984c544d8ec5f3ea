"""The media types an operation answers with, for the ``Accept`` header of its calls.

OpenAPI 3.x: the content types of its success responses (``2XX`` and each 2xx status, refs to
``components/responses`` followed), else of its ``default`` response. Swagger 2.0: the
operation's ``produces``, else the document's. Declared order, each once. A server that
negotiates on ``Accept`` (httpbin's ``/image`` answers ``*/*`` with 406) then gets what its own
document says it serves; an operation that declares nothing is sent ``*/*`` as before.
"""

from __future__ import annotations

from typing import Any

from appctl.sync.openapi.refs import RefProblem, Resolver, join_pointer


def response_types(
    resolver: Resolver, op: dict[str, Any], *, doc: str, pointer: str, produces: Any
) -> list[str]:
    """The media types the operation at ``pointer`` answers with (``produces``: Swagger 2.0's
    document-level list, or None for OpenAPI 3.x)."""
    if produces is not None:
        own = op.get("produces")
        return _unique(own if isinstance(own, list) else produces)
    responses = op.get("responses")
    if not isinstance(responses, dict):
        return []
    codes = [c for c in responses if str(c).upper() == "2XX" or _success(str(c))]
    if not codes and "default" in responses:
        codes = ["default"]
    found: list[Any] = []
    for code in codes:
        where = join_pointer(pointer, "responses", str(code))
        try:
            response = resolver.follow(responses[code], doc, where).value
        except RefProblem:
            continue
        content = response.get("content") if isinstance(response, dict) else None
        if isinstance(content, dict):
            found += list(content)
    return _unique(found)


def _success(code: str) -> bool:
    return len(code) == 3 and code.startswith("2") and code.isdigit()


def _unique(types: Any) -> list[str]:
    if not isinstance(types, list):
        return []
    out: list[str] = []
    for kind in types:
        if isinstance(kind, str) and kind.strip() and kind.strip() not in out:
            out.append(kind.strip())
    return out
