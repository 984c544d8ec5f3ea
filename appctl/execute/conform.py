"""Check a successful HTTP result's data against the response schema its source documents.

Takes an ok ``ToolResult`` of an HTTP action, the action and the contract's definitions;
returns the result unchanged when its data conforms (or nothing is documented to check it
against), else the same result with the data moved, whole, to ``unchecked`` and a note
naming the first mismatch (JSON pointer and what was expected).

Why: real servers deviate from their documents (GitHub's spec is known to), and an MCP
client rejects a result whose ``structuredContent`` does not validate against the tool's
``outputSchema``. Whatever passes here passes the outputSchema, which is a loosened view of
the same schemas (``generate.outputs``).

Which schema: the JSON bodies documented for the answer's status (its own, else its ``2XX``
range, else ``default``), any of them; for a status documented without a JSON body, any JSON
success body of the operation (that is what the outputSchema allows). Text data (a server
that answered text, a result cut to the budget) is left alone: the outputSchema allows a
string. ``required`` counts here — the contract keeps it — except for ``writeOnly``
properties, which a server never sends back. Formats are not asserted (nor by MCP clients).

Validators are compiled once per action and status, and kept (``_CACHE``, bounded). Checking
never raises: a schema or value the validator cannot take makes the data ``unchecked`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appctl.contract.responses import json_schemas
from appctl.execute.result import ToolResult

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from appctl.contract.models import Action

JsonSchema = dict[str, Any]
PREFIX = "#/definitions/"
CACHE_SIZE = 4096  # compiled validators kept (per action and status)


@dataclass(frozen=True, slots=True)
class Mismatch:
    pointer: str  # where in the data, as a JSON pointer ("" for the whole value)
    expected: str  # what the schema asked for there

    def note(self, status: int | None) -> str:
        where = self.pointer or "the top level"
        return (
            f"the data does not match the response schema the API documents for status "
            f"{status}: at {where}, {self.expected}. It is given whole under 'unchecked'; "
            "read it with care (the API's document may be out of date)"
        )


# (id of the action, id of the definitions, status) → (action, definitions, validator or None)
_CACHE: dict[tuple[int, int, int], tuple[Any, Any, Validator | None]] = {}


def conform(result: ToolResult, action: Action, definitions: dict[str, JsonSchema]) -> ToolResult:
    """``result`` with its data moved to ``unchecked`` when it does not match its documented
    schema (see the module docstring)."""
    if not result.ok or result.status is None or not 200 <= result.status < 300:
        return result
    data = result.data
    if data is None or isinstance(data, str) or not action.responses:
        return result
    found = mismatch(action, definitions, result.status, data)
    if found is None:
        return result
    notes = [*result.notes, found.note(result.status)]
    return result.model_copy(update={"data": None, "unchecked": data, "notes": notes})


def mismatch(
    action: Action, definitions: dict[str, JsonSchema], status: int, data: Any
) -> Mismatch | None:
    """The first place ``data`` departs from the schema documented for ``status``, or None."""
    try:
        validator = _validator(action, definitions, status)
        if validator is None:
            return None
        from jsonschema.exceptions import best_match

        first = next(iter(validator.iter_errors(data)), None)  # in document order; stops there
        error = None if first is None else best_match([first])  # into anyOf for the reason
    except Exception as exc:  # a value or schema the validator cannot take: not checked
        return Mismatch("", f"the check itself failed ({type(exc).__name__}: {exc})")
    if error is None:
        return None
    pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.path)
    return Mismatch(pointer, _expected(error.message))


def _expected(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."


def _validator(action: Action, definitions: dict[str, JsonSchema], status: int) -> Any:
    key = (id(action), id(definitions), status)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is action and hit[1] is definitions:
        return hit[2]
    validator = _compile(action, definitions, status)
    if len(_CACHE) >= CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = (action, definitions, validator)
    return validator


def _compile(action: Action, definitions: dict[str, JsonSchema], status: int) -> Any:
    schemas = json_schemas(action.responses, status) or json_schemas(action.responses)
    if not schemas or any(not s for s in schemas):
        return None
    from jsonschema import Draft202012Validator

    root: JsonSchema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    reached = _reachable(root, definitions)
    root = _response_view({**root, "definitions": reached} if reached else root)
    return Draft202012Validator(root)


def _reachable(root: JsonSchema, definitions: dict[str, JsonSchema]) -> dict[str, JsonSchema]:
    seen: dict[str, JsonSchema] = {}
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(PREFIX):
                name = ref[len(PREFIX) :]
                if name not in seen and name in definitions:
                    seen[name] = definitions[name]
                    stack.append(seen[name])
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return seen


def _response_view(node: Any) -> Any:
    """A copy without writeOnly properties in ``required`` lists (OpenAPI: required applies
    to requests only for them)."""
    if isinstance(node, list):
        return [_response_view(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _response_view(v) for k, v in node.items()}
    props, required = node.get("properties"), node.get("required")
    if isinstance(props, dict) and isinstance(required, list):
        write_only = {n for n, p in props.items() if isinstance(p, dict) and p.get("writeOnly")}
        if write_only:
            out["required"] = [r for r in required if r not in write_only]
    return out
