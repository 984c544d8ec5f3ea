"""``appctl doctor``: values for an action's path parameters, so that a probe reaches a route
that exists instead of one made up.

Takes the contract, an action and a way to GET a list (doctor's own read-only probe); returns
the path arguments, where each came from, or why one could not be filled. A value comes, in
order, from the parameter's examples, enum, const or default; else from the first item a list
call answers. List calls are read-only actions needing no argument besides path parameters
already known: a GET on the action's path up to that parameter (``/flows`` for
``/flows/{id}``), else a GET list of the same resource, else a read-only search right under that
path or a parent of it (Prefect's ``POST /flows/filter``, sent with an empty JSON object; ones with
``count`` in their path last), at most ``MAX_LISTS`` tried per parameter. The item's key is the
parameter's name (any case, ``_``/``-`` ignored), else ``id``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appctl.contract.models import Action, Contract, Field, HttpTransport, Location, Safety, Verb

# GET a list action with these path arguments: (the JSON it answered, or None, and a few words
# on what happened, e.g. "answered 404")
ListGet = Callable[[Action, dict[str, Any]], tuple[Any, str]]

MAX_LISTS = 3
# keys under which APIs wrap the items of a list (the first list of objects found is used too)
_WRAPPERS = ("items", "data", "results", "value", "records", "entries", "objects", "list")


@dataclass(frozen=True, slots=True)
class Filled:
    arguments: dict[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()  # "id from list_flows", "status from its enum"
    missing: str | None = None  # why a path parameter has no value


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float)  # bool included: it is an int


def static_value(param: Field) -> tuple[Any, str] | None:
    """A value the contract itself gives for ``param``, and which keyword gave it."""
    schema = param.schema_
    for key in ("examples", "enum"):
        values = schema.get(key)
        if isinstance(values, list) and values and _scalar(values[0]):
            return values[0], f"its {key[:-1] if key == 'examples' else key}"
    for key in ("const", "default"):
        if key in schema and _scalar(schema[key]):
            return schema[key], f"its {key}"
    return None


def path_fields(action: Action) -> list[Field]:
    """The action's path parameters in the order they appear in its path."""
    transport = action.transport
    if not isinstance(transport, HttpTransport):
        return []
    found = [f for f in action.parameters if f.location == Location.PATH]
    return sorted(found, key=lambda f: transport.path.find("{" + f.wire + "}"))


def gettable(action: Action) -> bool:
    """A read-only GET that needs no argument besides its path: safe to send."""
    transport = action.transport
    return (
        isinstance(transport, HttpTransport)
        and transport.method == "GET"
        and action.safety == Safety.READ_ONLY
        and not _needs_more(action)
    )


def listable(action: Action) -> bool:
    """What may be sent to read ids: a ``gettable`` action, or a read-only search (POST or
    QUERY) whose body is optional JSON, sent as ``{}``."""
    transport = action.transport
    if not isinstance(transport, HttpTransport) or action.safety != Safety.READ_ONLY:
        return False
    if transport.method == "GET":
        return gettable(action)
    body = transport.body
    json_body = body is None or (body.content_type.endswith("json") and not body.required)
    return transport.method in ("POST", "QUERY") and json_body and not _needs_more(action)


def _needs_more(action: Action) -> bool:
    return any(f.required and f.location != Location.PATH for f in action.parameters)


def _path(action: Action) -> str:
    transport = action.transport
    return transport.path.rstrip("/") if isinstance(transport, HttpTransport) else ""


@dataclass(frozen=True, slots=True)
class Lists:
    """The contract's list calls, indexed once (a contract may hold thousands of actions):
    read-only GETs by path, GET lists by resource, read-only searches by their parent path."""

    gets: dict[str, list[Action]]
    by_resource: dict[str, list[Action]]
    searches: dict[str, list[Action]]

    @classmethod
    def of(cls, schema: Contract) -> Lists:
        gets: dict[str, list[Action]] = {}
        by_resource: dict[str, list[Action]] = {}
        searches: dict[str, list[Action]] = {}
        for resource in schema.resources:
            for a in sorted(resource.actions, key=lambda a: a.name):
                if gettable(a):
                    gets.setdefault(_path(a), []).append(a)
                    if a.verb == Verb.LIST:
                        by_resource.setdefault(resource.name, []).append(a)
                elif listable(a):
                    searches.setdefault(_path(a).rsplit("/", 1)[0], []).append(a)
        for found in searches.values():
            found.sort(key=lambda a: "count" in _path(a))  # a count answers no ids
        return cls(gets, by_resource, searches)

    def listers(
        self, schema: Contract, action: Action, param: Field, known: set[str]
    ) -> list[tuple[Action, bool]]:
        """The list calls to take ``param``'s value from, best first (their own path
        parameters all ``known``), each with whether it lists what the path names (so that an
        item's ``id`` may stand for ``param``) or only something near it (then only
        ``param``'s own name does)."""
        assert isinstance(action.transport, HttpTransport)
        prefix = action.transport.path.split("{" + param.wire + "}", 1)[0].rstrip("/")
        resource = schema.resource_of(action.name)
        found = [(a, True) for a in self.gets.get(prefix, [])]
        found += [(a, False) for a in self.by_resource.get(resource.name if resource else "", [])]
        for n in range(prefix.count("/")):  # the prefix, then each parent of it
            parent = prefix.rsplit("/", n)[0]
            found += [(a, n == 0) for a in self.searches.get(parent, [])]
        unique: dict[str, tuple[Action, bool]] = {}
        for a, own in found:
            if a is not action and all(f.wire in known for f in path_fields(a)):
                unique.setdefault(a.name, (a, own))  # dicts keep order: best first
        return list(unique.values())[:MAX_LISTS]


def _norm(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def items(data: Any) -> list[Any]:
    """The items of a list answer: the list itself, or the first non-empty list it wraps."""
    if isinstance(data, dict):
        wrapped = [data.get(k) for k in _WRAPPERS] + list(data.values())
        data = next((v for v in wrapped if isinstance(v, list) and v), [])
    return data if isinstance(data, list) else []


def first_id(data: Any, param: Field, *, own: bool = True) -> Any:
    """``param``'s value in the first item of a list answer, or None: the item's key named
    like ``param``, else (for a list of what the path names, ``own``) its ``id``."""
    found = items(data)
    first = found[0] if found else None
    if _scalar(first):  # a list of names or ids
        return first if own else None
    if not isinstance(first, dict):
        return None
    by_name = {_norm(k): v for k, v in first.items() if _scalar(v)}
    for key in (_norm(param.wire), _norm(param.name), *(["id"] if own else [])):
        if key in by_name:
            return by_name[key]
    return None


def fill(schema: Contract, action: Action, get: ListGet, *, lists: Lists | None = None) -> Filled:
    """Every path argument of ``action``, or those found before the first that has none
    (``lists``: the contract's, indexed once for many calls)."""
    lists = lists or Lists.of(schema)
    arguments: dict[str, Any] = {}
    by_wire: dict[str, Any] = {}
    sources: list[str] = []
    for param in path_fields(action):
        found = static_value(param)
        if found is None:
            found, why = _from_lists(schema, lists, action, param, by_wire, get)
            if found is None:
                return Filled(arguments, tuple(sources), why)
        arguments[param.name] = by_wire[param.wire] = found[0]
        sources.append(f"{param.name} from {found[1]}")
    return Filled(arguments, tuple(sources))


def _from_lists(
    schema: Contract,
    lists: Lists,
    action: Action,
    param: Field,
    by_wire: dict[str, Any],
    get: ListGet,
) -> tuple[tuple[Any, str] | None, str]:
    """``param``'s value from the first list call that gives one, or why none did."""
    listers = lists.listers(schema, action, param, set(by_wire))
    if not listers:
        return None, f"no example, enum or default for {param.name}, and no list to take an id from"
    tried = []
    for lister, own in listers:
        args = {f.name: by_wire[f.wire] for f in path_fields(lister)}
        data, detail = get(lister, args)
        value = first_id(data, param, own=own) if data is not None else None
        if value is not None:
            return (value, lister.name), ""
        if data is not None and not items(data):
            detail = "answered no items"
        elif data is not None:
            detail = f"answered items with no {'id' if own else repr(param.wire)}"
        tried.append(f"{lister.name} {detail}")
    return None, f"no example, enum or default for {param.name}, and {'; '.join(tried)}"
