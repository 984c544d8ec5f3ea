"""Pydantic models of `.appctl/schema.json`: Contract → Resource → Action → Field.

Takes nothing, returns nothing: these are the shapes. Serialization lives in ``io.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator, model_validator
from pydantic import Field as PField

# Re-exported: the enumerations live apart from pydantic (kinds.py).
from appctl.contract.kinds import Location as Location
from appctl.contract.kinds import Provenance as Provenance
from appctl.contract.kinds import Safety as Safety
from appctl.contract.kinds import Verb as Verb
from appctl.contract.longrunning import LongRunning as LongRunning
from appctl.contract.mcptransport import McpServer as McpServer
from appctl.contract.mcptransport import McpTransport as McpTransport
from appctl.contract.paging import Pagination as Pagination
from appctl.contract.responses import Response as Response

SCHEMA_VERSION = 1

JsonSchema = dict[str, Any]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_enum_values=False)


class Field(_Model):
    """One tool argument. ``wire_name`` is kept when the tool-facing name differs.

    How the value is encoded, as the source declares it: ``style``/``explode`` (OpenAPI; a
    Swagger 2.0 ``collectionFormat`` in its 3.x form), ``allow_reserved``, and
    ``content_type`` — a parameter's ``content`` media type, or a body property's Encoding
    Object ``contentType`` — with ``headers``, fixed headers of its multipart part."""

    name: str
    wire_name: str | None = None
    location: Location
    required: bool = False
    description: str = ""
    schema_: JsonSchema = PField(default_factory=dict, alias="schema")
    style: str | None = None
    explode: bool | None = None
    content_type: str | None = None
    allow_reserved: bool = False
    headers: dict[str, str] = PField(default_factory=dict)
    deprecated: bool = False
    hidden: bool = False

    @property
    def wire(self) -> str:
        return self.wire_name or self.name


class HttpBody(_Model):
    """How the body is sent: ``fields`` (each body Field is a property) or ``value`` (one Field)."""

    content_type: str
    required: bool = False
    mode: Literal["fields", "value"] = "fields"
    description: str = ""


class HttpTransport(_Model):
    kind: Literal["http"] = "http"
    method: str
    path: str
    body: HttpBody | None = None
    server: str | None = None
    # the media types the operation answers with (its success responses' content, Swagger
    # 2.0's produces), sent as Accept; None: nothing declared, Accept: */*
    accept: list[str] | None = None


class SqlTransport(_Model):
    kind: Literal["sql"] = "sql"
    dialect: str
    schema_name: str | None = PField(default=None, alias="schema")
    table: str
    operation: str
    key: list[str] = PField(default_factory=list)


Transport = Annotated[HttpTransport | SqlTransport | McpTransport, PField(discriminator="kind")]


# RFC 9110 section 9.2.2 (and the QUERY method's draft): a request of these methods may be
# repeated with the same effect.
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "QUERY"))


def usual_idempotent(method: str) -> bool:
    return method.upper() in IDEMPOTENT_METHODS


def operation_pointer(path: str, method: str) -> str:
    """``/paths/<path>/<method>``: where an operation of the root document is."""
    return "/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method.lower()


class Action(_Model):
    name: str
    summary: str = ""
    description: str = ""
    verb: Verb
    safety: Safety
    provenance: Provenance = Provenance.DECLARED
    transport: Transport
    parameters: list[Field] = PField(default_factory=list)
    tags: list[str] = PField(default_factory=list)
    operation_id: str | None = None
    deprecated: bool = False
    idempotent: bool = False  # left out of the file when ``usual_idempotent`` of its HTTP
    # method says the same, and filled in again on load
    pagination: Pagination | None = None
    responses: list[Response] = PField(default_factory=list)  # documented success answers
    security: list[dict[str, list[str]]] | None = None
    pointer: str = ""  # JSON pointer of the operation; left out of the file when it is
    # ``operation_pointer`` of the transport (the usual case) and filled in again on load
    long_running: LongRunning | None = None  # contract/longrunning.py
    # the named source it was loaded from ("" unnamed or single): set by contract/sources.py
    # on load, never written (policy's ``match: {source: ...}`` reads it)
    _source: str = PrivateAttr(default="")

    @property
    def source_name(self) -> str:
        return self._source

    @model_validator(mode="before")
    @classmethod
    def _usual_idempotence(cls, data: Any) -> Any:
        if isinstance(data, dict) and "idempotent" not in data:
            transport = data.get("transport")
            if isinstance(transport, dict) and transport.get("kind") == "http":
                method = transport.get("method")
                if isinstance(method, str):
                    return {**data, "idempotent": usual_idempotent(method)}
        return data

    @model_validator(mode="after")
    def _usual_pointer(self) -> Action:
        if not self.pointer and isinstance(self.transport, HttpTransport):
            self.pointer = operation_pointer(self.transport.path, self.transport.method)
        return self

    def field(self, name: str) -> Field | None:
        return next((f for f in self.parameters if f.name == name), None)


ColumnKind = Literal[
    "integer",
    "number",
    "decimal",
    "string",
    "boolean",
    "date",
    "datetime",
    "time",
    "interval",
    "uuid",
    "json",
    "binary",
    "array",
    "enum",
    "other",
]


class Column(_Model):
    """One database column as reflected: the database's own type and what appctl makes of it."""

    name: str
    type: str  # as the database names it, e.g. NUMERIC(10, 2)
    kind: ColumnKind
    item_kind: ColumnKind | None = None  # arrays
    nullable: bool = True
    default: str | None = None  # the server default expression
    generated: bool = False  # identity, autoincrement or computed: not an input on create
    computed: bool = False  # computed: never an input
    comment: str = ""
    schema_: JsonSchema = PField(default_factory=dict, alias="schema")  # of a non-null value


class Relation(_Model):
    """A foreign key: ``columns`` of this table refer to ``target_columns`` of ``target``."""

    columns: list[str]
    target: str  # the resource (table) it points at
    target_schema: str | None = None
    target_table: str
    target_columns: list[str]


class Table(_Model):
    schema_name: str | None = PField(default=None, alias="schema")
    name: str
    kind: Literal["table", "view"] = "table"
    comment: str = ""
    columns: list[Column] = PField(default_factory=list)
    primary_key: list[str] = PField(default_factory=list)
    unique: list[list[str]] = PField(default_factory=list)
    relations: list[Relation] = PField(default_factory=list)

    @property
    def qualified(self) -> str:
        return f"{self.schema_name}.{self.name}" if self.schema_name else self.name

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


class Resource(_Model):
    name: str
    description: str = ""
    actions: list[Action] = PField(default_factory=list)
    table: Table | None = None  # SQL resources: the table or view behind the actions


class Source(_Model):
    kind: Literal["openapi", "db", "app", "supabase", "plugin", "mcp"]  # app: a web app's framework
    location: str
    sha256: str
    format: str = ""
    framework: str | None = None  # app: the framework that generated the document ("fastapi")
    title: str = ""
    api_version: str = ""


def _check_env_ref(value: str) -> str:
    if not value.startswith("env:") or len(value) <= 4:
        raise ValueError(f"credentials must be env:NAME references, not literal values: {value!r}")
    return value


def _check_credential_ref(value: str) -> str:
    """An ``env:NAME`` reference, or one to what the caller brings (``header:NAME``,
    ``caller:token``: config.yaml's per-user schemes, ``contract.auth``)."""
    if value == "caller:token" or (value.startswith("header:") and len(value) > 7):
        return value
    return _check_env_ref(value)


class AuthScheme(_Model):
    """One way to authenticate; ``credentials`` maps a role (token, username...) to ``env:NAME``
    (or, for a scheme config.yaml adds, to ``header:NAME`` / ``caller:token``)."""

    name: str
    type: Literal["bearer", "basic", "api_key", "oauth2", "openid_connect", "other"]
    location: Literal["header", "query", "cookie"] | None = None
    param_name: str | None = None
    prefix: str | None = None  # api_key in a header: sent as "<prefix> <value>"
    credentials: dict[str, str] = PField(default_factory=dict)
    description: str = ""
    http_scheme: str | None = None  # the HTTP auth scheme name (bearer, basic, digest...)
    bearer_format: str | None = None
    token_url: str | None = None  # OAuth2: where a token is obtained (first flow that says)
    scopes: list[str] = PField(default_factory=list)  # OAuth2: every scope its flows offer

    @field_validator("credentials")
    @classmethod
    def _only_references(cls, value: dict[str, str]) -> dict[str, str]:
        for ref in value.values():
            _check_credential_ref(ref)
        return value


class Auth(_Model):
    schemes: list[AuthScheme] = PField(default_factory=list)
    default: list[dict[str, list[str]]] = PField(default_factory=list)


class Database(_Model):
    """Where a SQL contract connects: a URL without its password, which comes from ``env:``."""

    url: str
    password: str | None = None  # env:NAME

    @field_validator("password")
    @classmethod
    def _only_reference(cls, value: str | None) -> str | None:
        return None if value is None else _check_env_ref(value)


class Contract(_Model):
    _index: tuple[list[Resource], dict[str, tuple[Resource, Action]]] | None = PrivateAttr(
        default=None
    )
    # several sources in one app dir (contract/sources.py): the source name ("" the unnamed
    # one) → its own contract, and each tool's source; empty for a single-source contract
    _parts: dict[str, Contract] = PrivateAttr(default_factory=dict)
    _part_of: dict[str, str] = PrivateAttr(default_factory=dict)
    version: int = SCHEMA_VERSION
    source: Source
    base_url: str | None = None
    # the source's server URLs as it declared them (variables filled in, relative ones resolved
    # against the document's URL): what a bare scheme://host:port base URL takes its path from,
    # and what a re-sync compares to tell whether a chosen base URL still applies
    servers: list[str] = PField(default_factory=list)
    database: Database | None = None
    mcp_servers: dict[str, McpServer] = PField(default_factory=dict)  # contract/mcptransport.py
    auth: Auth = PField(default_factory=Auth)
    definitions: dict[str, JsonSchema] = PField(default_factory=dict)
    resources: list[Resource] = PField(default_factory=list)

    def actions(self) -> list[Action]:
        return [a for r in self.resources for a in r.actions]

    def action(self, name: str) -> Action | None:
        found = self._lookup().get(name)
        return found[1] if found is not None else None

    def resource_of(self, name: str) -> Resource | None:
        """The resource holding the action called ``name``."""
        found = self._lookup().get(name)
        return found[0] if found is not None else None

    def find(self, name: str) -> tuple[Resource, Action] | None:
        """The action called ``name`` and the resource holding it, in one lookup."""
        return self._lookup().get(name)

    @property
    def parts(self) -> dict[str, Contract]:
        """Source name → its contract, when this one merges several (else empty)."""
        return self._parts

    def with_provenance(self, provenance: Provenance, which: Callable[[Action], bool]) -> Contract:
        """A copy whose actions ``which`` picks have ``provenance`` (doctor's verified, a URL
        map's inferred)."""
        resources = [
            r.model_copy(
                update={
                    "actions": [
                        a.model_copy(update={"provenance": provenance}) if which(a) else a
                        for a in r.actions
                    ]
                }
            )
            for r in self.resources
        ]
        return self.model_copy(update={"resources": resources})

    def source_kinds(self) -> dict[str, str]:
        """Each source's name ("" the unnamed one) → its kind; one entry when not merged."""
        if not self._parts:
            return {"": self.source.kind}
        return {name: part.source.kind for name, part in self._parts.items()}

    def part_for(self, tool: str) -> Contract:
        """The contract of ``tool``'s own source (its base URL, auth, database,
        definitions): this one unless it merges several sources."""
        name = self._part_of.get(tool)
        return self if name is None else self._parts[name]

    def _lookup(self) -> dict[str, tuple[Resource, Action]]:
        """Action name → (resource, action), built once per resources list: a call on a
        contract of thousands of tools costs a dict lookup, not a scan. Contracts are never
        changed in place (edits make copies with new lists), so the list's identity is the key."""
        cached = self._index
        if cached is not None and cached[0] is self.resources:
            return cached[1]
        index: dict[str, tuple[Resource, Action]] = {}
        for resource in self.resources:
            for action in resource.actions:
                index.setdefault(action.name, (resource, action))
        self._index = (self.resources, index)
        return index
