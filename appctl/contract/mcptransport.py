"""An MCP server as a source: where its tools are called (``McpTransport``) and how the
server is reached (``McpServer``, kept in the contract's ``mcp_servers`` by key).

A server is a command line (stdio) or an http(s) URL (Streamable HTTP). The contract never
holds a secret: the variables a stdio server is given are listed by NAME, read at call time,
and an HTTP server's headers are ``env:NAME`` references.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import Field as PField

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class McpTransport(BaseModel):
    """A call to the upstream tool ``tool`` on the server ``server`` (a key into the
    contract's ``mcp_servers``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["mcp"] = "mcp"
    server: str
    tool: str


class McpServer(BaseModel):
    """How to reach one MCP server: ``command`` + ``args`` (stdio), or ``url``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    command: str | None = None
    args: list[str] = PField(default_factory=list)
    url: str | None = None
    # stdio: the variables passed on to the server (besides PATH, HOME, LANG), by name
    env: list[str] = PField(default_factory=list)
    # http: header name → env:NAME, sent with every request (Authorization: a bearer token)
    headers: dict[str, str] = PField(default_factory=dict)
    bearer: str | None = None  # http: env:NAME of a token sent as "Authorization: Bearer"

    @field_validator("env")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(_ENV_NAME, name):
                raise ValueError(f"env lists variable NAMES, not {name!r}")
        return value

    @field_validator("headers")
    @classmethod
    def _references(cls, value: dict[str, str]) -> dict[str, str]:
        for header, ref in value.items():
            if not ref.startswith("env:") or len(ref) <= 4:
                raise ValueError(
                    f"header {header} must be an env:NAME reference, not a literal value"
                )
        return value

    @field_validator("bearer")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("env:") or len(value) <= 4):
            raise ValueError("bearer must be an env:NAME reference, not a literal token")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> McpServer:
        if (self.command is None) == (self.url is None):
            raise ValueError("an MCP server has either a command or a url")
        return self

    @property
    def where(self) -> str:
        """The command line or the URL, for messages."""
        if self.url is not None:
            return self.url
        import shlex

        return shlex.join([self.command or "", *self.args])
