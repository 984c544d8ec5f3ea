"""``sync --strict``: an OpenAPI 3.0 / 3.1 document checked against openapi-pydantic's typed
models of the specification, each break reported at its JSON pointer.

Sync itself reads documents leniently (a bad operation is a warning, real-world mistakes are
repaired), and validating a large document into models costs more than the whole sync, so
the check runs only when asked for. pydantic reports each failed branch of a union
(``Reference | Response``): only the branch that fits the value is kept (the ``Reference``
branch for an object with ``$ref``, the ``list[...]`` branch for a list, ...), so that one
mistake reads as one error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from appctl.errors import STRUCTURE, Diagnostic
from appctl.sync.openapi.refs import join_pointer

REFERENCE = "Reference"
MAX_SHOWN_VALUE = 40
NOT_CHECKED = (
    "--strict: the structure is checked for OpenAPI 3.0 and 3.1 documents; this one was "
    "checked for repairs only"
)


def structure_problems(document: Any) -> list[Diagnostic]:
    """The document's breaks of the OpenAPI 3.0 / 3.1 structure (none for other versions:
    a Swagger 2.0 document is read by its own rules, a 3.2 one is not modelled yet)."""
    model = _model(document)
    if model is None:
        return []
    from pydantic import ValidationError

    try:
        model.model_validate(document)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    except RecursionError:
        return [Diagnostic("too deeply nested to check", "", kind=STRUCTURE)]
    else:
        return []
    found = [_locate(document, error) for error in errors]
    kept = _fitting(found)
    unique = dict.fromkeys((e.pointer, _message(e)) for e in kept)
    return [Diagnostic(message, pointer, kind=STRUCTURE) for pointer, message in unique]


def version_checked(document: Any) -> bool:
    return _model(document) is not None


def _model(document: Any) -> Any:
    version = str(document.get("openapi", "")) if isinstance(document, dict) else ""
    if version.startswith("3.0."):
        from openapi_pydantic.v3.v3_0 import OpenAPI as OpenAPI30

        return OpenAPI30
    if version.startswith("3.1."):
        from openapi_pydantic.v3.v3_1 import OpenAPI as OpenAPI31

        return OpenAPI31
    return None


@dataclass(frozen=True, slots=True)
class _Found:
    """One pydantic error placed in the document: ``branches`` are the union branches taken
    on the way, each with the pointer and value where the union was."""

    pointer: str
    error: Any  # pydantic_core.ErrorDetails
    field: str | None  # the missing field's name
    branches: tuple[tuple[str, str, Any], ...]  # (pointer, branch, value there)
    model: str | None  # the last model on the way: "Response", "Parameter"


def _locate(document: Any, error: Any) -> _Found:
    node, pointer = document, ""
    loc: Sequence[str | int] = error["loc"]
    field = None
    branches: list[tuple[str, str, Any]] = []
    for index, part in enumerate(loc):
        if _has(node, part):
            node, pointer = node[part], join_pointer(pointer, part)
        elif error["type"] == "missing" and index == len(loc) - 1:
            field = str(part)
        else:
            branches.append((pointer, str(part), node))
    models = [b for _, b, _ in branches if b.isidentifier() and b[:1].isupper()]
    return _Found(pointer, error, field, tuple(branches), models[-1] if models else None)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _fitting(found: list[_Found]) -> Iterator[_Found]:
    """Each error whose union branches fit the values they were tried on. Where no branch of
    a union fits (``items: 3``), its errors stay, but for the ``Reference`` branch's."""
    fits = {id(f): all(_fits(branch, value) for _, branch, value in f.branches) for f in found}
    fitted = {point for f in found if fits[id(f)] for point, _, _ in f.branches}
    for f in found:
        if fits[id(f)]:
            yield f
            continue
        point, branch, _ = next(b for b in f.branches if not _fits(b[1], b[2]))
        if point not in fitted and branch != REFERENCE:
            yield f


def _fits(branch: str, value: Any) -> bool:
    if branch == REFERENCE:
        return _is_ref(value)
    if _is_ref(value):
        return False  # the Reference branch of the same union reports it
    if branch.startswith("list["):
        return isinstance(value, list)
    if branch.startswith("dict[") or (branch.isidentifier() and branch[:1].isupper()):
        return isinstance(value, dict)
    return not isinstance(value, (list, dict))


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and "$ref" in value


def _message(found: _Found) -> str:
    error = found.error
    kind = str(error["type"])
    where = f" in {_article(found.model)} {found.model} object" if found.model else ""
    if kind == "missing" and found.field is not None:
        return f"missing field: '{found.field}' is required{where}"
    text = str(error["msg"])
    if text.startswith("Input should"):
        text = "should" + text[len("Input should") :]
    shown = repr(error.get("input"))
    if len(shown) > MAX_SHOWN_VALUE:
        shown = shown[: MAX_SHOWN_VALUE - 1] + "…"
    label = (
        "wrong type"
        if kind.endswith("_type")
        else "value not allowed"
        if kind in ("enum", "literal_error")
        else "invalid value"
    )
    return f"{label}: {text}{where}, found {shown}"


def _article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"
