"""A loaded OpenAPI document → the contract (``Contract``) plus warnings.

Every operation of every method becomes exactly one Action (filters aside). Names are given
to all operations in document order before filtering, so a filter never renames a tool.
A bad operation becomes a warning naming its JSON pointer; the rest still syncs.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from appctl.contract.auth import userinfo_problem
from appctl.contract.io import canonical
from appctl.contract.models import (
    Action,
    Contract,
    Field,
    HttpTransport,
    Pagination,
    Resource,
    Safety,
    Source,
    Verb,
    usual_idempotent,
)
from appctl.contract.names import dedupe, snake_case, tool_name
from appctl.errors import AppctlError, Diagnostic, SourceError, UsageError
from appctl.sync.openapi import fields as F
from appctl.sync.openapi import paging, safety, servers, swagger2
from appctl.sync.openapi.accept import response_types
from appctl.sync.openapi.jsonschema import DEF_PREFIX, Converter
from appctl.sync.openapi.load import Budget, Loaded
from appctl.sync.openapi.refs import RefProblem, Resolver, join_pointer
from appctl.sync.openapi.responses import success_responses
from appctl.sync.openapi.share import share_large_schemas, share_response_schemas

SWAGGER_BODY = ("body", "formData")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
_VERSION_SEGMENT = re.compile(r"^(v\d+(\.\d+)*|api|rest|\d+(\.\d+)*)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SyncOptions:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    base_url: str | None = None
    budget: Budget = field(default_factory=Budget)
    # Told (operations done, operations in all) every PROGRESS_EVERY operations and at the end.
    progress: Callable[[int, int], None] | None = None


PROGRESS_EVERY = 256


@dataclass(frozen=True, slots=True)
class SyncResult:
    schema: Contract
    diagnostics: tuple[Diagnostic, ...]
    operations: int
    filtered: int


@dataclass(frozen=True, slots=True)
class Operation:
    path: str
    method: str
    op: dict[str, Any]
    item: dict[str, Any]
    doc: str  # key of the document the path item lives in
    pointer: str


def detect_version(doc: Any, origin: str) -> tuple[bool, str]:
    """(is_swagger2, version string) or a SourceError saying what the document is not."""
    if not isinstance(doc, dict):
        raise SourceError(f"{origin} is not an OpenAPI document: its top level is not a mapping")
    if str(doc.get("swagger", "")).startswith("2"):
        return True, f"swagger {doc['swagger']}"
    if str(doc.get("openapi", "")).startswith("3"):
        return False, f"openapi {doc['openapi']}"
    found = doc.get("openapi") or doc.get("swagger")
    raise SourceError(
        f"{origin} is not an OpenAPI 3.x or Swagger 2.0 document"
        + (f" (version field says {found!r})" if found else " (no 'openapi' or 'swagger' field)")
    )


def iter_operations(resolver: Resolver, diagnostics: list[Diagnostic]) -> Iterator[Operation]:
    doc = resolver.root.document
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return
    for path, item in paths.items():
        pointer = join_pointer("/paths", path)
        try:
            target = resolver.follow(item, resolver.root.base, pointer)
        except RefProblem as exc:
            diagnostics.append(Diagnostic(f"path item skipped: {exc}", pointer))
            continue
        if not isinstance(target.value, dict):
            continue
        for method in METHODS:
            op = target.value.get(method)
            if isinstance(op, dict):
                yield Operation(
                    str(path), method, op, target.value, target.doc, join_pointer(pointer, method)
                )


def count_operations(doc: Any) -> int:
    """Operations in a document, counted the plain way (for tests and benchmarks); a path
    item given as a local ``$ref`` counts as what it points to."""
    paths = doc.get("paths") if isinstance(doc, dict) else None
    if not isinstance(paths, dict):
        return 0
    items = [_local_target(doc, item) for item in paths.values()]
    return sum(
        1
        for item in items
        if isinstance(item, dict)
        for m in METHODS
        if isinstance(item.get(m), dict)
    )


def _local_target(doc: Any, item: Any) -> Any:
    for _ in range(8):
        ref = item.get("$ref") if isinstance(item, dict) else None
        if not (isinstance(ref, str) and ref.startswith("#")):
            return item
        try:
            item = Resolver.walk(doc, unquote(ref[1:]), ref)
        except RefProblem:
            return None
    return None


def name_operations(ops: list[Operation]) -> list[str]:
    taken: set[str] = set()
    names = []
    for op in ops:
        op_id = op.op.get("operationId")
        base = op_id if isinstance(op_id, str) and op_id.strip() else f"{op.method} {op.path}"
        name = dedupe(tool_name(base), taken, key=f"{op.method} {op.path}")
        taken.add(name)
        names.append(name)
    return names


def _matches(pattern: str, op: Operation, name: str) -> bool:
    kind, sep, value = pattern.partition(":")
    tags = [str(t) for t in op.op.get("tags", []) if isinstance(t, str)]
    candidates: dict[str, list[str]] = {
        "tag": tags,
        "path": [op.path],
        "op": [str(op.op.get("operationId", ""))],
        "name": [name],
    }
    if sep and kind in candidates:
        return any(fnmatch.fnmatchcase(c, value) for c in candidates[kind])
    return any(fnmatch.fnmatchcase(c, pattern) for cs in candidates.values() for c in cs)


def selected(op: Operation, name: str, options: SyncOptions) -> bool:
    if options.include and not any(_matches(p, op, name) for p in options.include):
        return False
    return not any(_matches(p, op, name) for p in options.exclude)


def infer_verb(method: str, path: str) -> Verb:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    ends_with_param = last.startswith("{") and last.endswith("}")
    if method == "get":
        return Verb.GET if ends_with_param else Verb.LIST
    if method == "post":
        return Verb.CUSTOM if ends_with_param else Verb.CREATE
    return {"put": Verb.UPDATE, "patch": Verb.UPDATE, "delete": Verb.DELETE}.get(
        method, Verb.CUSTOM
    )


def infer_safety(op: Operation, diagnostics: list[Diagnostic]) -> safety.Judgement:
    """Safety and provenance by the rule in ``safety.py``; a bad x-appctl-safety warns."""
    op_id = op.op.get("operationId")
    found = safety.judge(
        op.method,
        op.path,
        operation_id=op_id if isinstance(op_id, str) else "",
        declared=op.op.get("x-appctl-safety"),
    )
    if found.problem:
        diagnostics.append(Diagnostic(found.problem, join_pointer(op.pointer, "x-appctl-safety")))
    return found


def detect_pagination(
    ctx: F.Context, op: Operation, fields: list[Field], *, reads: bool
) -> Pagination | None:
    """How the operation pages (``paging.py``): its paging arguments and responses."""
    found = paging.success_responses(
        ctx.resolver, op.op, doc=op.doc, pointer=op.pointer, swagger=ctx.swagger
    )
    resolve = paging.resolver_of(ctx.resolver, op.doc)
    return paging.detect(fields, found, resolve=resolve, reads=reads)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def build_action(ctx: F.Context, op: Operation, name: str, diagnostics: list[Diagnostic]) -> Action:
    params = F.merge_parameters(
        ctx,
        op.item.get("parameters"),
        op.op.get("parameters"),
        doc=op.doc,
        item_ptr=op.pointer.rsplit("/", 1)[0],
        op_ptr=op.pointer,
    )
    plain_params = [t for t in params if not (ctx.swagger and t.value.get("in") in SWAGGER_BODY)]
    fields = [
        f
        for t in plain_params
        if (f := F.parameter_field(ctx, t)) is not None and not ctx.is_credential(f)
    ]
    if ctx.swagger:
        raw_params = [t.value for t in params]
        consumes = op.op.get("consumes") or ctx.consumes
        raw_body = swagger2.request_body(
            raw_params,
            consumes if isinstance(consumes, list) else [],
            pointers=[t.pointer for t in params],
        )
    else:
        raw_body = op.op.get("requestBody")
    body, body_fields = F.body_fields(
        ctx,
        raw_body,
        doc=op.doc,
        pointer=join_pointer(op.pointer, "requestBody"),
    )
    fields += F.template_fields(ctx, op.path, fields, pointer=op.pointer)
    fields = F.assign_names(fields + body_fields)
    own = op.op.get("servers")
    level = op.pointer if servers.first_server(own) else op.pointer.rsplit("/", 1)[0]
    server = servers.normalize(
        servers.first_server(own) or servers.first_server(op.item.get("servers")),
        spec_url=ctx.spec_url,
        diagnostics=diagnostics,
        pointer=join_pointer(level, "servers", 0, "url"),
    )
    judged = infer_safety(op, diagnostics)
    accept = response_types(
        ctx.resolver, op.op, doc=op.doc, pointer=op.pointer, produces=ctx.produces
    )
    return Action(
        name=name,
        summary=_text(op.op.get("summary")),
        description=_text(op.op.get("description")),
        verb=infer_verb(op.method, op.path),
        safety=judged.safety,
        provenance=judged.provenance,
        transport=HttpTransport(
            kind="http",
            method=op.method.upper(),
            path=op.path,
            body=body,
            server=server,
            accept=accept or None,
        ),
        parameters=fields,
        tags=[t for t in op.op.get("tags", []) if isinstance(t, str)]
        if isinstance(op.op.get("tags"), list)
        else [],
        operation_id=op.op.get("operationId")
        if isinstance(op.op.get("operationId"), str)
        else None,
        deprecated=op.op.get("deprecated") is True,
        idempotent=usual_idempotent(op.method),
        pagination=detect_pagination(ctx, op, fields, reads=judged.safety == Safety.READ_ONLY),
        security=servers.requirements(op.op.get("security")),
        pointer=op.pointer,
    )


@dataclass(frozen=True, slots=True)
class GetRoutes:
    resolver: Resolver
    paths: list[str]


def _with_long_running(action: Action, op: Operation, gets: GetRoutes) -> Action:
    """The action with the long-running facts its operation declares (``longrunning.py``)."""
    from appctl.sync.openapi.longrunning import detect

    found = detect(
        gets.resolver, op.op, doc=op.doc, path=op.path, method=op.method, gets=gets.paths
    )
    return action if found is None else action.model_copy(update={"long_running": found})


def resource_name(action: Action) -> str:
    for tag in action.tags:
        name = snake_case(tag)
        if name and name[0].isalpha():
            return name[:64]
    path = action.transport.path if isinstance(action.transport, HttpTransport) else ""
    for segment in path.split("/"):
        if segment and not segment.startswith("{") and not _VERSION_SEGMENT.match(segment):
            name = snake_case(segment)
            if name and name[0].isalpha():
                return name[:64]
    return "default"


def group_resources(actions: list[Action], doc: dict[str, Any]) -> list[Resource]:
    tag_text: dict[str, str] = {}
    for tag in doc.get("tags") or []:
        if isinstance(tag, dict) and isinstance(tag.get("name"), str):
            tag_text.setdefault(snake_case(tag["name"]), _text(tag.get("description")))
    grouped: dict[str, list[Action]] = {}
    for action in actions:
        grouped.setdefault(resource_name(action), []).append(action)
    return [
        Resource(name=name, description=tag_text.get(name, ""), actions=members)
        for name, members in sorted(grouped.items())
    ]


def reachable_definitions(converter: Converter, actions: list[Action]) -> dict[str, Any]:
    """Only the definitions the actions' fields reach (transitively), so the contract is closed."""
    converter.finish()
    seen: dict[str, Any] = {}
    stack: list[Any] = [f.schema_ for a in actions for f in a.parameters]
    stack += [s for a in actions for r in a.responses for s in r.content.values()]
    stack += [h.schema_ for a in actions for r in a.responses for h in r.headers.values()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(DEF_PREFIX):
                name = ref[len(DEF_PREFIX) :]
                if name not in seen and name in converter.definitions:
                    seen[name] = converter.definitions[name]
                    stack.append(seen[name])
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return dict(sorted(seen.items()))


def add_responses(ctx: F.Context, ops: list[Operation], actions: list[Action]) -> None:
    """Each action's documented success responses, read after every action's arguments so
    that the definitions arguments refer to keep the names they had before responses were
    recorded (names are taken in the order definitions are met)."""
    for op, action in zip(ops, actions, strict=True):
        try:
            action.responses = success_responses(ctx, op.op, doc=op.doc, pointer=op.pointer)
        except (RefProblem, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            where = join_pointer(op.pointer, "responses")
            ctx.warn(f"responses skipped: {type(exc).__name__}: {exc}", where)


def build_contract(loaded: Loaded, options: SyncOptions) -> SyncResult:
    problem = userinfo_problem(options.base_url)
    if problem:
        raise UsageError(f"--base-url: {problem}")
    swagger, version = detect_version(loaded.document, loaded.location)
    doc: dict[str, Any] = loaded.document
    resolver = Resolver(loaded, budget=options.budget)
    converter = Converter(resolver)
    diagnostics = converter.diagnostics
    consumes = doc.get("consumes") if swagger else []
    produces = doc.get("produces") if swagger else None
    auth = servers.auth(doc, swagger=swagger)
    ctx = F.Context(
        resolver,
        converter,
        swagger,
        consumes if isinstance(consumes, list) else [],
        (produces if isinstance(produces, list) else []) if swagger else None,
        credentials=F.credential_slots(auth),
        spec_url=loaded.base if loaded.is_url else None,
    )
    ops = list(iter_operations(resolver, diagnostics))
    names = name_operations(ops)
    gets = GetRoutes(resolver, [o.path for o in ops if o.method == "get"])
    actions: list[Action] = []
    built: list[Operation] = []
    filtered = 0
    for index, (op, name) in enumerate(zip(ops, names, strict=True)):
        if options.progress is not None and index % PROGRESS_EVERY == 0:
            options.progress(index, len(ops))
        if not selected(op, name, options):
            filtered += 1
            continue
        try:
            actions.append(_with_long_running(build_action(ctx, op, name, diagnostics), op, gets))
            built.append(op)
        except (
            AppctlError,
            RefProblem,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            RecursionError,
        ) as exc:
            diagnostics.append(
                Diagnostic(f"operation skipped: {type(exc).__name__}: {exc}", op.pointer)
            )
    if options.progress is not None:
        options.progress(len(ops), len(ops))
    add_responses(ctx, built, actions)
    converter.finish()
    share_large_schemas(actions, converter.definitions)
    share_response_schemas(actions, converter.definitions)
    info: dict[str, Any] = doc.get("info") or {}
    if not isinstance(info, dict):
        info = {}
    spec_url = loaded.base if loaded.is_url else None
    found = servers.server_urls(
        doc,
        swagger=swagger,
        spec_url=spec_url,
        diagnostics=diagnostics,
        warn_relative=options.base_url is None,
    )
    schema = Contract(
        version=1,
        source=Source(
            kind="openapi",
            location=loaded.location,
            sha256=loaded.sha256,
            format=version,
            title=_text(info.get("title")),
            api_version=str(info.get("version", "")),
        ),
        base_url=servers.base_url(options.base_url, found),
        servers=found,
        auth=auth,
        definitions=reachable_definitions(converter, actions),
        resources=group_resources(actions, doc),
    )
    return SyncResult(
        schema=canonical(schema),
        diagnostics=tuple(diagnostics),
        operations=len(ops),
        filtered=filtered,
    )
