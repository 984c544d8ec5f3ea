"""The audit history a command records into, opened with a clear error when it cannot be."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appctl.execute.audit.history import History


def open_history(app_dir: Path, configured: str | None) -> History:
    """The history this command records into (``appctl.session.audit.open_history``)."""
    from appctl.session.audit import open_history as opened

    return opened(app_dir, configured, os.environ)
