"""Bound parameters: an argument set from the caller's identity, never by the model.

    policy:
      - {match: {name: "orders_*"}, bind: {customer_id: {from_claim: cust}}}

Every policy rule that matches a tool adds its bindings; the first rule to bind a parameter
decides it (``bindings``). Rules are matched by tool (name, resource, verb, safety, source),
so a tool's arguments are the same for every caller. A bound argument is:

- left out of every tool spec: ``hide_bound`` marks it hidden in the contract a front end
  lists (``Session.open``, which ``call``, ``run``/``chat``, ``mcp`` and ``serve`` share;
  ``appctl tools`` and ``appctl guide``), and hidden arguments are left out of tool schemas,
  the MCP catalogue and the guide alike;
- refused when the model sends it anyway (``validation``, naming the argument and why);
- taken from the caller's claim (``Caller.claims``), checked against the argument's schema; a
  caller without the claim (or whose claim does not fit) gets an ``auth`` result naming it.

A continuation (next-page cursor) is sealed with the bound values too (``sealer_for``), so
a cursor one caller was given cannot page through another caller's bound rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from appctl.config import Config
from appctl.contract.models import Action, Contract, Field, JsonSchema
from appctl.execute.caller import Caller
from appctl.execute.continuation import Sealer
from appctl.execute.memo import IdentityMemo
from appctl.execute.result import ErrorCategory, ToolResult

if TYPE_CHECKING:
    from appctl.execute.executor import CallOptions

_hidden: IdentityMemo[Action] = IdentityMemo()
_validators: IdentityMemo[Any] = IdentityMemo()
BOUND_KEY = "\x00bound"  # where a cursor's binding keeps the bound values (no argument name)


class BindRefused(Exception):
    """The call cannot be bound: ``category`` says whose problem it is."""

    def __init__(self, category: ErrorCategory, message: str) -> None:
        super().__init__(message)
        self.category, self.message = category, message


def bindings(config: Config, action: Action, resource: str) -> dict[str, str]:
    """The action's bound arguments → the claim each is taken from (arguments the action
    does not have are left out)."""
    out: dict[str, str] = {}
    for rule in config.policy:
        if rule.bind and rule.match.holds(action, resource):
            for param, source in rule.bind.items():
                out.setdefault(param, source.from_claim)
    return {param: claim for param, claim in out.items() if action.field(param) is not None}


def hidden(action: Action, names: Mapping[str, str] | frozenset[str]) -> Action:
    """The action with ``names`` hidden from models (itself when they already are); one copy
    per action, so its compiled argument validator is reused call after call."""
    if all(f.hidden for f in action.parameters if f.name in names):
        return action

    def build() -> Action:
        parameters = [
            f.model_copy(update={"hidden": True}) if f.name in names else f
            for f in action.parameters
        ]
        return action.model_copy(update={"parameters": parameters})

    return _hidden.get((action,), build, extra=tuple(sorted(names)))


def hide_bound(schema: Contract, config: Config) -> Contract:
    """The contract with every bound argument hidden: what each front end lists to models.
    Unchanged (the same object) when no rule binds anything."""
    if not any(rule.bind for rule in config.policy):
        return schema
    if schema.parts:  # several sources: each part hidden, then merged again
        from appctl.contract.sources import merge

        return merge({name: hide_bound(part, config) for name, part in schema.parts.items()})
    resources = [
        r.model_copy(
            update={"actions": [hidden(a, bindings(config, a, r.name)) for a in r.actions]}
        )
        for r in schema.resources
    ]
    return schema.model_copy(update={"resources": resources})


@dataclass(frozen=True, slots=True)
class Binding:
    """One call's bound arguments: the action as models see it, and the claim values."""

    action: Action
    values: dict[str, Any]


def bind(
    action: Action,
    bound: Mapping[str, str],
    given: Mapping[str, Any],
    *,
    caller: Caller | None,
    definitions: dict[str, JsonSchema],
) -> Binding:
    """The bound arguments' values for this call; ``BindRefused`` when the model set one or
    the caller has no (valid) claim for it."""
    sent = sorted(param for param in bound if param in given)
    if sent:
        param = sent[0]
        raise BindRefused(
            ErrorCategory.VALIDATION,
            f"argument {param!r} is set from the caller's identity (the {bound[param]!r} "
            f"claim) and cannot be given: call {action.name} without it",
        )
    values = {}
    for param, claim in bound.items():
        field = action.field(param)
        assert field is not None  # bindings() keeps only the action's own arguments
        values[param] = _claimed(action, field, claim, caller, definitions)
    return Binding(hidden(action, bound), values)


def _claimed(
    action: Action,
    field: Field,
    claim: str,
    caller: Caller | None,
    definitions: dict[str, JsonSchema],
) -> Any:
    who = caller.name if caller is not None else "this caller"
    claims = caller.claims if caller is not None else {}
    value = claims.get(claim)
    if value is None:
        how = "call it with a token that carries one"
        if caller is None or caller.kind == "local":  # the CLI has no token, so no claims
            how = f"call it through appctl serve or appctl mcp --transport http, {how}"
        raise BindRefused(
            ErrorCategory.AUTH,
            f"{action.name} takes its {field.name} argument from the {claim!r} claim of the "
            f"caller's identity, and {who} has no {claim!r} claim: {how}",
        )
    validator = _validators.get((field, definitions), lambda: _validator(field, definitions))
    error = next(iter(validator.iter_errors(value)), None)
    if error is not None:
        raise BindRefused(
            ErrorCategory.AUTH,
            f"the {claim!r} claim of {who} is not a valid {field.name} for {action.name}: "
            f"{error.message}",
        )
    return value


def _validator(field: Field, definitions: dict[str, JsonSchema]) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator({**field.schema_, "definitions": definitions})


def for_call(
    schema: Contract,
    action: Action,
    resource: str,
    given: Mapping[str, Any],
    options: CallOptions,
) -> Binding | ToolResult:
    """The call's binding (``executor.prepare``), or the result refusing it; the action as
    it is when nothing is bound."""
    bound = bindings(options.config or Config(), action, resource)
    if not bound:
        return Binding(action, {})
    try:
        return bind(action, bound, given, caller=options.caller, definitions=schema.definitions)
    except BindRefused as exc:
        return ToolResult.failure(action.name, exc.category, exc.message)


def cursors_of(schema: Contract, tool: str, options: CallOptions) -> CallOptions:
    """The options with continuations bound to the call's bound values as well (a cursor
    issued to one caller opens for no caller with another claim)."""
    found = schema.find(tool)
    if found is None or options.config is None:
        return options
    resource, action = found
    bound = bindings(options.config, action, resource.name)
    if not bound:
        return options
    try:
        values = bind(action, bound, {}, caller=options.caller, definitions=schema.definitions)
    except BindRefused:  # prepare refuses the call, saying why
        return options
    return replace(options, sealer=sealer_for(options.continuations(), values.values))


def sealer_for(sealer: Sealer, values: Mapping[str, Any]) -> Sealer:
    """``sealer`` whose continuations are bound to these bound values as well as to the
    model's arguments: another caller's claim opens none of them."""
    if not values:
        return sealer
    return _BoundSealer(
        key=sealer.key, ttl=sealer.ttl, source=sealer.source, _made=sealer._made, values=values
    )


@dataclass(frozen=True, slots=True)
class _BoundSealer(Sealer):
    values: Mapping[str, Any] = None  # type: ignore[assignment]

    def seal(self, tool: str, arguments: Mapping[str, Any], *rest: Any, **kw: Any) -> str:
        return Sealer.seal(self, tool, {**arguments, BOUND_KEY: dict(self.values)}, *rest, **kw)

    def open(self, tool: str, arguments: Mapping[str, Any], *rest: Any, **kw: Any) -> Any:
        return Sealer.open(self, tool, {**arguments, BOUND_KEY: dict(self.values)}, *rest, **kw)
