"""Load and dump the contract files deterministically, and locate the app dir.

``dump_schema`` returns the exact bytes written: stable key order, resources and actions
sorted by name, two-space indent, trailing newline. ``write_atomic`` never leaves a
half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from appctl.contract import jsonfmt
from appctl.errors import ContractError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from appctl.contract.models import Contract

APP_DIR_NAME = ".appctl"
SCHEMA_FILE = "schema.json"
TOOLS_FILE = "tools.json"
OVERRIDES_FILE = "overrides.yaml"

# Optional keys left out of the file when they hold their "nothing here" value.
_DROP_WHEN_FALSY = {
    "field": ("required", "description", "deprecated", "hidden", "allow_reserved", "headers"),
    "action": ("description", "tags", "deprecated", "responses"),
    "auth_scheme": ("credentials", "description", "scopes"),
}


def find_app_dir(explicit: str | os.PathLike[str] | None, *, cwd: Path | None = None) -> Path:
    """``--app-dir`` if given, else the nearest ``.appctl/`` above ``cwd``, else ``./.appctl``."""
    if explicit is not None:
        return Path(explicit)
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        candidate = folder / APP_DIR_NAME
        if candidate.is_dir():
            return candidate
    return start / APP_DIR_NAME


def _implied_servers(data: dict[str, Any]) -> list[str]:
    """What a contract file without ``servers`` means: the base URL is the source's server.
    (So a contract whose base URL came from its source does not say it twice, and one written
    before ``servers`` was recorded reads as such.)"""
    base = data.get("base_url")
    return [base] if isinstance(base, str) and base else []


def _prune(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("servers") == _implied_servers(data):
        del data["servers"]
    if not data.get("mcp_servers"):  # only an MCP source has any
        data.pop("mcp_servers", None)
    for server in data.get("mcp_servers", {}).values():
        for key in ("args", "env", "headers"):
            if not server.get(key):
                server.pop(key, None)
    for scheme in data.get("auth", {}).get("schemes", []):
        _drop_falsy(scheme, _DROP_WHEN_FALSY["auth_scheme"])
    for resource in data.get("resources", []):
        _prune_resource(resource)
    return data


def _prune_resource(resource: dict[str, Any]) -> dict[str, Any]:
    from appctl.contract.models import operation_pointer, usual_idempotent

    for action in resource.get("actions", []):
        _drop_falsy(action, _DROP_WHEN_FALSY["action"])
        http = action.get("transport", {})
        if http.get("kind") == "http":
            if action.get("pointer") == operation_pointer(http["path"], http["method"]):
                del action["pointer"]
            if action.get("idempotent") == usual_idempotent(http["method"]):
                del action["idempotent"]
        body = action.get("transport", {}).get("body")
        if isinstance(body, dict):
            _drop_falsy(body, ("description",))
        for field in action.get("parameters", []):
            _drop_falsy(field, _DROP_WHEN_FALSY["field"])
        for response in action.get("responses", []):
            _drop_falsy(response, ("content", "headers"))
            for header in response.get("headers", {}).values():
                _drop_falsy(header, ("description", "schema"))
        if isinstance(action.get("long_running"), dict):  # contract/longrunning.py
            _drop_falsy(action["long_running"], ("status_headers", "done_values", "failed_values"))
    return resource


def _drop_falsy(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in obj and not obj[key]:
            del obj[key]


def canonical(schema: Contract) -> Contract:
    """The same contract with resources, actions and definitions in their canonical order
    (the contract itself when they already are)."""
    if _in_order(schema):
        return schema
    resources = sorted(schema.resources, key=lambda r: r.name)
    resources = [
        r.model_copy(update={"actions": sorted(r.actions, key=lambda a: a.name)}) for r in resources
    ]
    definitions = dict(sorted(schema.definitions.items()))
    return schema.model_copy(update={"resources": resources, "definitions": definitions})


def _sorted(names: list[str]) -> bool:
    return all(a <= b for a, b in pairwise(names))


def _in_order(schema: Contract) -> bool:
    return (
        _sorted([r.name for r in schema.resources])
        and all(_sorted([a.name for a in r.actions]) for r in schema.resources)
        and _sorted(list(schema.definitions))
    )


def dump_schema(schema: Contract) -> bytes:
    """The bytes of schema.json. Resources are turned into plain data one at a time while
    writing (a large contract is never held whole as dicts beside its text)."""
    schema = canonical(schema)
    data = schema.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"resources"})
    data = _prune(data)
    data["resources"] = jsonfmt.Each(
        schema.resources,
        lambda r: _prune_resource(r.model_dump(mode="json", by_alias=True, exclude_none=True)),
    )
    return dump_json(data)


def dump_json(data: Any) -> bytes:
    """JSON text as appctl writes its files (``jsonfmt``: a line per value that fits)."""
    return jsonfmt.dumps(data)


def parse_schema(raw: bytes, *, origin: str) -> Contract:
    return contract_of(parse_json(raw, origin=origin), origin=origin)


def parse_json(raw: bytes, *, origin: str) -> Any:
    """A contract file's JSON as plain data."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ContractError(f"{origin} is not valid JSON: {exc}") from None


def contract_of(data: Any, *, origin: str) -> Contract:
    """The contract in a contract file's plain data."""
    from pydantic import ValidationError

    from appctl.contract.models import Contract

    if isinstance(data, dict) and "servers" not in data:
        data["servers"] = _implied_servers(data)
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        raise ContractError(_describe_validation(exc, origin)) from None


def _describe_validation(exc: ValidationError, origin: str) -> str:
    lines = [f"{origin} does not match the contract schema ({exc.error_count()} problem(s)):"]
    for err in exc.errors()[:5]:
        where = "/" + "/".join(str(p) for p in err["loc"])
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def load_schema(app_dir: Path) -> Contract:
    path = app_dir / SCHEMA_FILE
    return parse_schema(read_schema(app_dir), origin=str(path))


def read_schema(app_dir: Path) -> bytes:
    """The bytes of ``app_dir``'s schema.json, or a ``ContractError`` saying how to make one."""
    path = app_dir / SCHEMA_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ContractError(
            f"no contract at {path}",
            suggestion="Create one with `appctl sync --openapi SPEC` or `appctl sync --db DSN` "
            "(or pass --app-dir).",
        ) from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def contract_json_schema() -> dict[str, Any]:
    """The JSON Schema of schema.json, for editors validating hand edits."""
    from appctl.contract.models import Contract

    doc = Contract.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "appctl contract (.appctl/schema.json)"
    return doc
