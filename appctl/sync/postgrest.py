"""A PostgREST OpenAPI (Swagger 2.0) document → the contract, with PostgREST's filter syntax
as typed arguments (``--supabase``; sync/supabase.py fetches the document).

PostgREST describes each table or view as ``/<table>`` with GET, POST, PATCH and DELETE (as
the role reading the document may use them), every column as a string query parameter
``rowFilter.<table>.<column>`` whose ``format`` is the PostgreSQL type, and each row under
``definitions``. Those string parameters take any filter text; here each table gets tools
shaped like the SQL tools' (``sync/db/build.py``) instead:

- ``list_<table>``: ``where`` ``{column: {op: value}}`` with ops eq, neq, gt, gte, lt, lte,
  in (a list), like, ilike (text) and is (null, not_null; true, false for booleans), each
  value typed by its column; ``select`` (columns), ``order_by`` (columns, ``-`` for
  descending), ``limit`` and ``offset``;
- ``create_<table>``: one argument per column of the row (the document's ``required``, bar
  an integer primary key);
- ``update_<table>``: the columns to set and a ``where`` that must name a column;
- ``delete_<table>``: a ``where`` that must name a column;
- ``<function>`` for each ``/rpc/<function>``: its arguments as the body.

``where`` and ``order_by`` are query parameters of the styles ``postgrest-filter`` and
``postgrest-order``, which the HTTP executor writes as PostgREST's ``column=op.value`` and
``order=column.asc`` (execute/http/postgrest.py). Writes send ``Prefer: return=representation``
(a hidden argument) so the rows changed come back. Columns whose names are not valid
argument names are left out, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appctl.contract.auth import applies
from appctl.contract.models import (
    Action,
    Auth,
    AuthScheme,
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
from appctl.contract.names import ARG_NAME_RE, tool_name
from appctl.errors import Diagnostic
from appctl.sync.postgrest_args import (
    PREFER,
    body_fields,
    clean,
    field,
    list_options,
    where,
)

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Credentials:
    """Where the calls' keys are read: the project key, and a user's JWT for the bearer."""

    key_env: str
    jwt_env: str | None = None

    def auth(self) -> Auth:
        apikey = AuthScheme(
            name="apikey",
            type="api_key",
            location="header",
            param_name="apikey",
            credentials={"value": f"env:{self.key_env}"},
            description="The project's anon (publishable) key.",
        )
        bearer = AuthScheme(
            name="bearer",
            type="bearer",
            location="header",
            param_name="Authorization",
            credentials={"token": f"env:{self.jwt_env or self.key_env}"},
            description="The user's JWT: row-level security applies to that user."
            if self.jwt_env
            else "The project key as the bearer: row-level security applies to anon.",
            http_scheme="bearer",
        )
        return Auth(schemes=[apikey, bearer], default=[{"apikey": [], "bearer": []}])


@dataclass(frozen=True, slots=True)
class Made:
    schema: Contract
    diagnostics: tuple[Diagnostic, ...]
    counted: int  # tables, views and functions in the document
    filtered: int


def to_contract(
    document: Mapping[str, Any],
    *,
    base_url: str,
    location: str,
    sha256: str,
    credentials: Credentials,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Made:
    """The contract of a PostgREST document (module docstring)."""
    warnings: list[Diagnostic] = []
    resources: list[Resource] = []
    paths = document.get("paths") or {}
    counted = filtered = 0
    for path, item in sorted(paths.items()):
        if path == "/" or not isinstance(item, dict):
            continue
        counted += 1
        resource = _kept(_resource(document, path, item, warnings), include, exclude)
        if resource.actions:
            resources.append(resource)
        else:
            filtered += 1
    info = document.get("info") or {}
    schema = Contract(
        source=Source(
            kind="supabase",
            location=location,
            sha256=sha256,
            format=f"postgrest {info.get('version', '')}".strip(),
            title=str(info.get("title", "")),
        ),
        base_url=base_url,
        auth=credentials.auth(),
        resources=resources,
    )
    return Made(schema, tuple(warnings), counted, filtered)


def _kept(resource: Resource, include: Sequence[str], exclude: Sequence[str]) -> Resource:
    """The resource with only the actions --include names and --exclude does not."""
    kept = [
        a
        for a in resource.actions
        if (not include or applies(list(include), a, resource.name))
        and not applies(list(exclude), a, resource.name)
    ]
    return resource.model_copy(update={"actions": kept})


def _resource(
    document: Mapping[str, Any], path: str, item: Mapping[str, Any], warnings: list[Diagnostic]
) -> Resource:
    name = path.strip("/")
    if name.startswith("rpc/"):
        return Resource(name=name.replace("/", "_"), actions=[_rpc(document, path, item)])
    definition = (document.get("definitions") or {}).get(name) or {}
    columns = _columns(definition, path, warnings)
    required = set(definition.get("required") or ())
    description = clean(str(definition.get("description", "")))
    actions = []
    if "get" in item:
        actions.append(_list(name, path, columns, item["get"]))
    if "post" in item:
        body = body_fields(columns, required=required - _generated(columns))
        actions.append(_write(name, path, "POST", Verb.CREATE, Safety.MUTATING, body, item["post"]))
    if "patch" in item:
        fields = [where(columns, required=True), *body_fields(columns, required=set())]
        actions.append(
            _write(name, path, "PATCH", Verb.UPDATE, Safety.MUTATING, fields, item["patch"])
        )
    if "delete" in item:
        fields = [where(columns, required=True)]
        actions.append(
            _write(name, path, "DELETE", Verb.DELETE, Safety.DESTRUCTIVE, fields, item["delete"])
        )
    return Resource(name=name, description=description, actions=actions)


def _columns(
    definition: Mapping[str, Any], path: str, warnings: list[Diagnostic]
) -> dict[str, dict[str, Any]]:
    """Column name → its definition property, for the columns a model can name."""
    out = {}
    for column, prop in (definition.get("properties") or {}).items():
        if not ARG_NAME_RE.match(column):
            warnings.append(
                Diagnostic(
                    f"column {column!r} is not a valid argument name; its tools leave it out",
                    pointer="/paths/" + path.replace("/", "~1"),
                )
            )
            continue
        out[column] = prop if isinstance(prop, dict) else {}
    return out


def _generated(columns: Mapping[str, dict[str, Any]]) -> set[str]:
    """Integer primary keys: PostgREST lists a NOT NULL column as required unless it has a
    default, and an identity column may have none in its catalogue; an integer key is
    almost always generated, so create does not ask for it (it may still be given)."""
    return {
        c
        for c, p in columns.items()
        if p.get("type") == "integer" and "<pk/>" in str(p.get("description", ""))
    }


# PostgREST gives every operation of a table the table's comment as its summary: the tools
# get a summary of what each does, and the comment as their description
SUMMARIES = {
    Verb.LIST: "List rows of {name} (filter with where, sort with order_by).",
    Verb.CREATE: "Add a row to {name}.",
    Verb.UPDATE: "Change the rows of {name} that where matches.",
    Verb.DELETE: "Delete the rows of {name} that where matches.",
}


def _comment(op: Mapping[str, Any]) -> str:
    parts = (str(op.get("summary", "")), str(op.get("description", "")))
    return clean("\n\n".join(p for p in parts if p))


def _list(
    name: str, path: str, columns: Mapping[str, dict[str, Any]], op: Mapping[str, Any]
) -> Action:
    return Action(
        name=tool_name(f"list_{name}"),
        summary=SUMMARIES[Verb.LIST].format(name=name),
        description=_comment(op),
        verb=Verb.LIST,
        safety=Safety.READ_ONLY,
        transport=HttpTransport(method="GET", path=path, accept=[JSON]),
        parameters=[where(columns, required=False), *list_options(list(columns))],
        tags=[name],
    )


def _write(
    name: str,
    path: str,
    method: str,
    verb: Verb,
    safety: Safety,
    fields: list[Field],
    op: Mapping[str, Any],
) -> Action:
    has_body = any(f.location == Location.BODY for f in fields)
    return Action(
        name=tool_name(f"{verb.value}_{name}"),
        summary=SUMMARIES[verb].format(name=name),
        description=_comment(op),
        verb=verb,
        safety=safety,
        transport=HttpTransport(
            method=method,
            path=path,
            body=HttpBody(content_type=JSON) if has_body else None,
            accept=[JSON],
        ),
        parameters=[*fields, PREFER],
        tags=[name],
    )


def _rpc(document: Mapping[str, Any], path: str, item: Mapping[str, Any]) -> Action:
    """A database function: POST /rpc/<name> with its arguments as the JSON body."""
    op = item.get("post") or {}
    params = document.get("parameters") or {}
    schema: Mapping[str, Any] = {}
    for param in op.get("parameters") or ():
        ref = str(param.get("$ref", "")) if isinstance(param, dict) else ""
        found = params.get(ref.rsplit("/", 1)[-1], param) if ref else param
        if isinstance(found, dict) and found.get("in") == "body":
            schema = found.get("schema") or {}
    required = set(schema.get("required") or ())
    fields = [
        field(arg, prop, required=arg in required)
        for arg, prop in (schema.get("properties") or {}).items()
        if ARG_NAME_RE.match(arg) and isinstance(prop, dict)
    ]
    function = path.rsplit("/", 1)[-1]
    return Action(
        name=tool_name(function),
        summary=str(op.get("summary", "")) or f"Call the database function {function}.",
        description=clean(str(op.get("description", ""))),
        verb=Verb.CUSTOM,
        safety=Safety.MUTATING,  # the document does not say whether a function writes
        transport=HttpTransport(
            method="POST", path=path, body=HttpBody(content_type=JSON), accept=[JSON]
        ),
        parameters=fields,
        tags=["rpc"],
    )
