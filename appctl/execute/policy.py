"""Per-tool policy and runtime settings from ``.appctl/config.yaml``.

    history:
      url: postgresql+psycopg://appctl@db/appctl   # default: sqlite:///.appctl/history.db
    policy:                                        # first matching rule wins
      - {match: {name: "delete_*"}, action: deny}
      - {match: {resource: pets, verb: create}, action: allow}
      - {match: {safety: mutating}, action: ask}

``allow`` runs a tool without asking, ``ask`` needs approval (the default for tools that
change data), ``deny`` refuses it. Every key of a match must hold; names and resources are
globs.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appctl.contract.models import Action, Safety, Verb
from appctl.errors import UsageError

CONFIG_FILE = "config.yaml"
Decision = Literal["allow", "ask", "deny"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    name: str | None = None
    resource: str | None = None
    verb: Verb | None = None
    safety: Safety | None = None

    def holds(self, action: Action, resource: str) -> bool:
        return (
            (self.name is None or fnmatch.fnmatchcase(action.name, self.name))
            and (self.resource is None or fnmatch.fnmatchcase(resource, self.resource))
            and (self.verb is None or action.verb == self.verb)
            and (self.safety is None or action.safety == self.safety)
        )


class Rule(_Strict):
    match: Match = Field(default_factory=Match)
    action: Decision


class HistorySettings(_Strict):
    url: str | None = None


class Config(_Strict):
    history: HistorySettings = Field(default_factory=HistorySettings)
    policy: list[Rule] = Field(default_factory=list)

    def decide(self, action: Action, resource: str) -> tuple[Decision, int | None]:
        """The first matching rule's decision and its index; else the default by safety."""
        for index, rule in enumerate(self.policy):
            if rule.match.holds(action, resource):
                return rule.action, index
        return ("allow" if action.safety == Safety.READ_ONLY else "ask"), None


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
            suggestion="See the policy: and history: keys in the README.",
        ) from None
