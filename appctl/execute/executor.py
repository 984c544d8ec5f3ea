"""One call of one tool: find → validate → gate → build → send → ``ToolResult``.

``call`` never raises to its caller: every failure is a result with an error category, and
anything unforeseen an ``internal`` one (recorded like the rest). A call that may change
something is recorded as started before its request is sent (``execute.audit``). A
long-running action's operation is followed after its answer (``execute.longcall``, with
``appctl_poll`` to resume one). The environment (credentials) and the HTTP transport are
passed in, so the core stays pure and tests inject a real server's URL rather than patching.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from appctl.config import Config, Limits
from appctl.contract.models import (
    Action,
    Contract,
    HttpTransport,
    McpTransport,
    Provenance,
    Safety,
    SqlTransport,
)
from appctl.errors import did_you_mean
from appctl.execute.args import check_arguments
from appctl.execute.audit import record as audit
from appctl.execute.audit.callers import recorded
from appctl.execute.audit.history import History
from appctl.execute.auth import AuthRefused, choose, redactor
from appctl.execute.budget import DEFAULT_BUDGET, fit, page_hint
from appctl.execute.caller import Caller
from appctl.execute.continuation import CursorError, Sealer, process_sealer
from appctl.execute.http import resume
from appctl.execute.http.request import NO_AUTH, Request, RequestError, build_request
from appctl.execute.mcp.call import McpCall
from appctl.execute.project import FieldPath, shaped
from appctl.execute.project import split as shaping
from appctl.execute.redact import NO_REDACTION, Redactor
from appctl.execute.result import ErrorCategory, Reason, ToolResult
from appctl.execute.sql.plan import SqlPlan

if TYPE_CHECKING:
    from appctl.execute.http.poll import Polling
    from appctl.execute.http.transport import Transport
    from appctl.execute.limits import Limiter

DEFAULT_CONFIG = Config()  # no config.yaml: reads allowed, changes asked for


@dataclass(frozen=True, slots=True)
class CallOptions:
    base_url: str | None = None
    dry_run: bool = False
    read_only: bool = False
    strict: bool = False
    approved: bool = False  # a person approved a mutating call
    config: Config | None = None  # per-tool policy
    timeout: float | None = None  # seconds for the whole call, retries included (default 30)
    result_budget: int = DEFAULT_BUDGET  # characters of JSON data; 0 for no limit
    database_url: str | None = None  # SQL contracts: connect here instead
    root: str | None = None  # the project folder (relative SQLite paths), default: the cwd
    # how the needs-approval refusal is worded for this front end's caller (default: terminal)
    unapproved: Callable[[Action], str] | None = None
    # signs and checks continuations (next-page cursors, operation handles); None: a key of
    # this process only (``continuation.process_sealer``)
    sealer: Sealer | None = None
    # told what a long-running operation is doing while it is polled (execute/http/poll.py)
    progress: Callable[[str], None] | None = None
    # who asked for this call (``execute.caller``): recorded, matched by policy, and the
    # source of per-user credentials; None: nobody in particular (library use)
    caller: Caller | None = None
    # counts per-tool rate and concurrency limits; None: in this process (``limits.PROCESS``)
    limiter: Limiter | None = None

    def continuations(self) -> Sealer:
        return self.sealer or process_sealer()


def refusal(action: Action, options: CallOptions, resource: str = "") -> tuple[Reason, str] | None:
    """Why a safety gate refuses this call (its reason code and message), or None."""
    decision, rule = (options.config or DEFAULT_CONFIG).decide(action, resource, options.caller)
    if decision == "deny":
        where = f"rule {rule + 1} of config.yaml's policy" if rule is not None else "policy"
        return Reason.DENIED, f"{action.name} is denied by {where}"
    scoped = _read_scope(action, options.caller)
    if scoped is not None:
        return Reason.READ_SCOPE, scoped
    if options.read_only and action.safety != Safety.READ_ONLY:
        return Reason.READ_ONLY, (
            f"{action.name} is {action.safety.value} and read-only mode is on; "
            "turn read-only off to run it"
        )
    if options.strict and action.provenance not in (Provenance.DECLARED, Provenance.VERIFIED):
        return Reason.STRICT, (
            f"{action.name} is {action.provenance.value}, and --strict only runs declared "
            "or verified actions"
        )
    approved = options.approved or decision == "allow"
    if action.safety != Safety.READ_ONLY and not approved and not options.dry_run:
        worded = options.unapproved or terminal_wording
        return Reason.NEEDS_APPROVAL, worded(action)
    return None


def _read_scope(action: Action, caller: Caller | None) -> str | None:
    """Why a caller whose token grants reads only may not run this tool, or None."""
    if caller is None or not caller.read_only or action.safety == Safety.READ_ONLY:
        return None
    return (
        f"{action.name} is {action.safety.value} and the token {caller.name} called with "
        "allows reads only (it lacks the write scope); call it with a token that has the "
        "write scope"
    )


def terminal_wording(action: Action) -> str:
    """The needs-approval refusal as a terminal user reads it (a front end with no terminal
    words its own: ``CallOptions.unapproved``)."""
    how = "type its name at the prompt" if action.safety == Safety.DESTRUCTIVE else "answer y"
    return (
        f"{action.name} is {action.safety.value} and needs approval: pass --yes, "
        f"{how} on a terminal, or allow it by policy"
    )


def needs_approval(schema: Contract, action: Action, options: CallOptions) -> bool:
    """Whether a person must approve this call before it runs: the policy says ``ask`` for a
    tool that changes data, and approval is all that stands between the call and running it
    (no point asking for a call another gate refuses anyway)."""
    if action.safety == Safety.READ_ONLY or options.approved or options.dry_run:
        return False
    resource = resource_of(schema, action)
    if (options.config or DEFAULT_CONFIG).decide(action, resource, options.caller)[0] != "ask":
        return False
    return refusal(action, replace(options, approved=True), resource) is None


def base_url_for(
    schema: Contract, explicit: str | None, config: Config | None, environ: Mapping[str, str]
) -> str:
    """--base-url, then config.yaml's base_url, then APPCTL_BASE_URL, then the contract's.
    A chosen one with no path keeps the path of the source's server (contract/baseurl.py)."""
    chosen = explicit or (config.base_url if config else None) or environ.get("APPCTL_BASE_URL")
    if chosen:
        from appctl.contract.baseurl import resolve

        return resolve(chosen, schema.servers)
    return schema.base_url or ""


def resource_of(schema: Contract, action: Action) -> str:
    found = schema.resource_of(action.name)
    return found.name if found is not None else ""


def database_url_for(schema: Contract, options: CallOptions, environ: Mapping[str, str]) -> str:
    """--database-url, then APPCTL_DATABASE_URL, then the contract's (password from env:)."""
    explicit = options.database_url or environ.get("APPCTL_DATABASE_URL")
    if explicit:
        return explicit
    if schema.database is None:
        raise RequestError("the contract names no database: run appctl sync --db")
    from pathlib import Path

    from appctl.sync.db.url import connect_url

    root = Path(options.root) if options.root else Path.cwd()
    return connect_url(schema.database.url, schema.database.password, root=root, environ=environ)


def redactor_of(schema: Contract, options: CallOptions, environ: Mapping[str, str]) -> Redactor:
    """What hides every credential this contract's calls may use, in every form (of every
    source, when it merges several: contract/sources.py)."""
    settings = (options.config or DEFAULT_CONFIG).auth
    if schema.parts:
        from appctl.execute.auth import secrets
        from appctl.execute.percaller import secrets as brought
        from appctl.execute.redact import redactor_for

        found = [secrets(part, settings, environ) for part in schema.parts.values()]
        if options.caller is not None:  # what the caller brought (execute.percaller)
            schemes = settings.schemes.items()
            found.append(frozenset(brought([a.scheme(n) for n, a in schemes], options.caller)))
        return redactor_for(frozenset().union(*found))
    return redactor(schema, settings, environ, options.caller)


def prepare(
    schema: Contract,
    tool: str,
    given: Mapping[str, Any],
    options: CallOptions,
    environ: Mapping[str, str],
    redactor: Redactor = NO_REDACTION,
) -> tuple[Action, Request | SqlPlan | McpCall, str] | ToolResult:
    """Everything before I/O: the action, its exact request (with the credentials its
    security asks for) and its resource, or why there is none."""
    schema = schema.part_for(tool)  # several sources: the tool's own (contract/sources.py)
    hit = schema.find(tool)
    if hit is None:
        names = [a.name for a in schema.actions()]
        message = f"no tool named {tool!r}.{did_you_mean(tool, names)}"
        return ToolResult.failure(
            tool, ErrorCategory.VALIDATION, message, reason=Reason.UNKNOWN_TOOL
        )
    found, action = hit
    from appctl.execute.bound import for_call

    bound = for_call(schema, action, found.name, given, options)
    if isinstance(bound, ToolResult):
        return bound
    action = bound.action  # its bound arguments hidden: the model may not set them
    split = shaping(action, given)  # ``fields`` is appctl's, not the operation's
    checked = check_arguments(action, schema.definitions, split.arguments)
    if split.problems or checked.problems:
        problems = "; ".join((*checked.problems, *split.problems))
        return ToolResult.failure(tool, ErrorCategory.VALIDATION, problems)
    arguments = {**checked.arguments, **bound.values}
    resource = found.name
    refused = refusal(action, options, resource)
    if refused:
        return ToolResult.failure(tool, ErrorCategory.REFUSED, refused[1], reason=refused[0])
    if isinstance(action.transport, McpTransport):
        return _prepare_mcp(schema, action, arguments, resource)
    if isinstance(action.transport, SqlTransport):
        if found.table is None:
            message = f"{tool} has no table in the contract: run appctl sync --db again"
            return ToolResult.failure(tool, ErrorCategory.VALIDATION, message)
        from appctl.execute.sql.plan import plan
        from appctl.execute.sql.resume import opened

        try:  # a cursor is verified here, before any I/O
            after = opened(action, arguments, options.continuations())
            return action, plan(action, found.table, arguments, after=after), resource
        except (RequestError, CursorError) as exc:
            return ToolResult.failure(tool, ErrorCategory.VALIDATION, str(exc))
    base_url = base_url_for(schema, options.base_url, options.config, environ)
    try:
        # with no absolute base URL there is no origin credentials may go to (and
        # build_request says what to pass)
        chosen = NO_AUTH
        if "://" in base_url:
            chosen = choose(
                schema,
                action,
                resource,
                settings=(options.config or DEFAULT_CONFIG).auth,
                environ=environ,
                base_url=base_url,
                url=action.transport.server or base_url,
                caller=options.caller,
            )
        request = build_request(
            action, arguments, base_url=base_url, auth=chosen, redactor=redactor
        )
    except AuthRefused as exc:
        return ToolResult.failure(tool, ErrorCategory.AUTH, str(exc))
    except RequestError as exc:
        return ToolResult.failure(tool, ErrorCategory.VALIDATION, str(exc))
    return action, request, resource


def call(
    schema: Contract,
    tool: str,
    given: Mapping[str, Any],
    options: CallOptions,
    *,
    environ: Mapping[str, str],
    transport: Transport | None = None,
    history: History | None = None,
    session: str = "",
) -> ToolResult:
    """Run one call; with a history, record it (whatever the outcome) before returning."""
    started = time.perf_counter()
    tool = audit.printable(tool)  # a name that is not text cannot be echoed or recorded as is
    try:
        return _call(schema, tool, given, options, environ, transport, history, session, started)
    except Exception as exc:  # the last resort: the executor never raises
        result = audit.internal(tool, exc)
        try:
            hide = redactor_of(schema, options, environ)
        except Exception:
            hide = NO_REDACTION
        info = _audited(tool, given, session, hide, started, options)
        return audit.record(history, info, hide.result(result))


def _audited(
    tool: str, given: Any, session: str, hide: Redactor, started: float, options: CallOptions
) -> audit.Call:
    """What every record of this call shares, its caller included."""
    caller = recorded(options.caller)
    return audit.Call(tool, given, session=session, redactor=hide, started=started, caller=caller)


def _call(
    schema: Contract,
    tool: str,
    given: Mapping[str, Any],
    options: CallOptions,
    environ: Mapping[str, str],
    transport: Transport | None,
    history: History | None,
    session: str,
    started: float,
) -> ToolResult:
    hide = redactor_of(schema, options, environ)  # every source's secrets
    schema = schema.part_for(tool)  # several sources: the tool's own (contract/sources.py)
    from appctl.execute.bound import cursors_of

    options = cursors_of(schema, tool, options)  # continuations bound to bound values too
    if type(given) is not dict and not isinstance(given, Mapping):
        message = f"the arguments must be a JSON object, got {type(given).__name__}"
        prepared: Any = ToolResult.failure(tool, ErrorCategory.VALIDATION, message)
    else:  # appctl_poll, or a cursor argument opened first (execute/http/resume.py)
        prepared = _poll_tool(schema, tool, given, options, environ, transport, hide)
        if prepared is None:
            prepared = resume.prepare_continued(
                prepare, schema, tool, given, options.continuations(), options, environ, hide
            )
    if isinstance(prepared, ToolResult):
        result = hide.result(prepared)
        if history is None:
            return result
        info = _audited(tool, given, session, hide, started, options)
        return audit.record(history, info, result)
    action, request, resource = prepared
    paths = shaping(action, given).paths

    def execute() -> ToolResult:
        result = _execute(schema, action, request, resource, options, environ, transport, paths)
        return hide.result(resume.sealed(result, tool, given, options.continuations()))

    if history is None:  # nothing to record: the plain path
        return execute()
    info = _audited(tool, given, session, hide, started, options)
    info.request = request.line()
    if action.long_running is not None:  # its begun row says "polling" while polled (the
        # options are read by execute() when it runs)
        options = replace(options, progress=audit.polling(history, info, options.progress))
    if options.dry_run or action.safety == Safety.READ_ONLY:
        return audit.record(history, info, execute())
    return audit.write(history, info, execute)


def _execute(
    schema: Contract,
    action: Action,
    request: Request | SqlPlan,
    resource: str,
    options: CallOptions,
    environ: Mapping[str, str],
    transport: Transport | None,
    paths: tuple[FieldPath, ...] = (),
) -> ToolResult:
    if isinstance(request, SqlPlan):
        return _run_sql(schema, action, request, options, environ, resource)
    if isinstance(request, McpCall):
        return _run_mcp(schema, action, request, options, environ, resource)
    polling = None
    if action.long_running is not None and not options.dry_run:
        from appctl.execute.longcall import polling as polling_for

        try:
            polling = polling_for(
                schema,
                action,
                resource,
                options,
                environ=environ,
                transport=transport,
                redactor=request.redactor,
            )
        except AuthRefused as exc:
            return ToolResult.failure(action.name, ErrorCategory.AUTH, str(exc))
    result = _run_http(
        action, request, options, transport, resource, schema.definitions, polling, paths
    )
    if result.status == 404 and result.error is not None:
        return _route_not_found(schema, action, result, options, environ)
    return result


def _poll_tool(
    schema: Contract,
    tool: str,
    given: Mapping[str, Any],
    options: CallOptions,
    environ: Mapping[str, str],
    transport: Transport | None,
    hide: Redactor,
) -> ToolResult | None:
    """``appctl_poll``'s whole call (contract/polltool.py), or None for any other tool."""
    from appctl.contract.polltool import POLL_TOOL, offers_poll

    if tool != POLL_TOOL or not offers_poll(schema):
        return None
    from appctl.execute.longcall import call_poll

    return call_poll(schema, given, options, environ=environ, transport=transport, redactor=hide)


def _route_not_found(
    schema: Contract,
    action: Action,
    result: ToolResult,
    options: CallOptions,
    environ: Mapping[str, str],
) -> ToolResult:
    """A 404 from a route with no ids in its path: unless a required argument names
    something, the route itself was not found, most often because the base URL is wrong.
    Said first, and never "check the ids" (there are none in the path); a route with ids in
    its path keeps the plain suggestion."""
    transport = action.transport
    if not isinstance(transport, HttpTransport) or "{" in transport.path:
        return result
    assert result.error is not None
    from appctl.contract.baseurl import server_path

    base = transport.server or base_url_for(schema, options.base_url, options.config, environ)
    hint = (
        f"{transport.method} {transport.path} has no ids in its path, so a 404 most likely "
        f"means the route is not under the base URL {base}: check it (--base-url, "
        "config.yaml base_url or APPCTL_BASE_URL; a URL with only scheme://host:port keeps "
        "the source's server path"
    )
    path = server_path(schema.servers[0]) if schema.servers else ""
    hint += f" {path})." if path else ")."
    hints = [hint]
    if any(f.required for f in action.parameters):  # "check the ids" would send a model
        # looking for ids the route does not have; say what else a 404 there can mean
        hints.append(
            "If the route is there, the application found nothing the arguments name; "
            "calling again with the same arguments will not help."
        )
    error = result.error.model_copy(update={"suggestions": hints})
    return result.model_copy(update={"error": error})


def _run_sql(
    schema: Contract,
    action: Action,
    plan: SqlPlan,
    options: CallOptions,
    environ: Mapping[str, str],
    resource: str,
) -> ToolResult:
    from appctl.execute.sql.resume import sealing
    from appctl.execute.sql.run import run

    seal = sealing(action, plan.arguments, options.continuations())

    def execute(timeout: float | None) -> ToolResult:
        url = database_url_for(schema, options, environ)
        return run(plan, url, timeout=timeout, budget=options.result_budget, seal=seal)

    # a list fits its page to the budget itself (rows, cursor and has_more decided together),
    # a get its row (values cut, the row kept whole in shape)
    fitted = plan.operation in ("list", "get")
    result = _run(
        action, options, resource, plan.shown, "dry run: nothing was run", execute, fitted=fitted
    )
    ref = schema.database.password if schema.database else None
    if result.error is None or result.error.category != ErrorCategory.AUTH:
        return result
    if ref and schema.database is not None:
        hint = _password_hint(schema.database.url, ref, environ)
        error = result.error.model_copy(update={"suggestions": [hint, *result.error.suggestions]})
        return result.model_copy(update={"error": error})
    return result


def _prepare_mcp(
    schema: Contract, action: Action, arguments: Mapping[str, Any], resource: str
) -> tuple[Action, McpCall, str] | ToolResult:
    from appctl.execute.mcp.call import plan

    made = plan(schema, action, arguments)
    if isinstance(made, str):
        return ToolResult.failure(action.name, ErrorCategory.VALIDATION, made)
    return action, made, resource


def _run_mcp(
    schema: Contract,
    action: Action,
    request: McpCall,
    options: CallOptions,
    environ: Mapping[str, str],
    resource: str,
) -> ToolResult:
    """A call to an upstream MCP server's tool (execute/mcp/)."""
    from appctl.execute.mcp.call import run

    def execute(timeout: float | None) -> ToolResult:
        return run(action, request, schema.definitions, environ=environ, timeout=timeout)

    dry = "dry run: nothing was sent"
    return _run(action, options, resource, request.redacted, dry, execute)


def _password_hint(url: str, ref: str | None, environ: Mapping[str, str]) -> str:
    """Where the database password was looked for, said exactly (``credentials.py``)."""
    from appctl.sync.db.credentials import family_of, sources

    named = ref[4:] if ref and ref.startswith("env:") else None
    family = family_of(url.split(":", 1)[0])
    if named and not environ.get(named):
        return (
            f"Set {named} to the database password; it is looked for in {sources(family, named)}."
        )
    where = sources(family, named)
    return f"Check the database user and password; the password is looked for in {where}."


def _run_http(
    action: Action,
    request: Request,
    options: CallOptions,
    transport: Transport | None,
    resource: str,
    definitions: dict[str, Any],
    polling: Polling | None = None,
    paths: tuple[FieldPath, ...] = (),
) -> ToolResult:
    from appctl.execute.conform import conform
    from appctl.execute.http.paging import documented_headers
    from appctl.execute.http.send import send

    def execute(timeout: float | None) -> ToolResult:
        if polling is not None:  # sent once, then its operation followed to its end
            from appctl.execute.http.poll import send_and_follow

            idempotent = action.idempotent
            result = send_and_follow(
                request, idempotent=idempotent, timeout=timeout, polling=polling
            )
        else:
            result = send(
                action.name,
                request,
                idempotent=action.idempotent,
                transport=transport,
                timeout=timeout,
                documented=documented_headers(action),
            )
        return conform(result, action, definitions)  # before any cut: the whole answer

    def finish(raw: ToolResult, shown: ToolResult, cut: bool) -> ToolResult:
        return resume.with_next(action, request, raw, shown, cut=cut)

    dry = "dry run: nothing was sent"
    return _run(
        action, options, resource, request.redacted, dry, execute, finish=finish, paths=paths
    )


def _run(
    action: Action,
    options: CallOptions,
    resource: str,
    shown: Callable[[], dict[str, Any]],
    dry_note: str,
    execute: Callable[[float | None], ToolResult],
    *,
    fitted: bool = False,
    finish: Callable[[ToolResult, ToolResult, bool], ToolResult] | None = None,
    paths: tuple[FieldPath, ...] = (),
) -> ToolResult:
    """What every transport shares: dry run, per-tool limits, never raising, the size budget.
    ``shown`` gives the request a dry run shows; ``execute`` does the I/O, given the timeout
    to apply; ``fitted`` says it already fit its data to the budget (a cut here could drop
    rows its paging has passed); ``finish`` is given the result as answered, as shown and
    whether the budget cut it (HTTP: its next page)."""
    if options.dry_run:
        return ToolResult(ok=True, tool=action.name, request=shown(), data=dry_note)
    from appctl.execute.limits import PROCESS, OverLimit

    limits = (options.config or DEFAULT_CONFIG).limits(action, resource, options.caller)
    try:
        counted = _counted_as(action, options.caller, limits)  # per caller where a rule says
        with (options.limiter or PROCESS).admitted(counted, limits):
            result = execute(options.timeout or limits.timeout)
    except OverLimit as exc:
        return ToolResult.failure(action.name, ErrorCategory.RATE_LIMITED, str(exc))
    except RequestError as exc:
        return ToolResult.failure(action.name, ErrorCategory.VALIDATION, str(exc))
    except Exception as exc:  # the executor never raises to a model
        message = f"{type(exc).__name__}: {exc}"
        return ToolResult.failure(action.name, ErrorCategory.INTERNAL, message)
    if fitted:
        return result
    raw = result
    if paths:  # before the budget: what is left out to fit is counted after projecting
        result = shaped(result, paths)
    result, cut = _fit(action, result, options.result_budget)
    return finish(raw, result, cut) if finish is not None else result


def _counted_as(action: Action, caller: Caller | None, limits: Limits) -> str:
    """What a call's concurrency and rate limits count against: its tool, or its tool and
    caller when a rule on callers set them (each caller has the limit to itself)."""
    if limits.per_caller and caller is not None:
        return f"{action.name} for {caller.name}"
    return action.name


def _fit(action: Action, result: ToolResult, budget: int) -> tuple[ToolResult, bool]:
    """The result's data (or its unchecked data) fit to the size budget, saying so; and
    whether it was cut."""
    key = result.body_key
    data, note = fit(result.body, budget, hint=page_hint(action))
    if note is None:
        return result, False
    return result.model_copy(update={key: data, "notes": [*result.notes, note]}), True
