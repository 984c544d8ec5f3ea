"""Keep only the fields of a JSON result a caller asked for, before the result is budgeted.

Takes the ``fields`` argument of a tool that offers it (``generate.shaping``) and the JSON
data of its result; returns the data with only those fields, and the paths that matched
nothing (so the caller is told, never left guessing).

One syntax, two spellings of it:

- dotted paths: ``name``, ``owner.login``, ``items.*.name``, ``items.0.id``;
- JSON pointers (RFC 6901) for keys with dots or slashes in them: ``/owner/login``,
  ``/items/*/name``, ``/a.b`` (``~1`` is ``/``, ``~0`` is ``~``).

``*`` is every item of an array or every value of an object; a number is that index of an
array. A name met at an array applies to each of its items, so a list result projects each
item (``name`` on ``[{...}, {...}]``, like ``*.name``). A path that ends at an object or an
array keeps it whole. Objects keep their keys in the result's own order; an array keeps an
item (as ``{}``) where an object item has none of the fields, so its length still says how
many items there were. The markers that say a result goes on (``CONTINUATION``) are kept at
the top of an object result even when not asked for: a projection must never make a page look
complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appctl.contract.models import Action
from appctl.execute.result import ToolResult
from appctl.generate.shaping import FIELDS_ARG, offers_fields

MAX_PATHS = 64
MAX_PATH_LENGTH = 300
MAX_STEPS = 32
WILDCARD = "*"
# top-level keys that say there is more (paging), kept whatever the paths say
CONTINUATION = frozenset(
    (
        "next",
        "next_url",
        "nextUrl",
        "next_page",
        "nextPage",
        "next_page_url",
        "nextPageToken",
        "next_page_token",
        "next_cursor",
        "nextCursor",
        "cursor",
        "has_more",
        "hasMore",
        "nextLink",
        "@odata.nextLink",
        "incomplete_results",
        "truncated",
    )
)
_TAKE: dict[str, Any] = {}  # a leaf of the selection tree: keep the value whole (by identity)


@dataclass(frozen=True, slots=True)
class FieldPath:
    text: str  # as the caller wrote it
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Shaping:
    """A call's arguments without ``fields``, the paths asked for (empty: no projection),
    and what is wrong with them."""

    arguments: dict[str, Any]
    paths: tuple[FieldPath, ...] = ()
    problems: tuple[str, ...] = ()


def split(action: Action, given: Mapping[str, Any]) -> Shaping:
    """Take ``fields`` out of a call's arguments when the tool offers it (an action that
    does not keeps it, and argument checking names it as unknown)."""
    if FIELDS_ARG not in given or not offers_fields(action):
        return Shaping(dict(given))
    rest = {k: v for k, v in given.items() if k != FIELDS_ARG}
    value = given[FIELDS_ARG]
    if value is None:  # a strict schema's "not given"
        return Shaping(rest)
    paths, problems = parse(value)
    return Shaping(rest, paths, problems)


def parse(value: Any) -> tuple[tuple[FieldPath, ...], tuple[str, ...]]:
    """``fields`` as paths: a list of strings (or one string of comma-separated paths)."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return (), (f"argument {FIELDS_ARG!r}: expected a list of field paths (strings)",)
    if not value:
        return (), (f"argument {FIELDS_ARG!r}: name at least one field, or leave it out",)
    if len(value) > MAX_PATHS:
        return (), (f"argument {FIELDS_ARG!r}: at most {MAX_PATHS} paths, got {len(value)}",)
    paths, problems = [], []
    for text in value:
        steps, problem = _steps(text)
        if problem:
            problems.append(f"argument {FIELDS_ARG!r}: {text[:80]!r} {problem}")
        else:
            paths.append(FieldPath(text, steps))
    return tuple(paths), tuple(problems)


def _steps(text: str) -> tuple[tuple[str, ...], str | None]:
    if not text:
        return (), "is empty: give a dotted path (owner.login) or a JSON pointer (/owner/login)"
    if len(text) > MAX_PATH_LENGTH:
        return (), f"is longer than {MAX_PATH_LENGTH} characters"
    if not text.isprintable():
        return (), "holds characters that are not printable text"
    if text.startswith("/"):
        steps = tuple(s.replace("~1", "/").replace("~0", "~") for s in text[1:].split("/"))
        bad = any("~" in s for s in text[1:].replace("~0", "").replace("~1", "").split("/"))
        if bad:
            return (), "is not a valid JSON pointer: '~' must be written ~0 (and '/' ~1)"
    else:
        steps = tuple(text.split("."))
        if "" in steps:
            return (), (
                "has an empty step: write owner.login, or a JSON pointer (/a.b) for a key "
                "with a dot in it"
            )
    if len(steps) > MAX_STEPS:
        return (), f"is deeper than {MAX_STEPS} steps"
    return steps, None


def project(data: Any, paths: tuple[FieldPath, ...]) -> tuple[Any, list[str]]:
    """``data`` with only the fields the paths name, and the paths that matched nothing."""
    tree: dict[str, Any] = {}
    for path in paths:
        _add(tree, path.steps)
    out, _ = _apply(data, tree)
    if isinstance(data, dict) and isinstance(out, dict):
        kept = {k: data[k] for k in data if k in CONTINUATION and k not in out}
        if kept:
            out = {k: out[k] if k in out else data[k] for k in data if k in out or k in kept}
    missing = [p.text for p in paths if not _matches(data, p.steps)]
    return out, missing


def _add(tree: dict[str, Any], steps: tuple[str, ...]) -> None:
    node = tree
    for index, step in enumerate(steps):
        last = index == len(steps) - 1
        child = node.get(step)
        if child is _TAKE:
            return  # a shorter path already keeps all of it
        if last:
            node[step] = _TAKE
            return
        if child is None:
            child = node[step] = {}
        node = child


def _merge(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """The selection of two subtrees that both apply to one value."""
    if a is None or b is None:
        return a if b is None else b
    if a is _TAKE or b is _TAKE:
        return _TAKE
    out = dict(a)
    for key, sub in b.items():
        merged = _merge(out.get(key), sub)
        assert merged is not None
        out[key] = merged
    return out


def _apply(value: Any, node: dict[str, Any]) -> tuple[Any, bool]:
    """The value cut to the selection ``node``, and whether anything in it was selected."""
    if node is _TAKE:
        return value, True
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            sub = _merge(node.get(key), node.get(WILDCARD))
            if sub is not None:
                kept, found = _apply(item, sub)
                if found:
                    out[key] = kept
        return out, bool(out)
    if isinstance(value, list):
        return _apply_list(value, node)
    return None, False


def _apply_list(value: list[Any], node: dict[str, Any]) -> tuple[Any, bool]:
    indexed = {int(k) for k in node if _index(k)}
    names = {k: v for k, v in node.items() if k != WILDCARD and not _index(k)}
    each = _merge(node.get(WILDCARD), names or None)  # a name applies to every item
    out, found_any = [], False
    for index, item in enumerate(value):
        sub = _merge(each, node.get(str(index)) if index in indexed else None)
        if sub is None:
            continue
        kept, found = _apply(item, sub)
        found_any = found_any or found
        if found:
            out.append(kept)
        elif each is not None and isinstance(item, dict):
            out.append({})  # the item stays counted
    return out, found_any


def _matches(value: Any, steps: tuple[str, ...]) -> bool:
    """Whether the path names anything in ``value``."""
    if not steps:
        return True
    head, rest = steps[0], steps[1:]
    if isinstance(value, dict):
        if head == WILDCARD:
            return any(_matches(v, rest) for v in value.values())
        return head in value and _matches(value[head], rest)
    if isinstance(value, list):
        if head == WILDCARD:
            return any(_matches(v, rest) for v in value)
        if _index(head):
            return int(head) < len(value) and _matches(value[int(head)], rest)
        return any(_matches(v, steps) for v in value)
    return False


def _index(step: str) -> bool:
    return step.isascii() and step.isdigit()


def shaped(result: ToolResult, paths: tuple[FieldPath, ...]) -> ToolResult:
    """A successful result with its JSON data projected, and a note for any path that
    matched nothing or data that could not be projected (it is then left as it was)."""
    if not result.ok or result.request is not None or not paths:
        return result
    # an answer off its documented schema (``execute.conform``) is projected all the same
    key, data = result.body_key, result.body
    if result.payload is not None or not isinstance(data, (dict, list)):
        why = (
            "the answer is binary"
            if result.payload is not None
            else "the answer had no body"
            if data is None
            else "the answer is text, not whole JSON"
        )
        note = f"{FIELDS_ARG} not applied: {why}; the result is shown as it came"
        return result.model_copy(update={"notes": [*result.notes, note]})
    out, missing = project(data, paths)
    notes = list(result.notes)
    if missing:
        notes.append(
            f"{FIELDS_ARG} matched nothing: {', '.join(missing)}{_known(data)}; "
            "check the paths (dotted, e.g. owner.login, or /json/pointer)"
        )
    return result.model_copy(update={key: out, "notes": notes})


def _known(data: Any) -> str:
    """The result's top-level field names, to say what the paths could have named."""
    sample = data[0] if isinstance(data, list) and data else data
    if not isinstance(sample, dict) or not sample:
        return ""
    names = list(sample)
    more = f", … {len(names) - 20} more" if len(names) > 20 else ""
    where = "each item's" if isinstance(data, list) else "the result's"
    return f" ({where} fields: {', '.join(names[:20])}{more})"
