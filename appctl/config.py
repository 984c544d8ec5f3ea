"""Per-tool policy and runtime settings from ``.appctl/config.yaml``.

    history:
      url: postgresql+psycopg://appctl@db/appctl   # default: sqlite:///.appctl/history.db
    policy:                                        # first matching rule wins
      - {match: {name: "delete_*"}, action: deny}
      - {match: {resource: pets, verb: create}, action: allow}
      - {match: {safety: mutating}, action: ask}
      - {match: {source: db, verb: delete}, action: deny}  # a named source (sync --name)
      - {match: {name: "search_*"}, timeout: 5, max_concurrency: 2, rate_limit: 10/s}
      - {match: {name: "create_export"}, wait: 300}  # long-running: poll up to 5 minutes
      - {match: {caller: "ops-*"}, action: allow}  # who asks: Caller.name (local:<user> on the CLI)
      - {match: {group: "admins", verb: delete}, action: ask}  # any of the caller's groups
      - {match: {name: "orders_*"}, bind: {customer_id: {from_claim: cust}}}  # execute/bound.py
      - {match: {safety: destructive}, approval: {timeout: 600}}  # serve: wait for a person
    base_url: https://api.example.com                 # else the contract's (or APPCTL_BASE_URL)
    toolsets:                                      # appctl mcp --toolset pets
      pets: {include: ["*_pet*"], read_only: true}
    default_provider: claude                       # appctl run / chat (see agent/profiles.py)
    providers:
      claude: {kind: anthropic, model: claude-sonnet-4-5, api_key: env:ANTHROPIC_API_KEY}
    cursors: {key: env:APPCTL_CURSOR_KEY, ttl: 3600}  # default: .appctl/cursor.key, 1 hour
    results: {frame: false}                        # tool results to models not framed as data

``allow`` runs a tool without asking, ``ask`` needs approval (the default for tools that
change data), ``deny`` refuses it: the first rule with an action decides. Limits (timeout,
max_concurrency, rate_limit, wait) are each taken from the first matching rule that sets them,
and bindings (``bind``: an argument set from a claim of the caller's identity, never by the
model) from every matching rule, the first to bind a parameter deciding it. Every key of a
match must hold; names and resources are globs, and so are ``caller`` (on ``Caller.name``)
and ``group`` (holds when any of the caller's groups matches): a rule with either never
matches a call that names no caller.
``approval: {timeout: N}`` puts the calls a rule matches that need approval in ``appctl
serve``'s approval queue, where they wait up to N seconds (default 120) for a person before
they are refused (the first matching rule that sets it); without one, ``serve`` refuses them
at once, as before.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from appctl.contract.auth import AuthSettings
from appctl.contract.inbound import InboundSettings
from appctl.contract.models import Action, Safety, Verb
from appctl.errors import UsageError

CONFIG_FILE = "config.yaml"
Decision = Literal["allow", "ask", "deny"]

# ``providers:`` (appctl run / chat): one profile per name; agent/profiles.py resolves them.
Kind = Literal["openai", "azure", "anthropic", "gemini"]
KINDS: tuple[Kind, ...] = ("openai", "azure", "anthropic", "gemini")


class ProviderProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    model: str = Field(min_length=1)
    base_url: str | None = None
    api_key: str | None = None  # env:NAME
    api_version: str | None = None  # Azure OpenAI
    timeout: float = Field(default=120.0, gt=0)  # seconds per request
    max_retries: int = Field(default=2, ge=0, le=10)  # on 429, 5xx and dropped connections
    max_tokens: int | None = Field(default=None, ge=1)  # output tokens per reply
    context_tokens: int = Field(default=128_000, ge=2_000)  # the model's context window
    temperature: float | None = Field(default=None, ge=0, le=2)
    stream: bool = True

    @field_validator("api_key")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("env:") and len(value) > 4):
            raise ValueError(
                "api_key must be an env:NAME reference (the variable holding the key), "
                "never the key itself"
            )
        return value


class Caller(Protocol):
    """Who asks, as policy sees it (``appctl.execute.caller.Caller``): its audit name and
    its groups."""

    @property
    def name(self) -> str: ...

    @property
    def groups(self) -> tuple[str, ...]: ...


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    name: str | None = None
    resource: str | None = None
    verb: Verb | None = None
    safety: Safety | None = None
    source: str | None = None  # a named source of the app dir (contract/sources.py), a glob
    caller: str | None = None  # a glob on Caller.name
    group: str | None = None  # a glob: holds when any of the caller's groups matches

    def holds(self, action: Action, resource: str, caller: Caller | None = None) -> bool:
        return (
            (self.name is None or fnmatch.fnmatchcase(action.name, self.name))
            and (self.source is None or fnmatch.fnmatchcase(action.source_name, self.source))
            and (self.resource is None or fnmatch.fnmatchcase(resource, self.resource))
            and (self.verb is None or action.verb == self.verb)
            and (self.safety is None or action.safety == self.safety)
            and self.holds_for(caller)
        )

    def holds_for(self, caller: Caller | None) -> bool:
        """The caller and group keys hold (each unset, or it matches; never with no caller)."""
        if self.caller is None and self.group is None:
            return True
        if caller is None:
            return False
        return (self.caller is None or fnmatch.fnmatchcase(caller.name, self.caller)) and (
            self.group is None or any(fnmatch.fnmatchcase(g, self.group) for g in caller.groups)
        )


class Bound(_Strict):
    """Where a bound argument's value comes from: a claim of the caller's identity."""

    from_claim: str = Field(min_length=1)


APPROVAL_TIMEOUT = 120.0  # seconds, for ``approval: {}`` without a timeout


class ApprovalRule(_Strict):
    """``approval: {timeout: N}``: the calls this rule matches wait in ``appctl serve``'s
    approval queue for a person, up to N seconds (default 120, at most a day)."""

    timeout: float = Field(default=APPROVAL_TIMEOUT, gt=0, le=86400)


class Rule(_Strict):
    match: Match = Field(default_factory=Match)
    action: Decision | None = None  # None: this rule only sets limits
    timeout: float | None = Field(default=None, gt=0)  # seconds per call, retries included
    max_concurrency: int | None = Field(default=None, ge=1)
    rate_limit: str | None = Field(
        default=None, pattern=r"^\d+/(s|sec|second|m|min|minute|h|hour)$"
    )
    # seconds a long-running operation's status is polled in total before the call answers
    # with a handle to keep waiting (appctl_poll); 0: answer with the handle at once
    wait: float | None = Field(default=None, ge=0)
    # arguments set from the caller's identity (execute/bound.py): hidden from models
    bind: dict[str, Bound] = Field(default_factory=dict)
    approval: ApprovalRule | None = None  # how a call waits for a person (appctl serve)

    @model_validator(mode="after")
    def _bound_for_everyone(self) -> Rule:
        if self.bind and (self.match.caller is not None or self.match.group is not None):
            raise ValueError(
                "bind: applies to every caller of a tool (the tool a model is shown has no "
                "such argument for anyone): leave caller: and group: out of this rule's match"
            )
        return self

    def per_second(self) -> float | None:
        """The rate limit as calls per second."""
        if self.rate_limit is None:
            return None
        count, unit = self.rate_limit.split("/")
        seconds = {
            "s": 1,
            "sec": 1,
            "second": 1,
            "m": 60,
            "min": 60,
            "minute": 60,
            "h": 3600,
            "hour": 3600,
        }[unit]
        return int(count) / seconds


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float | None = None
    max_concurrency: int | None = None
    per_second: float | None = None
    wait: float | None = None  # Rule.wait: seconds a long-running operation is polled
    # a rule matching on caller or group set them: each caller's calls are counted apart
    per_caller: bool = False


NO_LIMITS = Limits()


class HistorySettings(_Strict):
    url: str | None = None


class Toolset(_Strict):
    """A named selection of tools for ``appctl mcp --toolset NAME``."""

    include: list[str] = Field(default_factory=list)  # globs on name, resource or tag
    exclude: list[str] = Field(default_factory=list)
    read_only: bool = False


class CursorSettings(_Strict):
    """How continuations (next-page cursors, operation handles) are signed: ``key`` an
    ``env:NAME`` reference to a shared secret (several servers behind one balancer must share
    it), else ``.appctl/cursor.key``; ``ttl`` seconds a handle stays valid."""

    key: str | None = None
    ttl: float = Field(default=3600.0, gt=0, le=30 * 86400)

    @field_validator("key")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("env:") or len(value) <= 4):
            raise ValueError("cursors.key must be an env:NAME reference, not the key itself")
        return value


class ResultSettings(_Strict):
    """How results reach a model: ``frame`` marks them as untrusted data with a per-call
    nonce (``execute.framing``); off for clients that render results themselves."""

    frame: bool = True


class ConsoleSettings(_Strict):
    """Roles in ``appctl serve``'s ``/ui`` console (and its ``/approvals`` API): globs on
    ``Caller.name``, or ``group:GLOB`` on any of the caller's groups. Viewers browse and
    dry-run; approvers also call tools and decide pending approvals. Without
    ``approvers``, every caller the server lets in approves (as its API lets them call);
    a caller whose scopes allow reads only never does."""

    approvers: list[str] | None = None
    viewers: list[str] = Field(default_factory=lambda: ["*"])


class Config(_Strict):
    base_url: str | None = None
    auth: AuthSettings = Field(default_factory=AuthSettings)  # added schemes, allowed origins
    history: HistorySettings = Field(default_factory=HistorySettings)
    policy: list[Rule] = Field(default_factory=list)
    providers: dict[str, ProviderProfile] = Field(default_factory=dict)  # appctl run / chat
    default_provider: str | None = None
    toolsets: dict[str, Toolset] = Field(default_factory=dict)  # appctl mcp --toolset
    cursors: CursorSettings = Field(default_factory=CursorSettings)
    results: ResultSettings = Field(default_factory=ResultSettings)  # framing for models
    inbound: InboundSettings = Field(default_factory=InboundSettings)  # serve/mcp callers
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)  # /ui roles

    def decide(
        self, action: Action, resource: str, caller: Caller | None = None
    ) -> tuple[Decision, int | None]:
        """The first matching rule's decision and its index; else the default by safety.
        ``caller``: who asks (None: nobody, and no rule on caller or group matches)."""
        for index, rule in enumerate(self.policy):
            if rule.action is not None and rule.match.holds(action, resource, caller):
                return rule.action, index
        return ("allow" if action.safety == Safety.READ_ONLY else "ask"), None

    def limits(self, action: Action, resource: str, caller: Caller | None = None) -> Limits:
        """Each limit from the first matching rule that sets it (for this caller)."""
        if not self.policy:
            return NO_LIMITS
        rules = [r for r in self.policy if r.match.holds(action, resource, caller)]
        return Limits(
            timeout=next((r.timeout for r in rules if r.timeout is not None), None),
            max_concurrency=next(
                (r.max_concurrency for r in rules if r.max_concurrency is not None), None
            ),
            per_second=next((r.per_second() for r in rules if r.rate_limit is not None), None),
            wait=next((r.wait for r in rules if r.wait is not None), None),
            per_caller=any(_limiting(r) and not r.match.holds_for(None) for r in rules),
        )

    def approval_timeout(
        self, action: Action, resource: str, caller: Caller | None = None
    ) -> float | None:
        """Seconds a call by ``caller`` waits for a person (the first matching rule's
        ``approval``), or None: no rule queues it, and a call needing approval is refused at
        once."""
        for rule in self.policy:
            if rule.approval is not None and rule.match.holds(action, resource, caller):
                return rule.approval.timeout
        return None


def _limiting(rule: Rule) -> bool:
    return (rule.max_concurrency, rule.rate_limit) != (None, None)


def load_config(app_dir: Path) -> Config:
    import yaml

    path = app_dir / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    try:
        data = yaml.safe_load(text) or {}
        return Config.model_validate(data)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:8]]
        raise UsageError(
            f"{path} is not a valid config:\n" + "\n".join(problems),
            suggestion="See the policy:, history: and providers: keys in the README.",
        ) from None
