"""A synced contract as sync writes it: a ``Contract``, or a database sync's plain form.

A database contract is written and turned into tools straight from its plain form
(``DbSyncResult``) without building the pydantic models, which are made only when something
needs them (overrides, a summary of changes). ``tools_json`` and ``db_tools_json`` give the
same bytes for the same contract (tests/db/test_catalogue.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appctl.contract.models import Contract
    from appctl.generate.toolspec import ToolSpec
    from appctl.sync.db.build import DbSyncResult


class Synced:
    """The contract of one sync; give exactly one of ``schema`` and ``db``."""

    def __init__(self, *, schema: Contract | None = None, db: DbSyncResult | None = None) -> None:
        assert (schema is None) != (db is None)
        self._schema = schema
        self._db = db
        self._specs: list[ToolSpec] | None = None

    @property
    def schema(self) -> Contract:
        if self._schema is None:
            assert self._db is not None
            self._schema = self._db.schema
        return self._schema

    @property
    def source(self) -> tuple[str, str]:
        """The source's kind and location, as schema.json records them."""
        if self._db is not None:
            found = self._db.document["source"]
            return str(found["kind"]), str(found["location"])
        return self.schema.source.kind, self.schema.source.location

    def action_names(self) -> tuple[str, ...]:
        """Every tool's name, sorted."""
        if self._db is not None:
            names = [a.name for r in self._db.resources for a in r.actions]
        else:
            names = [a.name for a in self.schema.actions()]
        return tuple(sorted(names))

    def inferred(self) -> dict[str, tuple[str, ...]]:
        """Tool names whose safety was inferred (not declared), by safety; a database sync
        infers none."""
        if self._db is not None:
            return {}
        from appctl.contract.models import Provenance

        found: dict[str, list[str]] = {}
        for action in sorted(self.schema.actions(), key=lambda a: a.name):
            if action.provenance == Provenance.INFERRED:
                found.setdefault(action.safety.value, []).append(action.name)
        return {safety: tuple(names) for safety, names in found.items()}

    def counts(self) -> tuple[int, int]:
        """Resources and actions."""
        if self._db is not None:
            return len(self._db.resources), self._db.action_count
        return len(self.schema.resources), sum(len(r.actions) for r in self.schema.resources)

    def dump(self) -> bytes:
        """schema.json's bytes."""
        from appctl.contract import io

        if self._db is not None:
            return io.dump_json(self._db.document)
        return io.dump_schema(self.schema)

    def specs(self) -> list[ToolSpec]:
        """The contract's tools (built once: tools.json and the consumer check share them)."""
        if self._specs is None:
            self._specs = db_specs(self._db) if self._db is not None else specs(self.schema)
        return self._specs

    def each_spec(self) -> Iterable[ToolSpec]:
        """The tools one at a time, made as they are looked at (Graph beta's 22k tools are
        not all held at once); a database's are built as one list."""
        if self._specs is not None or self._db is not None:
            return self.specs()
        from appctl.generate.toolspec import iter_tool_specs

        return iter_tool_specs(self.schema)

    def tools(self) -> bytes:
        """tools.json's bytes."""
        return render_tools(self.specs())


def tools_json(schema: Contract) -> bytes:
    return render_tools(specs(schema))


def db_tools_json(db: DbSyncResult) -> bytes:
    """``tools_json`` of a database contract, from its plain form (the same bytes)."""
    return render_tools(db_specs(db))


def specs(schema: Contract) -> list[ToolSpec]:
    from appctl.generate.toolspec import build_tool_specs

    return build_tool_specs(schema)


def db_specs(db: DbSyncResult) -> list[ToolSpec]:
    from appctl.contract.kinds import Safety
    from appctl.generate.toolspec import shared_tool_specs

    return shared_tool_specs(
        ((r.name, a, a.verb, Safety(a.safety)) for r in db.resources for a in r.actions),
        db.definitions,
    )


def render_tools(specs: list[ToolSpec]) -> bytes:
    from appctl.contract.io import dump_json
    from appctl.generate.formats import neutral

    document, _, _ = neutral.render(specs, False)
    return dump_json(document)
