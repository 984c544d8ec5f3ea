"""The contract's enumerations (verb, safety, provenance, argument location), apart from the
pydantic models that use them so that code reading a contract's plain form (the database
sync's fast lane, the tool generator) need not import pydantic."""

from __future__ import annotations

from enum import StrEnum


class Verb(StrEnum):
    LIST = "list"
    GET = "get"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    CUSTOM = "custom"


class Safety(StrEnum):
    READ_ONLY = "read_only"
    MUTATING = "mutating"
    DESTRUCTIVE = "destructive"


class Provenance(StrEnum):
    DECLARED = "declared"
    INFERRED = "inferred"
    VERIFIED = "verified"


class Location(StrEnum):
    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    COOKIE = "cookie"
    BODY = "body"
    COLUMN = "column"  # SQL: a value for the column named by wire_name
    OPTION = "option"  # SQL: how to read (where, order_by, limit, offset, cursor)


SOURCE_NOUNS = {
    "openapi": "OpenAPI document",
    "db": "database schema",
    "app": "web app's own OpenAPI document",
    "supabase": "Supabase (PostgREST) API description",
    "plugin": "source plugin",
    "mcp": "MCP server's tool list",
}


def sources_noun(kinds: dict[str, str]) -> str:
    """What several named sources were compiled from, in words: ``{name: kind}`` →
    "sources: pets (OpenAPI document), db (database schema)"; one source as ``source_noun``."""
    if len(kinds) == 1:
        return source_noun(next(iter(kinds.values())))
    listed = ", ".join(f"{name or 'main'} ({source_noun(kind)})" for name, kind in kinds.items())
    return f"sources: {listed}"


def source_noun(kind: str) -> str:
    """What a contract was compiled from, in words (a model's prompt, an MCP server's
    instructions)."""
    return SOURCE_NOUNS.get(kind, "source")
