"""A session's id and audit history (light: ``appctl history`` opens it without the executor)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appctl.execute.audit.history import History


def new_id(environ: Mapping[str, str]) -> str:
    """``APPCTL_SESSION``, else a fresh id."""
    return environ.get("APPCTL_SESSION") or uuid.uuid4().hex[:12]


def open_history(app_dir: Path, configured: str | None, environ: Mapping[str, str]) -> History:
    """The history APPCTL_HISTORY_URL, config.yaml's ``history.url`` or ``.appctl/history.db``
    names. Every call is recorded there, so a history that cannot be opened stops the
    command: a usage error naming the URL (never its password) and what went wrong."""
    from appctl.errors import UsageError, first_line
    from appctl.execute.audit.history import History, history_url
    from appctl.sync.db.url import hide_password

    url = history_url(app_dir, configured, environ)
    try:
        return History(url)
    except Exception as exc:  # any driver's or dialect's error, said in one line
        raise UsageError(
            f"the audit history {hide_password(url)} cannot be used: {first_line(exc)}",
            suggestion="Fix history.url in .appctl/config.yaml (or APPCTL_HISTORY_URL), or "
            "make the folder of the history file writable; appctl records every call there.",
        ) from None
