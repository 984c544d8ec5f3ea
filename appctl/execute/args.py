"""Tool arguments → validated, complete arguments, before any I/O.

Takes an action, the contract's definitions and the arguments a caller gave; returns the
arguments with hidden fixed values filled in, or the problems found, each naming the
field, what was expected and what was given, with the closest valid name for a typo.

Before the schema, one walk refuses what no schema can describe and later steps cannot
encode (``_hazard``): values that are not JSON (bytes, sets, objects, non-string keys), text
that is not Unicode (a lone surrogate, as from non-UTF-8 command-line bytes), integers
outside 64 bits, NaN and infinities, nesting deeper than ``MAX_DEPTH``, binary multipart
fields that are not base64 where the contract says they are, and NUL in text for
PostgreSQL. So nothing untrusted reaches request building, the validators' recursion, the
wire or the audit history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import isfinite
from typing import Any

from appctl.contract.models import Action, HttpTransport, JsonSchema, Location, SqlTransport
from appctl.errors import did_you_mean
from appctl.execute.http.bodies import is_binary
from appctl.execute.http.encode import RequestError, decode_binary
from appctl.execute.memo import IdentityMemo
from appctl.execute.nulls import NullRule, null_rule, without_strict_nulls


@dataclass(frozen=True, slots=True)
class Checked:
    arguments: dict[str, Any]
    problems: tuple[str, ...]


def arguments_schema(action: Action, definitions: dict[str, JsonSchema]) -> JsonSchema:
    """One JSON Schema for all of an action's arguments; contract refs resolve inside it."""
    visible = [f for f in action.parameters if not f.hidden]
    return {
        "type": "object",
        "properties": {f.name: f.schema_ for f in visible},
        "required": [f.name for f in visible if f.required],
        "additionalProperties": False,
        "definitions": definitions,
    }


def _fixed(action: Action) -> dict[str, Any]:
    """Hidden arguments take their const or default value."""
    out: dict[str, Any] = {}
    for f in action.parameters:
        if f.hidden and ("const" in f.schema_ or "default" in f.schema_):
            out[f.name] = f.schema_.get("const", f.schema_.get("default"))
    return out


MAX_DEPTH = 64  # objects and arrays nested in one argument value (README: appctl call)
MIN_INT, MAX_INT = -(2**63), 2**64 - 1  # what every JSON peer and SQL driver can take
_Found = tuple[list[Any], Any]  # where (keys and indexes from the argument name), and what


@dataclass(frozen=True, slots=True)
class _Compiled:
    names: frozenset[str]
    fixed: dict[str, Any]
    fast: Any  # a jsonschema_rs validator (compiled Rust), or None if it refused the schema
    exact: Any  # a jsonschema validator: the reference, and the source of error messages
    nulls: NullRule  # which nulls mean "not given" (strict mode's), left out before validation
    binary: tuple[tuple[str, bool], ...] = ()  # multipart file fields: (name, base64?)
    no_nul: bool = False  # PostgreSQL text cannot hold NUL


_compiled: IdentityMemo[_Compiled] = IdentityMemo()


def _validator(action: Action, definitions: dict[str, JsonSchema]) -> _Compiled:
    return _compiled.get((action, definitions), lambda: _compile(action, definitions))


def _compile(action: Action, definitions: dict[str, JsonSchema]) -> _Compiled:
    import jsonschema
    import jsonschema_rs

    schema = arguments_schema(action, definitions)
    try:
        fast = jsonschema_rs.Draft202012Validator(schema)
    except (ValueError, jsonschema_rs.ValidationError):  # e.g. a pattern Rust cannot compile
        fast = None
    transport = action.transport
    return _Compiled(
        names=frozenset(f.name for f in action.parameters if not f.hidden),
        fixed=_fixed(action),
        fast=fast,
        exact=jsonschema.Draft202012Validator(schema),
        nulls=null_rule(action, definitions),
        binary=_binary_fields(action),
        no_nul=isinstance(transport, SqlTransport) and transport.dialect == "postgresql",
    )


def _binary_fields(action: Action) -> tuple[tuple[str, bool], ...]:
    """The body fields sent as bytes (``execute.bodies``): (name, base64?); the name of an
    array of binary items ends in ``[]``."""
    transport = action.transport
    body = transport.body if isinstance(transport, HttpTransport) else None
    if body is None:
        return ()
    kind = body.content_type.strip().lower()
    if "json" in kind or not (kind.startswith("multipart/") or body.mode == "value"):
        return ()
    out: list[tuple[str, bool]] = []
    for f in action.parameters:
        items = f.schema_.get("items")
        if f.location != Location.BODY:
            continue
        if is_binary(f.schema_):
            out.append((f.name, f.schema_.get("contentEncoding") == "base64"))
        elif isinstance(items, dict) and is_binary(items) and kind.startswith("multipart/"):
            out.append((f.name + "[]", items.get("contentEncoding") == "base64"))
    return tuple(out)


def check_arguments(
    action: Action, definitions: dict[str, JsonSchema], given: dict[str, Any]
) -> Checked:
    """Valid arguments pass the compiled Rust validator in about a microsecond; anything it
    rejects (or could not compile) is checked again by ``jsonschema``, which names the
    problems. First, the nulls a strict schema made the caller send for what it left out are
    left out (``nulls``)."""
    compiled = _validator(action, definitions)
    hazard = _first_hazard(given, compiled)
    if hazard is not None:  # nothing past this point could take these values safely
        return Checked(arguments={}, problems=(hazard,))
    given = without_strict_nulls(compiled.nulls, given)
    names = compiled.names
    problems = [
        f"unknown argument {key!r}.{did_you_mean(key, sorted(names))}"
        for key in given
        if key not in names
    ]
    known = {k: v for k, v in given.items() if k in names} if problems else dict(given)
    if compiled.fast is None or not compiled.fast.is_valid(known):
        errors = sorted(compiled.exact.iter_errors(known), key=lambda e: list(e.absolute_path))
        problems += [_describe(error) for error in errors]
        if not errors and compiled.fast is not None:  # the two disagree: report Rust's view
            problems += [_describe_fast(error) for error in compiled.fast.iter_errors(known)]
    return Checked(arguments={**known, **compiled.fixed}, problems=tuple(problems))


def _describe_fast(error: Any) -> str:
    path = ".".join(str(p) for p in error.instance_path)
    where = f"argument {path!r}" if path else "arguments"
    return f"{where}: {error.message}"


def _describe(error: Any) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    where = f"argument {path!r}" if path else "arguments"
    if error.validator == "required":
        return f"{where}: {error.message}"
    given = repr(error.instance)
    if len(given) > 80:
        given = given[:77] + "..."
    expected = error.schema.get(error.validator) if isinstance(error.schema, dict) else None
    detail = f"expected {error.validator} {expected!r}" if expected is not None else error.message
    return f"{where}: {detail}, got {given}"


def _first_hazard(given: dict[Any, Any], compiled: _Compiled) -> str | None:
    """The first value no schema can make safe, described; None for plain JSON, found with
    one type test per value (and an ``isascii`` per string)."""
    found = _scan(given.items(), 0, compiled.no_nul, True)
    if found is not None:
        path, bad = found
        if not path:  # a name that is not text
            return f"argument names must be Unicode strings, got {_shown(bad.key)}"
        return _describe_hazard(path, bad, no_nul=compiled.no_nul)
    for name, encoded in compiled.binary:
        values = [given.get(name)] if name in given else []
        if name.endswith("[]") and isinstance(given.get(name[:-2]), list):
            name, values = name[:-2], given[name[:-2]]
        for value in values:
            try:
                decode_binary(name, value, base64_text=encoded)
            except RequestError as exc:
                return str(exc)
    return None


def _scan(pairs: Iterable[tuple[Any, Any]], depth: int, no_nul: bool, keyed: bool) -> _Found | None:
    """The path to the first key or value among ``pairs`` (an object's items, or an array's
    indexes and values) or below them that is not plain JSON, and what it is. The hot loop:
    the common types are tested by identity, inline."""
    for key, value in pairs:
        if keyed and not (type(key) is str and key.isascii()) and _bad_key(key):
            return [], _BadKey(key)
        kind = type(value)
        if kind is str:
            if (no_nul and "\0" in value) or not (value.isascii() or _unicode(value)):
                return [key], value
        elif kind is int:
            if not MIN_INT <= value <= MAX_INT:
                return [key], value
        elif kind is float:
            if not isfinite(value):
                return [key], value
        elif kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                return [key], _TooDeep()
            pairs_below = value.items() if kind is dict else enumerate(value)
            found = _scan(pairs_below, depth + 1, no_nul, kind is dict)
            if found is not None:
                return [key, *found[0]], found[1]
        elif not (kind is bool or value is None):
            found = _subclass(value, depth + 1, no_nul)
            if found is not None:
                return [key, *found[0]], found[1]
    return None


def _subclass(value: Any, depth: int, no_nul: bool) -> _Found | None:
    """``_scan`` for a value of a subclass of a JSON type (or of no JSON type at all)."""
    if isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            return [], _TooDeep()
        if isinstance(value, dict):
            return _scan(value.items(), depth, no_nul, True)
        return _scan(enumerate(value), depth, no_nul, False)
    if isinstance(value, bool) or (isinstance(value, int) and MIN_INT <= value <= MAX_INT):
        return None
    if isinstance(value, float) and isfinite(value):
        return None
    if isinstance(value, str) and _unicode(value) and not (no_nul and "\0" in value):
        return None
    return [], value


def _bad_key(key: Any) -> bool:
    return not isinstance(key, str) or not _unicode(key)


def _unicode(text: str) -> bool:
    """Whether the text can be encoded (no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _TooDeep:
    """Stands for the value found nested past ``MAX_DEPTH``."""


@dataclass(frozen=True, slots=True)
class _BadKey:
    key: Any


def _describe_hazard(path: list[Any], value: Any, *, no_nul: bool) -> str:
    where = f"argument {'.'.join(_shown_part(p) for p in path)!r}"
    if isinstance(value, _TooDeep):
        return (
            f"argument {_shown_part(path[0])!r}: objects and arrays are nested more than "
            f"{MAX_DEPTH} levels deep, the limit"
        )
    if isinstance(value, _BadKey):
        return f"{where}: object keys must be Unicode strings, got {_shown(value.key)}"
    if isinstance(value, str):
        if no_nul and "\0" in value and _unicode(value):
            return f"{where}: PostgreSQL text cannot hold the NUL character (\\x00)"
        at = next(i for i, c in enumerate(value) if "\ud800" <= c <= "\udfff")
        return (
            f"{where}: the text is not valid Unicode: a lone surrogate {value[at]!r} at "
            f"character {at} (from bytes that were not UTF-8?); send UTF-8 text"
        )
    if isinstance(value, float):
        return f"{where}: {value!r} is not a JSON number; send a finite number"
    if isinstance(value, int):
        return (
            f"{where}: a {value.bit_length()}-bit integer is outside the 64-bit range "
            f"appctl sends ({MIN_INT} to {MAX_INT}); send it as a string if the tool takes one"
        )
    return (
        f"{where}: a {type(value).__name__} value is not JSON; send text, numbers, "
        "booleans, null, arrays or objects"
    )


def _shown_part(part: Any) -> str:
    return part if isinstance(part, str) and part.isascii() else _shown(part).strip("'")


def _shown(value: Any) -> str:
    """A short printable form of any key or value (``repr`` escapes surrogates; an integer too
    long for ``repr`` by its size)."""
    if isinstance(value, int) and value.bit_length() > 256:
        return f"a {value.bit_length()}-bit integer"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."
