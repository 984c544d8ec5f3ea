"""Compare two contracts: which actions were added, removed or changed, what changed in the
contract's own settings (base URL, servers, auth), and a unified diff."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from appctl.contract.models import Auth, Contract

MAX_DIFF_LINES = 400


@dataclass(frozen=True, slots=True)
class ContractDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]
    settings: list[str] = field(default_factory=list)  # "base URL: a → b", "auth scheme ..."

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.settings)

    def summary(self) -> str:
        parts = [
            f"+{len(self.added)} added",
            f"-{len(self.removed)} removed",
            f"~{len(self.changed)} changed",
        ]
        if self.settings:
            parts.append(f"{len(self.settings)} setting(s) changed")
        return ", ".join(parts)


def compare(old: Contract | None, new: Contract) -> ContractDiff:
    before = {a.name: a for a in old.actions()} if old else {}
    after = {a.name: a for a in new.actions()}
    return ContractDiff(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=sorted(n for n in after.keys() & before.keys() if after[n] != before[n]),
        settings=settings_changes(old, new),
    )


def settings_changes(old: Contract | None, new: Contract) -> list[str]:
    """What changed outside the actions: the base URL, the source's servers, the auth schemes
    and the default security requirements, one line each."""
    if old is None:
        return []
    lines = []
    if old.base_url != new.base_url:
        lines.append(f"base URL: {old.base_url or 'none'} → {new.base_url or 'none'}")
    if old.servers != new.servers:
        lines.append(f"servers: {_listed(old.servers)} → {_listed(new.servers)}")
    return lines + _auth_changes(old.auth, new.auth)


def _listed(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def _auth_changes(old: Auth, new: Auth) -> list[str]:
    before = {s.name: s for s in old.schemes}
    after = {s.name: s for s in new.schemes}
    lines = [
        f"auth scheme added: {n} ({after[n].type})" for n in sorted(after.keys() - before.keys())
    ]
    lines += [
        f"auth scheme removed: {n} ({before[n].type})" for n in sorted(before.keys() - after.keys())
    ]
    for name in sorted(after.keys() & before.keys()):
        was, now = before[name].model_dump(), after[name].model_dump()
        keys = sorted(k for k in now if now[k] != was[k])
        if keys:
            lines.append(f"auth scheme changed: {name} ({', '.join(keys)})")
    if old.default != new.default:
        lines.append(f"default security: {_security(old.default)} → {_security(new.default)}")
    return lines


def _security(requirements: list[dict[str, list[str]]]) -> str:
    """A requirement list as text: alternatives joined by " or ", schemes in one by " and "."""
    if not requirements:
        return "none"
    shown = [
        " and ".join(f"{n}[{' '.join(scopes)}]" if scopes else n for n, scopes in r.items())
        or "anonymous"
        for r in requirements
    ]
    return " or ".join(shown)


def unified(old: bytes, new: bytes, *, name: str) -> list[str]:
    """A unified diff of two contract files, cut to MAX_DIFF_LINES lines."""
    lines = list(
        difflib.unified_diff(
            old.decode("utf-8", "replace").splitlines(),
            new.decode("utf-8", "replace").splitlines(),
            fromfile=f"{name} (committed)",
            tofile=f"{name} (from source)",
            lineterm="",
            n=2,
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        cut = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"... {cut} more diff line(s) not shown"]
    return lines
