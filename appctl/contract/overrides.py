"""``.appctl/overrides.yaml``: hand edits that every re-sync re-applies.

Takes a freshly synced ``Contract`` and the overrides; returns the edited ``Contract``. Overrides
name actions and parameters by their synced names (which are stable across re-syncs). A rule
matches actions by globs (``fnmatch``, case-sensitive; ``*`` crosses ``/``) on the synced name,
the HTTP path and the tag, and by the method (any case); every key given must hold. The first
matching rule sets the safety; a per-tool ``actions:`` entry wins over every rule. A safety set
here, by either, makes the action's provenance ``declared``: a person decided it. Anything
that names what no longer exists (a rule that matches no action included), loosens instead of
narrowing, makes a schema that fails the JSON Schema metaschema (``maximum: "50"``), or breaks
a naming rule is an ``OverrideError`` listing every problem at once, with "did you mean"
hints.

    actions:
      list_pets:
        name: pets_list            # rename the tool
        description: Lists pets.   # re-describe
        safety: read_only          # re-classify
        hide: false                # hide: true removes the tool
        parameters:
          limit:
            description: Page size.
            required: true         # narrowing only: optional → required
            hide: true             # only for optional params or ones with a default/const
            schema: {maximum: 50}  # narrowing keywords only
    rules:                         # one line for many tools; first matching rule wins
      - {match: {name: "read_*_filter_post"}, safety: read_only}
      - {match: {path: "/*/filter", method: POST}, safety: read_only}
    resources:
      pets: {description: Pets in the store.}
    base_url: https://api.example.com   # a bare scheme://host:port keeps the servers' path
    auth:                          # schemes the document does not declare (contract/auth.py)
      schemes:
        kinto: {type: basic, username: env:KINTO_USER, password: env:KINTO_PASSWORD}
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic import Field as PField

from appctl.contract.auth import AuthSettings, userinfo_problem, with_added
from appctl.contract.models import (
    Action,
    Contract,
    Field,
    HttpTransport,
    Provenance,
    Resource,
    Safety,
)
from appctl.contract.names import ARG_NAME_RE, TOOL_NAME_RE
from appctl.errors import OverrideError, did_you_mean

NARROWING_KEYS = frozenset(
    (
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "format",
        "default",
        "examples",
        "multipleOf",
        "uniqueItems",
        "maxProperties",
        "minProperties",
    )
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterOverride(_Strict):
    name: str | None = None
    description: str | None = None
    required: bool | None = None
    hide: bool = False
    schema_: dict[str, Any] | None = PField(default=None, alias="schema")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ActionOverride(_Strict):
    name: str | None = None
    summary: str | None = None
    description: str | None = None
    safety: Safety | None = None
    hide: bool = False
    parameters: dict[str, ParameterOverride] = {}


class RuleMatch(_Strict):
    name: str | None = None
    path: str | None = None
    method: str | None = None
    tag: str | None = None

    def holds(self, action: Action) -> bool:
        http = action.transport if isinstance(action.transport, HttpTransport) else None
        return (
            (self.name is None or fnmatch.fnmatchcase(action.name, self.name))
            and (
                self.path is None
                or (http is not None and fnmatch.fnmatchcase(http.path, self.path))
            )
            and (
                self.method is None
                or (http is not None and http.method.upper() == self.method.upper())
            )
            and (self.tag is None or any(fnmatch.fnmatchcase(t, self.tag) for t in action.tags))
        )


class Rule(_Strict):
    match: RuleMatch
    safety: Safety

    @model_validator(mode="after")
    def _something_to_match(self) -> Rule:
        if not self.match.model_dump(exclude_none=True):
            raise ValueError("match: give at least one of name, path, method, tag")
        return self


class ResourceOverride(_Strict):
    description: str | None = None


class Overrides(_Strict):
    base_url: str | None = None
    actions: dict[str, ActionOverride] = {}
    rules: list[Rule] = []
    resources: dict[str, ResourceOverride] = {}
    auth: AuthSettings = PField(default_factory=AuthSettings)

    @field_validator("auth")
    @classmethod
    def _shared_credentials(cls, value: AuthSettings) -> AuthSettings:
        """The contract is every caller's: a per-user credential belongs in config.yaml."""
        for name, scheme in value.schemes.items():
            if scheme.per_user():
                raise ValueError(
                    f"scheme {name!r} takes each caller's own credential (header: or "
                    "caller:token), which belongs under auth.schemes in .appctl/config.yaml; "
                    "overrides.yaml writes its schemes into the contract, shared by every caller"
                )
        return value


def load_overrides(path: Path) -> Overrides | None:
    """The overrides file, validated; None when there is none."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OverrideError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        return Overrides()
    if not isinstance(data, dict):
        raise OverrideError(
            f"{path} must be a mapping with actions:, rules:, resources:, base_url:"
        )
    try:
        return Overrides.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:10]
        ]
        raise OverrideError(
            f"{path} is not a valid overrides file:\n" + "\n".join(problems)
        ) from None


def apply_overrides(schema: Contract, overrides: Overrides) -> Contract:
    problems: list[str] = []
    names = [a.name for a in schema.actions()]
    for key in overrides.actions:
        if key not in names:
            problems.append(f"actions.{key}: no action named {key!r}.{did_you_mean(key, names)}")
    resource_names = [r.name for r in schema.resources]
    for key in overrides.resources:
        if key not in resource_names:
            problems.append(
                f"resources.{key}: no resource named {key!r}.{did_you_mean(key, resource_names)}"
            )
    actions = schema.actions()
    for index, rule in enumerate(overrides.rules):
        if not any(rule.match.holds(a) for a in actions):
            given = rule.match.model_dump(exclude_none=True).items()
            shown = ", ".join(f"{k}: {v!r}" for k, v in given)
            problems.append(f"rules.{index}: matches no action ({shown})")
    if overrides.auth.allowed_origins:
        problems.append("auth.allowed_origins: belongs in .appctl/config.yaml, not in overrides")
    if overrides.base_url and userinfo_problem(overrides.base_url):
        problems.append(f"base_url: {userinfo_problem(overrides.base_url)}")
    schema = with_added(schema, overrides.auth)
    resources = [_apply_resource(r, overrides, problems) for r in schema.resources]
    resources = [r for r in resources if r.actions]
    _check_unique([a.name for r in resources for a in r.actions], problems)
    if problems:
        raise OverrideError(
            "overrides.yaml names things the contract does not have, or breaks a rule:\n  "
            + "\n  ".join(problems)
        )
    update: dict[str, Any] = {"resources": resources}
    if overrides.base_url:  # the same rule as --base-url: a bare host keeps the server's path
        from appctl.contract.baseurl import resolve

        update["base_url"] = resolve(overrides.base_url, schema.servers)
    return schema.model_copy(update=update)


def _apply_resource(resource: Resource, overrides: Overrides, problems: list[str]) -> Resource:
    actions = []
    for action in resource.actions:
        action = _apply_rules(action, overrides.rules)
        edit = overrides.actions.get(action.name)
        if edit is None:
            actions.append(action)
        elif not edit.hide:
            actions.append(_apply_action(action, edit, problems))
    update: dict[str, Any] = {"actions": actions}
    res_edit = overrides.resources.get(resource.name)
    if res_edit and res_edit.description is not None:
        update["description"] = res_edit.description
    return resource.model_copy(update=update)


def _apply_rules(action: Action, rules: list[Rule]) -> Action:
    """The first matching rule's safety, declared by the person who wrote it."""
    rule = next((r for r in rules if r.match.holds(action)), None)
    if rule is None:
        return action
    return action.model_copy(update={"safety": rule.safety, "provenance": Provenance.DECLARED})


def _apply_action(action: Action, edit: ActionOverride, problems: list[str]) -> Action:
    where = f"actions.{action.name}"
    update: dict[str, Any] = {
        k: v
        for k, v in (
            ("summary", edit.summary),
            ("description", edit.description),
            ("safety", edit.safety),
        )
        if v is not None
    }
    if edit.safety is not None:
        update["provenance"] = Provenance.DECLARED
    if edit.name is not None:
        if TOOL_NAME_RE.match(edit.name):
            update["name"] = edit.name
        else:
            problems.append(f"{where}.name: {edit.name!r} must match {TOOL_NAME_RE.pattern}")
    known = [f.name for f in action.parameters]
    for key in edit.parameters:
        if key not in known:
            problems.append(
                f"{where}.parameters.{key}: no parameter named {key!r}.{did_you_mean(key, known)}"
            )
    update["parameters"] = [
        _apply_parameter(f, edit.parameters[f.name], f"{where}.parameters.{f.name}", problems)
        if f.name in edit.parameters
        else f
        for f in action.parameters
    ]
    _check_unique([f.name for f in update["parameters"]], problems, what=f"{where} parameter")
    return action.model_copy(update=update)


def _apply_parameter(
    field: Field, edit: ParameterOverride, where: str, problems: list[str]
) -> Field:
    update: dict[str, Any] = {}
    if edit.name is not None:
        if ARG_NAME_RE.match(edit.name):
            update.update(name=edit.name, wire_name=field.wire)
        else:
            problems.append(f"{where}.name: {edit.name!r} must match {ARG_NAME_RE.pattern}")
    if edit.description is not None:
        update["description"] = edit.description
    if edit.required is not None:
        if field.required and not edit.required:
            problems.append(f"{where}.required: cannot make a required parameter optional")
        update["required"] = edit.required
    schema = dict(field.schema_)
    if edit.schema_:
        schema = _narrow(schema, edit.schema_, where, problems)
        update["schema_"] = schema
    if edit.hide:
        required = update.get("required", field.required)
        if required and "default" not in schema and "const" not in schema:
            problems.append(
                f"{where}.hide: a required parameter can only be hidden with a "
                "default or const value (set it under schema:)"
            )
        update["hidden"] = True
    return field.model_copy(update=update)


def _narrow(
    schema: dict[str, Any], edit: dict[str, Any], where: str, problems: list[str]
) -> dict[str, Any]:
    for key, value in edit.items():
        if key not in NARROWING_KEYS:
            problems.append(
                f"{where}.schema.{key}: not a narrowing keyword "
                f"(use one of {', '.join(sorted(NARROWING_KEYS))})"
            )
        elif key == "enum" and isinstance(schema.get("enum"), list) and isinstance(value, list):
            extra = [v for v in value if v not in schema["enum"]]
            if extra:
                problems.append(f"{where}.schema.enum: {extra!r} are not allowed by the source")
    narrowed = {**schema, **{k: v for k, v in edit.items() if k in NARROWING_KEYS}}
    problem = schema_problem(narrowed) if narrowed != schema else None
    if problem is not None:
        problems.append(
            f"{where}.schema: the narrowed schema is not a valid JSON Schema ({problem}); "
            "fix the values under schema:"
        )
    return narrowed


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` is not a valid JSON Schema 2020-12 (the metaschema, and its patterns
    compile), or None."""
    import jsonschema_rs

    try:
        jsonschema_rs.validator_for(schema)
    except jsonschema_rs.ValidationError as exc:
        return str(exc.message)
    return None


def _check_unique(names: list[str], problems: list[str], *, what: str = "action") -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(f"two {what}s would both be named {name!r}")
        seen.add(name)
