"""``sync.sources.Supabase``'s build: fetch the project's PostgREST OpenAPI document and turn
it into the contract (``sync/postgrest.py``).

The document is at ``<project URL>/rest/v1/`` and is read with the key the calls will use
(``apikey`` header and bearer). The contract never holds a key: its auth schemes are
``env:`` references, ``apikey`` (the project key) and ``bearer`` (a user's JWT when one is
configured, so that row-level security sees that user; else the project key). A key whose
role is ``service_role`` (a legacy JWT) or that is a secret key (``sb_secret_...``) bypasses
row-level security: it is refused unless ``allow_service_key`` says it is meant.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from appctl.errors import SourceError, UsageError
from appctl.sync.source import BuildContext, Built

if TYPE_CHECKING:
    from appctl.sync.sources import Supabase

REST_PATH = "/rest/v1"
MAX_BYTES = 32 * 1024 * 1024
TIMEOUT = 30.0


def rest_url(url: str) -> str:
    """``https://ref.supabase.co`` (or .../rest/v1, with or without a slash) → the REST
    root ``https://ref.supabase.co/rest/v1``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--supabase takes the project's URL, such as https://abcd.supabase.co, not {url!r}",
            suggestion="Copy it from the project's API settings.",
        )
    if parts.username or parts.password:
        raise UsageError(
            "the --supabase URL carries a user name or password; keys come from env: only",
            suggestion="Drop them from the URL and give --key-env NAME.",
        )
    path = parts.path.rstrip("/")
    if not path.endswith(REST_PATH):
        path += REST_PATH
    return parts._replace(path=path, query="", fragment="").geturl()


def service_role(key: str) -> bool:
    """Whether a Supabase key bypasses row-level security: a secret key, or a legacy JWT
    whose ``role`` claim is ``service_role`` (read, not verified: only the server can)."""
    if key.startswith("sb_secret_"):
        return True
    segments = key.split(".")
    if len(segments) != 3:
        return False
    try:
        padded = segments[1] + "=" * (-len(segments[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        return False
    return isinstance(claims, dict) and claims.get("role") == "service_role"


def _key(source: Supabase, environ: Mapping[str, str]) -> str:
    key = environ.get(source.key_env, "")
    if not key:
        raise UsageError(
            f"{source.key_env} is not set: the project key reads the API's description",
            suggestion=f"export {source.key_env}=<the project's anon or publishable key> "
            "(Project Settings → API), or name another variable with --key-env.",
        )
    if service_role(key) and not source.allow_service_key:
        raise UsageError(
            f"{source.key_env} holds a service-role key, which bypasses row-level security",
            suggestion="Use the anon (publishable) key, and --jwt-env for a signed-in user; "
            "pass --allow-service-key only if every call is meant to bypass RLS.",
        )
    return key


def fetch(url: str, key: str) -> bytes:
    """The OpenAPI document at the REST root, read with the key."""
    import httpx

    headers = {
        "apikey": key,
        "Authorization": f"Bearer {key}",
        "Accept": "application/openapi+json, application/json",
    }
    try:
        with httpx.stream("GET", url + "/", headers=headers, timeout=TIMEOUT) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise SourceError(f"{url}/ answered more than {MAX_BYTES:,} bytes")
    except httpx.HTTPError as exc:
        raise SourceError(
            f"cannot read {url}/: {type(exc).__name__}: {exc}",
            suggestion="Check the project URL and that the project is running (not paused).",
        ) from None
    if response.status_code in (401, 403):
        raise SourceError(
            f"{url}/ refused the key: HTTP {response.status_code}",
            suggestion="Check the key in the variable --key-env names; a project may allow "
            "its API description to the service key only (then --allow-service-key).",
        )
    if response.status_code != 200:
        raise SourceError(f"{url}/ answered HTTP {response.status_code}, not the API description")
    return bytes(body)


def build(source: Supabase, context: BuildContext) -> Built:
    from appctl.sync.postgrest import Credentials, to_contract
    from appctl.sync.synced import Synced

    url = rest_url(source.url)
    environ = context.environ if context.environ is not None else {}
    key = _key(source, environ)
    data = fetch(url, key)
    try:
        document: Any = json.loads(data)
    except ValueError as exc:
        raise SourceError(f"{url}/ did not answer JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("swagger") != "2.0":
        raise SourceError(
            f"{url}/ did not answer PostgREST's OpenAPI (Swagger 2.0) document",
            suggestion="Check that the URL is a Supabase project or a PostgREST server.",
        )
    made = to_contract(
        document,
        base_url=url,
        location=source.url.strip().rstrip("/"),
        sha256=hashlib.sha256(data).hexdigest(),
        credentials=Credentials(key_env=source.key_env, jwt_env=source.jwt_env),
        include=context.include,
        exclude=context.exclude,
    )
    return Built(
        Synced(schema=made.schema),
        made.diagnostics,
        made.counted,
        made.filtered,
        "endpoint",  # tables, views and functions
    )
