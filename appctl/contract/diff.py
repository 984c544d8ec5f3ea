"""Compare two contracts: which actions were added, removed or changed, and a unified diff."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from appctl.contract.models import Schema

MAX_DIFF_LINES = 400


@dataclass(frozen=True, slots=True)
class ContractDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        parts = [
            f"+{len(self.added)} added",
            f"-{len(self.removed)} removed",
            f"~{len(self.changed)} changed",
        ]
        return ", ".join(parts)


def compare(old: Schema | None, new: Schema) -> ContractDiff:
    before = {a.name: a for a in old.actions()} if old else {}
    after = {a.name: a for a in new.actions()}
    return ContractDiff(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=sorted(n for n in after.keys() & before.keys() if after[n] != before[n]),
    )


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
