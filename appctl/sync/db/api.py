"""The edge of database sync: normalize the DSN, reflect, then build (pure from there on)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from appctl.errors import SourceError
from appctl.sync.db.build import DbSyncResult, build_contract
from appctl.sync.db.reflect import reflect
from appctl.sync.db.url import parse_dsn


def sync_db(
    dsn: str,
    *,
    root: Path,
    schemas: Sequence[str] = (),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    password_env: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> DbSyncResult:
    """``environ``: where a URL without a password finds one (the CLI passes os.environ)."""
    parsed = parse_dsn(dsn, root=root, password_env=password_env, environ=environ)
    try:
        reflected = reflect(parsed.connect, schemas=schemas, include=include, exclude=exclude)
    except SourceError as exc:
        unset = password_env and environ is not None and not environ.get(password_env)
        if unset and exc.message.startswith("could not connect"):
            exc.suggestion = f"{password_env} (--password-env) is not set. {exc.suggestion}"
        raise
    return build_contract(reflected, stored_url=parsed.stored, password_env=parsed.password_env)
