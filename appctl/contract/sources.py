"""Several sources in one app dir: where each is kept, how its tools are named, and how they
are loaded into the one ``Contract`` a session runs.

Design (issue 20, item 2)
-------------------------
- Layout. The unnamed source stays where it always was: ``.appctl/schema.json`` (+
  ``overrides.yaml``, ``tools.json``). A named one (``appctl sync --name db --db ...``) lives
  in ``.appctl/sources/<name>/`` with its own ``schema.json``, ``overrides.yaml`` and
  ``tools.json``. ``config.yaml`` (policy, toolsets, history, providers) stays one file for
  the app. A sync writes only its own source's folder, so re-syncing one source leaves every
  other source's files byte-identical. An app dir with no ``sources/`` loads exactly as before.
- Names. A named source's tools are ``<source>_<tool>`` (``fit`` to the 64 characters every
  target format accepts, a hash keeping a cut name unique), given at sync before overrides
  are applied: the committed file holds the names models see, and overrides.yaml, policy and
  toolsets all speak of those names. overrides.yaml may rename a tool (a mapping); a sync
  that would give two sources one tool name is refused (and such files are a load error).
- Loading. ``load_contract`` reads every source and merges them: the merged contract's
  resources are all sources' resources, each action knowing its source (``Action.source_name``,
  which policy's ``match: {source: ...}`` reads), and ``Contract.parts`` maps a source name
  to its own contract. Base URL, servers, auth, database and definitions stay per source: the
  executor runs a call on ``Contract.part_for(tool)`` (one line at its entry), so a tool
  finds its own. For tool listings the merged contract's definitions are the union, a named
  source's renamed ``<source>_<Name>`` (its ``$ref``s with them) so two sources' ``Error``
  never meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appctl.contract import io
from appctl.contract.names import MAX_NAME, fit
from appctl.errors import ContractError, UsageError

if TYPE_CHECKING:
    from appctl.contract.models import Contract

SOURCES_DIR = "sources"
SOURCE_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,19}$")
# a "$ref" key whose value starts "#/definitions/", in a contract file's text, when its quote
# is not escaped. Exact on valid JSON: a quote inside a string is escaped, so a key's
# unescaped opening quote, colon and value quote cannot occur in one (and the file is
# parsed, and so checked, right after).
# (The pattern starts with a literal so that the scan is fast, 5 ms over GitHub's 3.5 MB
# contract where a look-behind first took 45; the quote's backslash is checked per match.)
_REF = re.compile(rb'"\$ref"\s*:\s*"#/definitions/')


def check_source_name(name: str) -> str:
    """``name`` when it can name a source (a folder and a tool-name prefix), else a
    ``UsageError`` saying what can."""
    if SOURCE_NAME_RE.match(name):
        return name
    raise UsageError(
        f"{name!r} cannot name a source",
        suggestion="Use 1-20 lowercase letters and digits, starting with a letter "
        "(e.g. --name github, --name db).",
    )


def source_dir(app_dir: Path, name: str | None) -> Path:
    """Where a source's schema.json, overrides.yaml and tools.json live."""
    return app_dir if not name else app_dir / SOURCES_DIR / check_source_name(name)


def named_sources(app_dir: Path) -> list[str]:
    """The named sources synced into ``app_dir``, sorted."""
    folder = app_dir / SOURCES_DIR
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if SOURCE_NAME_RE.match(p.name) and (p / io.SCHEMA_FILE).is_file()
    )


def prefixed(name: str, tool: str) -> str:
    """A named source's tool name: ``<source>_<tool>``, cut to fit every format."""
    return fit(f"{name}_{tool}", limit=MAX_NAME, key=f"{name}:{tool}")


def namespaced(schema: Contract, name: str) -> Contract:
    """``schema`` with each tool named ``<name>_<tool>`` (sync, before overrides)."""
    resources = [
        r.model_copy(
            update={
                "actions": [
                    a.model_copy(update={"name": prefixed(name, a.name)}) for a in r.actions
                ]
            }
        )
        for r in schema.resources
    ]
    return schema.model_copy(update={"resources": resources})


def load_contract(app_dir: Path) -> Contract:
    """The contract a session runs: ``io.load_schema`` when the app dir has one source (as
    before), else every source merged (see the module docstring)."""
    names = named_sources(app_dir)
    if not names:
        return io.load_schema(app_dir)
    parts: dict[str, Contract] = {}
    if (app_dir / io.SCHEMA_FILE).is_file():
        parts[""] = io.load_schema(app_dir)
    for name in names:
        parts[name] = _load_named(app_dir, name)
    return merge(parts)


def _load_named(app_dir: Path, name: str) -> Contract:
    """A named source's contract, its definitions renamed ``<name>_<Name>`` (with every
    ``$ref`` to them) in the file's plain data, before the models are made."""
    own = source_dir(app_dir, name)
    origin = str(own / io.SCHEMA_FILE)
    prefix = name.encode() + b"_"

    def renamed(match: re.Match[bytes]) -> bytes:
        escaped = match.start() > 0 and match.string[match.start() - 1] == ord("\\")
        return match.group(0) if escaped else match.group(0) + prefix

    raw = _REF.sub(renamed, io.read_schema(own))
    data = io.parse_json(raw, origin=origin)
    if isinstance(data, dict) and isinstance(data.get("definitions"), dict):
        data["definitions"] = {f"{name}_{k}": v for k, v in data["definitions"].items()}
    return io.contract_of(data, origin=origin)


def taken_elsewhere(app_dir: Path, name: str | None, tools: Iterable[str]) -> dict[str, str]:
    """Which of ``tools`` (of source ``name``, None the unnamed one) another source of
    ``app_dir`` already has: tool → that source ("" unnamed). Read from the files' plain
    data, so that a sync beside a large source stays quick."""
    others = [n for n in ("", *named_sources(app_dir)) if n != (name or "")]
    wanted = set(tools)
    found: dict[str, str] = {}
    for other in others:
        own = source_dir(app_dir, other)
        if not (own / io.SCHEMA_FILE).is_file():
            continue
        data = io.parse_json(io.read_schema(own), origin=str(own / io.SCHEMA_FILE))
        for resource in data.get("resources", []) if isinstance(data, dict) else []:
            for action in resource.get("actions", []):
                if action.get("name") in wanted:
                    found.setdefault(action["name"], other)
    return found


def merge(parts: dict[str, Contract]) -> Contract:
    """One contract over ``parts`` (source name → contract; "" the unnamed source)."""
    from appctl.contract.models import Auth, Source

    owner: dict[str, str] = {}
    for name, part in parts.items():
        for action in part.actions():
            action._source = name
            if action.name in owner:
                raise clash_error(action.name, owner[action.name], name)
            owner[action.name] = name
    first = next(iter(parts.values()))
    source = Source(
        kind=first.source.kind,
        location=", ".join(n or "(unnamed)" for n in parts),
        sha256="",
        title=", ".join(_titled(n, p) for n, p in parts.items()),
    )
    merged = first.model_copy(
        update={
            "source": source,
            "base_url": None,
            "servers": [],
            "database": None,
            "auth": Auth(),
            "definitions": _definitions(parts),
            "resources": [r for p in parts.values() for r in p.resources],
        }
    )
    merged._parts = dict(parts)
    merged._part_of = owner
    return merged


def _definitions(parts: dict[str, Contract]) -> dict[str, Any]:
    """Every source's definitions in one mapping (a named source's already renamed)."""
    definitions: dict[str, Any] = {}
    for name, part in parts.items():
        taken = definitions.keys() & part.definitions.keys()
        if taken:  # the unnamed source's own "db_Pet" beside source db's "Pet"
            raise ContractError(
                f"definition {min(taken)!r} of {_said(name)} is also another source's",
                suggestion="Rename it in that source's document, or name the unnamed source.",
            )
        definitions.update(part.definitions)
    return definitions


def _titled(name: str, part: Contract) -> str:
    """``Fixture Pets (pets)``: a source's title and name, whichever it has."""
    title = part.source.title
    return f"{title} ({name})" if title and name else title or name or part.source.location


def _said(name: str) -> str:
    return f"source {name!r}" if name else "the unnamed source"


def clash_error(tool: str, first: str, second: str) -> ContractError:
    """Two sources both having a tool called ``tool``."""
    return ContractError(
        f"tool {tool!r} comes from both {_said(first)} and {_said(second)}",
        suggestion="Rename one of them in that source's overrides.yaml (actions: "
        "{NAME: {name: NEW}}).",
    )
