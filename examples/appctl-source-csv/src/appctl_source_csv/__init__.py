"""An appctl source plugin: HTTP endpoints listed in a CSV file (README.md shows the format)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from appctl.contract.models import (
    Action,
    Contract,
    Field,
    HttpBody,
    HttpTransport,
    Location,
    Resource,
    Safety,
    Source,
    Verb,
)
from appctl.errors import Diagnostic, SourceError
from appctl.sync.plugins import PluginOption

COLUMNS = ("name", "method", "path", "summary", "params")
TYPES = ("string", "integer", "number", "boolean")
LOCATIONS = {"path": Location.PATH, "query": Location.QUERY, "header": Location.HEADER}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class CsvSource:
    """The plugin: ``appctl sync --source csv --option file=... --option base_url=...``."""

    name = "csv"
    summary = "HTTP endpoints listed in a CSV file (name, method, path, summary, params)"
    options = (
        PluginOption("file", "The CSV file of endpoints.", required=True),
        PluginOption(
            "base_url", "Where the API answers, e.g. http://127.0.0.1:8000.", required=True
        ),
        PluginOption("max_rows", "Most endpoints read (default 1000).", type="integer"),
    )

    def build(
        self, options: Mapping[str, Any], *, environ: Mapping[str, str]
    ) -> tuple[Contract, Sequence[Diagnostic]]:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(
                f"cannot read {path}: {exc.strerror}", suggestion="Check --option file=PATH."
            ) from None
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        limit = int(options.get("max_rows", 1000))
        if len(rows) > limit:
            raise SourceError(
                f"{path} lists {len(rows)} endpoints, more than max_rows={limit}",
                suggestion="Raise --option max_rows=N if the file is right.",
            )
        missing = [c for c in COLUMNS if rows and c not in rows[0]]
        if missing:
            raise SourceError(
                f"{path} has no column {', '.join(missing)}",
                suggestion=f"The header row is: {','.join(COLUMNS)}",
            )
        resources: dict[str, list[Action]] = {}
        warnings: list[Diagnostic] = []
        for number, row in enumerate(rows, start=2):
            try:
                resource, action = _action(row)
            except ValueError as exc:
                warnings.append(Diagnostic(f"{exc}; endpoint skipped", pointer=f"line {number}"))
                continue
            resources.setdefault(resource, []).append(action)
        source = Source(
            kind="plugin",
            location=str(path),
            sha256=hashlib.sha256(data).hexdigest(),
            title=path.stem,
        )
        contract = Contract(
            source=source,
            base_url=str(options["base_url"]).rstrip("/"),
            resources=[
                Resource(name=name, actions=acts) for name, acts in sorted(resources.items())
            ],
        )
        return contract, warnings


def _action(row: Mapping[str, str]) -> tuple[str, Action]:
    name, method, path = row["name"].strip(), row["method"].strip().upper(), row["path"].strip()
    if method not in METHODS:
        raise ValueError(f"{name}: method {method!r} is not one of {', '.join(METHODS)}")
    if not path.startswith("/"):
        raise ValueError(f"{name}: path {path!r} does not start with /")
    fields, body = _params(name, row.get("params") or "", path)
    safety = (
        Safety.READ_ONLY
        if method in ("GET", "HEAD")
        else Safety.DESTRUCTIVE
        if method == "DELETE"
        else Safety.MUTATING
    )
    action = Action(
        name=name,
        summary=(row.get("summary") or "").strip(),
        verb=_verb(method, path),
        safety=safety,
        transport=HttpTransport(
            method=method,
            path=path,
            body=HttpBody(content_type="application/json") if body else None,
            accept=["application/json"],
        ),
        parameters=fields,
    )
    return path.strip("/").split("/")[0] or "root", action


def _params(name: str, spec: str, path: str) -> tuple[list[Field], bool]:
    fields: dict[str, Field] = {}
    body = False
    for item in spec.split():
        required = item.endswith("!")
        parts = item.rstrip("!").split(":")
        if len(parts) != 3 or parts[2] not in TYPES or parts[1] not in (*LOCATIONS, "body"):
            raise ValueError(f"{name}: parameter {item!r} is not name:location:type")
        arg, where, kind = parts
        body = body or where == "body"
        location = Location.BODY if where == "body" else LOCATIONS[where]
        fields[arg] = Field(
            name=arg,
            location=location,
            required=required or where == "path",
            schema_={"type": kind},
        )
    for placeholder in _PLACEHOLDER.findall(path):
        if placeholder not in fields:  # undeclared: a string
            fields[placeholder] = Field(
                name=placeholder, location=Location.PATH, required=True, schema_={"type": "string"}
            )
    return list(fields.values()), body


def _verb(method: str, path: str) -> Verb:
    item = path.rstrip("/").endswith("}")
    if method == "GET":
        return Verb.GET if item else Verb.LIST
    verbs = {"POST": Verb.CREATE, "PUT": Verb.UPDATE, "PATCH": Verb.UPDATE, "DELETE": Verb.DELETE}
    return verbs.get(method, Verb.CUSTOM)
