"""Binary answers saved for ``appctl call``: ``<app dir>/downloads/<tool>-<UTC time>.<ext>``.

The executor never puts bytes in a result's data (a model gets their type, size and sha256);
the bytes travel beside it (``ToolResult.payload``) and only this edge writes them: a new
file (never one that exists), readable by its owner only, in a folder git ignores.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mimetypes

FOLDER = "downloads"
UNKNOWN_EXTENSION = ".bin"


@cache
def _types() -> mimetypes.MimeTypes:
    import mimetypes

    return mimetypes.MimeTypes()  # Python's own table only: the same on every machine


def extension(content_type: str) -> str:
    """The usual file extension of a media type (``.bin`` when there is none)."""
    found = _types().guess_extension(content_type.split(";")[0].strip().lower())
    return found or UNKNOWN_EXTENSION


def save(app_dir: Path, tool: str, content_type: str, payload: bytes) -> Path:
    """Write ``payload`` to a new file (mode 0600) under the app dir; its path."""
    folder = app_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", tool)[:64] or "result"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = extension(content_type)
    for attempt in range(1000):
        name = f"{stem}-{stamp}{f'-{attempt}' if attempt else ''}{suffix}"
        path = folder / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        return path
    raise FileExistsError(f"no free file name for {stem}-{stamp}{suffix} in {folder}")
